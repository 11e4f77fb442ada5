/**
 * The decision of twin commands (src/things/decide.ts) from tables, without HTTP or a store: each command kind
 * on an existing, a deleted and an absent thing, for requesters with full, partial, read-only and no
 * permissions, with If-Match / If-None-Match, conditions and if-equal, at the thing and at sub-resources.
 * Each row states the exact outcome: the next state, the event and the response, the creation to prepare, or
 * the error code (with the ETag a failed precondition reports).
 */
import { describe, expect, it } from 'vitest';
import type { AuthContext } from '../../../src/auth/context.js';
import { DittoError } from '../../../src/errors/ditto-error.js';
import type { ThingCommand, ThingCommandAction } from '../../../src/model/signals.js';
import type { ThingJson } from '../../../src/model/thing.js';
import { createEnforcer } from '../../../src/policies/enforcer.js';
import type { Permission, Policy, PolicyEntry } from '../../../src/policies/model.js';
import { createConditionEvaluator } from '../../../src/search/condition.js';
import type { EntityRecord } from '../../../src/store/port.js';
import {
  decide,
  decideCreation,
  type Creation,
  type DecideRules,
  type ThingRecord,
} from '../../../src/things/decide.js';
import { hashTag } from '../../../src/util/etag.js';

const OWNER = 'test:owner';
const READER = 'test:reader';
/** READ on the thing, WRITE on the attributes except `locked`. */
const ATTR = 'test:attr';
/** READ and WRITE on the lamp's properties only (READ on the lamp). */
const LAMP = 'test:lamp';
const STRANGER = 'test:stranger';

function entry(
  subject: string,
  resources: Record<string, { grant?: Permission[]; revoke?: Permission[] }>,
): PolicyEntry {
  return {
    subjects: { [subject]: { type: 'test' } },
    resources: Object.fromEntries(
      Object.entries(resources).map(([k, v]) => [k, { grant: v.grant ?? [], revoke: v.revoke ?? [] }]),
    ),
  };
}

const POLICY: Policy = {
  policyId: 'ns:p',
  entries: {
    owner: entry(OWNER, {
      'thing:/': { grant: ['READ', 'WRITE'] },
      'policy:/': { grant: ['READ', 'WRITE'] },
    }),
    reader: entry(READER, { 'thing:/': { grant: ['READ'] } }),
    attr: entry(ATTR, {
      'thing:/': { grant: ['READ'] },
      'thing:/attributes': { grant: ['WRITE'] },
      'thing:/attributes/locked': { revoke: ['WRITE'] },
    }),
    lamp: entry(LAMP, {
      'thing:/features/lamp': { grant: ['READ'] },
      'thing:/features/lamp/properties': { grant: ['WRITE'] },
    }),
  },
};
const ENFORCER = createEnforcer(POLICY, { now: '2030-01-01T00:00:00Z' });
const POLICY_RECORD: EntityRecord = {
  kind: 'policy',
  id: 'ns:p',
  revision: 2,
  created: '2025-12-01T00:00:00.000Z',
  modified: '2025-12-01T00:00:00.000Z',
  value: POLICY,
};
const RULES: DecideRules = { evaluateCondition: createConditionEvaluator() };

const THING = {
  thingId: 'ns:t',
  policyId: 'ns:p',
  definition: 'ns:model:1.0.0',
  attributes: { a: 1, loc: { city: 'Berlin' }, locked: 'x' },
  features: {
    lamp: {
      definition: ['ns:lamp:1.0.0'],
      properties: { on: false, level: 3 },
      desiredProperties: { on: true },
    },
  },
} satisfies ThingJson;
const EXISTING: ThingRecord = {
  kind: 'thing',
  id: 'ns:t',
  revision: 5,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-02T00:00:00.000Z',
  value: THING,
};
const DELETED: ThingRecord = { ...EXISTING, revision: 6, value: null };

/** THING changed by `edit` (a deep copy). */
function thingWith(edit: (t: any) => void): ThingJson {
  const t = structuredClone(THING);
  edit(t);
  return t;
}

interface Row {
  name: string;
  /** Default: the existing thing. */
  state?: 'existing' | 'deleted' | 'absent';
  /** Default: OWNER. */
  as?: string;
  action: ThingCommandAction;
  path: string;
  value?: unknown;
  headers?: Record<string, string>;
  fields?: string;
  /** The thing's policy is passed (for `_policy` reads). */
  withPolicy?: boolean;
  expected: Outcome;
}

type Outcome =
  | { error: string; status: number; etag?: string }
  | {
      status: number;
      value?: unknown;
      etag?: string;
      next?: ThingJson | null;
      event?: { action: string; value?: unknown };
      movesTo?: string;
    }
  | { creation: Omit<Creation, 'kind'> };

const REV5 = '"rev:5"';
const REV6 = '"rev:6"';

function commandOf(row: Pick<Row, 'action' | 'path' | 'value' | 'headers' | 'fields'>): ThingCommand {
  const command: ThingCommand = {
    thingId: 'ns:t',
    channel: 'twin',
    action: row.action,
    path: row.path,
    headers: { 'correlation-id': 'c-1', ...row.headers },
  };
  if (row.value !== undefined) command.value = row.value;
  if (row.fields !== undefined) command.fields = row.fields;
  return command;
}

function recordOf(state: Row['state']): ThingRecord | undefined {
  return state === 'absent' ? undefined : state === 'deleted' ? DELETED : EXISTING;
}

function outcomeOf(run: () => ReturnType<typeof decide>): Outcome {
  try {
    const decision = run();
    if (decision.kind === 'creation') {
      const { kind: _kind, ...creation } = decision;
      return { creation };
    }
    const { response } = decision;
    // Every response answers the command it decided, with its correlation-id.
    expect(response).toMatchObject({ thingId: 'ns:t', channel: 'twin', path: expect.any(String) });
    expect(response.headers['correlation-id']).toBe('c-1');
    const outcome: Outcome = { status: response.status, value: response.value, etag: response.headers.etag };
    if (decision.kind === 'change')
      return { ...outcome, next: decision.next, event: decision.event, movesTo: decision.movesTo };
    return outcome;
  } catch (err) {
    if (!(err instanceof DittoError)) throw err;
    return { error: err.error, status: err.status, etag: err.headers?.etag };
  }
}

function run(row: Row): Outcome {
  const auth: AuthContext = { subjects: [row.as ?? OWNER] };
  const state = { record: recordOf(row.state), policy: row.withPolicy ? POLICY_RECORD : undefined };
  return outcomeOf(() => decide(state, commandOf(row), ENFORCER, auth, RULES));
}

const notFound = { error: 'things:thing.notfound', status: 404 };
const e = (error: string, status: number, etag?: string) => ({ error, status, etag });

// ------------------------------------------------------------------------------------------------ retrieve

const retrieves: Row[] = [
  {
    name: 'the whole thing',
    action: 'retrieve',
    path: '/',
    expected: { status: 200, value: THING, etag: REV5 },
  },
  {
    name: 'an attribute, with the hash of its value as ETag',
    action: 'retrieve',
    path: '/attributes/a',
    expected: { status: 200, value: 1, etag: hashTag(1) },
  },
  {
    name: 'a nested attribute',
    action: 'retrieve',
    path: '/attributes/loc/city',
    expected: { status: 200, value: 'Berlin', etag: hashTag('Berlin') },
  },
  {
    name: 'a feature property',
    action: 'retrieve',
    path: '/features/lamp/properties/on',
    expected: { status: 200, value: false, etag: hashTag(false) },
  },
  {
    name: 'the policyId',
    action: 'retrieve',
    path: '/policyId',
    expected: { status: 200, value: 'ns:p', etag: hashTag('ns:p') },
  },
  {
    name: 'a missing attribute',
    action: 'retrieve',
    path: '/attributes/missing',
    expected: e('things:attribute.notfound', 404),
  },
  {
    name: 'a missing feature',
    action: 'retrieve',
    path: '/features/ghost',
    expected: e('things:feature.notfound', 404),
  },
  {
    name: 'a missing property',
    action: 'retrieve',
    path: '/features/lamp/properties/ghost',
    expected: e('things:feature.property.notfound', 404),
  },
  { name: 'a deleted thing', state: 'deleted', action: 'retrieve', path: '/', expected: notFound },
  { name: 'an absent thing', state: 'absent', action: 'retrieve', path: '/attributes/a', expected: notFound },
  {
    name: 'by a stranger: the thing is not found',
    as: STRANGER,
    action: 'retrieve',
    path: '/',
    expected: notFound,
  },
  {
    name: 'of an attribute by a stranger: the thing is not found',
    as: STRANGER,
    action: 'retrieve',
    path: '/attributes/a',
    expected: notFound,
  },
  {
    name: 'by a reader',
    as: READER,
    action: 'retrieve',
    path: '/',
    expected: { status: 200, value: THING, etag: REV5 },
  },
  {
    name: 'by a requester who may read one feature: pruned to it and the thingId',
    as: LAMP,
    action: 'retrieve',
    path: '/',
    expected: {
      status: 200,
      value: { thingId: 'ns:t', features: { lamp: THING.features.lamp } },
      etag: REV5,
    },
  },
  {
    name: 'of attributes a requester may not read: not found at that level',
    as: LAMP,
    action: 'retrieve',
    path: '/attributes',
    expected: e('things:attributes.notfound', 404),
  },
  {
    name: 'with a matching If-Match',
    action: 'retrieve',
    path: '/',
    headers: { 'if-match': REV5 },
    expected: { status: 200, value: THING, etag: REV5 },
  },
  {
    name: 'with If-Match *',
    action: 'retrieve',
    path: '/',
    headers: { 'if-match': '*' },
    expected: { status: 200, value: THING, etag: REV5 },
  },
  {
    name: 'with a stale If-Match: 412 with the current ETag',
    action: 'retrieve',
    path: '/',
    headers: { 'if-match': '"rev:4"' },
    expected: e('things:precondition.failed', 412, REV5),
  },
  {
    name: 'with a matching If-None-Match: 304',
    action: 'retrieve',
    path: '/',
    headers: { 'if-none-match': REV5 },
    expected: e('things:precondition.notmodified', 304, REV5),
  },
  {
    name: 'with If-None-Match *: 304',
    action: 'retrieve',
    path: '/',
    headers: { 'if-none-match': '*' },
    expected: e('things:precondition.notmodified', 304, REV5),
  },
  {
    name: 'with an If-None-Match of another revision',
    action: 'retrieve',
    path: '/',
    headers: { 'if-none-match': '"rev:4"' },
    expected: { status: 200, value: THING, etag: REV5 },
  },
  {
    name: 'of an attribute with If-Match of its hash',
    action: 'retrieve',
    path: '/attributes/a',
    headers: { 'if-match': hashTag(1) },
    expected: { status: 200, value: 1, etag: hashTag(1) },
  },
  {
    name: 'of an attribute with If-Match of the revision: 412',
    action: 'retrieve',
    path: '/attributes/a',
    headers: { 'if-match': REV5 },
    expected: e('things:precondition.failed', 412, hashTag(1)),
  },
  {
    name: 'a precondition is not checked before a stranger is refused',
    as: STRANGER,
    action: 'retrieve',
    path: '/',
    headers: { 'if-match': '"rev:4"' },
    expected: notFound,
  },
  {
    name: 'with a condition that holds',
    action: 'retrieve',
    path: '/attributes/a',
    headers: { condition: 'eq(attributes/a,1)' },
    expected: { status: 200, value: 1, etag: hashTag(1) },
  },
  {
    name: 'with a condition that fails: 412',
    action: 'retrieve',
    path: '/attributes/a',
    headers: { condition: 'eq(attributes/a,2)' },
    expected: e('things:condition.failed', 412),
  },
  {
    name: 'with a condition on special fields',
    action: 'retrieve',
    path: '/attributes/a',
    headers: { condition: 'eq(_revision,5)' },
    expected: { status: 200, value: 1, etag: hashTag(1) },
  },
  {
    name: 'with a condition on a value the requester may not read: evaluated on its view, fails',
    as: LAMP,
    action: 'retrieve',
    path: '/features/lamp',
    headers: { condition: 'eq(attributes/a,1)' },
    expected: e('things:condition.failed', 412),
  },
  {
    name: 'with an invalid condition: 400',
    action: 'retrieve',
    path: '/',
    headers: { condition: 'eq(attributes/a' },
    expected: e('things:condition.invalid', 400),
  },
  {
    name: 'with fields, including special fields',
    action: 'retrieve',
    path: '/',
    fields: 'attributes/a,_revision,_namespace,_created,_modified',
    expected: {
      status: 200,
      value: {
        attributes: { a: 1 },
        _revision: 5,
        _namespace: 'ns',
        _created: EXISTING.created,
        _modified: EXISTING.modified,
      },
      etag: REV5,
    },
  },
  {
    name: 'with fields of a feature',
    action: 'retrieve',
    path: '/features/lamp',
    fields: 'properties/on',
    expected: { status: 200, value: { properties: { on: false } }, etag: hashTag(THING.features.lamp) },
  },
  {
    name: 'with fields=_policy: the policy as the requester may read it',
    action: 'retrieve',
    path: '/',
    fields: 'thingId,_policy',
    withPolicy: true,
    expected: { status: 200, value: { thingId: 'ns:t', _policy: POLICY }, etag: REV5 },
  },
  {
    name: 'with fields=_policy by a requester who may not read the policy: omitted',
    as: READER,
    action: 'retrieve',
    path: '/',
    fields: '_policy',
    withPolicy: true,
    expected: { status: 200, value: {}, etag: REV5 },
  },
  {
    name: 'with fields=_policy, preconditions are not checked',
    action: 'retrieve',
    path: '/',
    fields: '_policy',
    withPolicy: true,
    headers: { 'if-none-match': '*' },
    expected: { status: 200, value: { _policy: POLICY }, etag: REV5 },
  },
  {
    name: 'with fields=_policy, a failing condition still fails',
    action: 'retrieve',
    path: '/',
    fields: '_policy',
    withPolicy: true,
    headers: { condition: 'eq(attributes/a,2)' },
    expected: e('things:condition.failed', 412),
  },
];

// ------------------------------------------------------------------------------------------------- modify

const modifies: Row[] = [
  {
    name: 'an attribute',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    expected: {
      status: 204,
      etag: hashTag(2),
      next: thingWith((t) => (t.attributes.a = 2)),
      event: { action: 'modified', value: 2 },
    },
  },
  {
    name: 'a new attribute: 201 with the value',
    action: 'modify',
    path: '/attributes/b',
    value: 'v',
    expected: {
      status: 201,
      value: 'v',
      etag: hashTag('v'),
      next: thingWith((t) => (t.attributes.b = 'v')),
      event: { action: 'created', value: 'v' },
    },
  },
  {
    name: 'an attribute below a missing one: created on the way',
    action: 'modify',
    path: '/attributes/deep/x',
    value: 1,
    expected: {
      status: 201,
      value: 1,
      etag: hashTag(1),
      next: thingWith((t) => (t.attributes.deep = { x: 1 })),
      event: { action: 'created', value: 1 },
    },
  },
  {
    name: 'a feature property',
    action: 'modify',
    path: '/features/lamp/properties/on',
    value: true,
    expected: {
      status: 204,
      etag: hashTag(true),
      next: thingWith((t) => (t.features.lamp.properties.on = true)),
      event: { action: 'modified', value: true },
    },
  },
  {
    name: 'a property of a missing feature: the feature is not found',
    action: 'modify',
    path: '/features/ghost/properties/on',
    value: true,
    expected: e('things:feature.notfound', 404),
  },
  {
    name: 'a new feature',
    action: 'modify',
    path: '/features/fan',
    value: { properties: { rpm: 0 } },
    expected: {
      status: 201,
      value: { properties: { rpm: 0 } },
      etag: hashTag({ properties: { rpm: 0 } }),
      next: thingWith((t) => (t.features.fan = { properties: { rpm: 0 } })),
      event: { action: 'created', value: { properties: { rpm: 0 } } },
    },
  },
  {
    name: 'the whole thing: thingId and policyId kept, the revision as ETag',
    action: 'modify',
    path: '/',
    value: { attributes: { b: 1 } },
    expected: {
      status: 204,
      etag: REV6,
      next: { thingId: 'ns:t', policyId: 'ns:p', attributes: { b: 1 } },
      event: { action: 'modified', value: { thingId: 'ns:t', policyId: 'ns:p', attributes: { b: 1 } } },
    },
  },
  {
    name: 'the whole thing under another policy: a move the requester must be allowed',
    action: 'modify',
    path: '/',
    value: { policyId: 'ns:q' },
    expected: {
      status: 204,
      etag: REV6,
      next: { thingId: 'ns:t', policyId: 'ns:q' },
      event: { action: 'modified', value: { thingId: 'ns:t', policyId: 'ns:q' } },
      movesTo: 'ns:q',
    },
  },
  {
    name: 'the policyId: a move',
    action: 'modify',
    path: '/policyId',
    value: 'ns:q',
    expected: {
      status: 204,
      etag: hashTag('ns:q'),
      next: thingWith((t) => (t.policyId = 'ns:q')),
      event: { action: 'modified', value: 'ns:q' },
      movesTo: 'ns:q',
    },
  },
  {
    name: 'the policyId to the same policy: no move',
    action: 'modify',
    path: '/policyId',
    value: 'ns:p',
    expected: {
      status: 204,
      etag: hashTag('ns:p'),
      next: THING,
      event: { action: 'modified', value: 'ns:p' },
    },
  },
  {
    name: 'the policyId to a non-ID',
    action: 'modify',
    path: '/policyId',
    value: 5,
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'the thingId',
    action: 'modify',
    path: '/thingId',
    value: 'ns:other',
    expected: e('things:id.notsettable', 400),
  },
  {
    name: 'the whole thing with another thingId',
    action: 'modify',
    path: '/',
    value: { thingId: 'ns:other' },
    expected: e('things:id.notsettable', 400),
  },
  {
    name: 'the whole thing with _policy',
    action: 'modify',
    path: '/',
    value: { _policy: POLICY },
    expected: e('things:policy.notallowed', 400),
  },
  {
    name: 'the whole thing with _copyPolicyFrom',
    action: 'modify',
    path: '/',
    value: { _copyPolicyFrom: 'ns:q' },
    expected: e('things:policy.notallowed', 400),
  },
  {
    name: 'the whole thing with a non-object',
    action: 'modify',
    path: '/',
    value: [1],
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'the definition with an invalid identifier',
    action: 'modify',
    path: '/definition',
    value: 'not a definition',
    expected: e('things:definition.identifier.invalid', 400),
  },
  {
    name: 'the attributes with a non-object',
    action: 'modify',
    path: '/attributes',
    value: 'x',
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'create of an existing thing: 409',
    action: 'create',
    path: '/',
    value: {},
    expected: e('things:thing.conflict', 409),
  },
  // permissions
  {
    name: 'an attribute by a reader: 403 at that level',
    as: READER,
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    expected: e('things:attribute.notmodifiable', 403),
  },
  {
    name: 'the whole thing by a reader: 403',
    as: READER,
    action: 'modify',
    path: '/',
    value: {},
    expected: e('things:thing.notmodifiable', 403),
  },
  {
    name: 'an attribute by a stranger: 404',
    as: STRANGER,
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    expected: notFound,
  },
  {
    name: 'an attribute by an attribute writer',
    as: ATTR,
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    expected: {
      status: 204,
      etag: hashTag(2),
      next: thingWith((t) => (t.attributes.a = 2)),
      event: { action: 'modified', value: 2 },
    },
  },
  {
    name: 'a revoked attribute by an attribute writer: 403',
    as: ATTR,
    action: 'modify',
    path: '/attributes/locked',
    value: 'y',
    expected: e('things:attribute.notmodifiable', 403),
  },
  {
    name: 'a property by an attribute writer: 403',
    as: ATTR,
    action: 'modify',
    path: '/features/lamp/properties/on',
    value: true,
    expected: e('things:feature.property.notmodifiable', 403),
  },
  {
    name: 'a property by a requester who may write only it',
    as: LAMP,
    action: 'modify',
    path: '/features/lamp/properties/on',
    value: true,
    expected: {
      status: 204,
      etag: hashTag(true),
      next: thingWith((t) => (t.features.lamp.properties.on = true)),
      event: { action: 'modified', value: true },
    },
  },
  {
    name: 'an attribute by a requester who sees only a feature: 403, not 404',
    as: LAMP,
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    expected: e('things:attribute.notmodifiable', 403),
  },
  // preconditions
  {
    name: 'the whole thing with a matching If-Match',
    action: 'modify',
    path: '/',
    value: {},
    headers: { 'if-match': REV5 },
    expected: {
      status: 204,
      etag: REV6,
      next: { thingId: 'ns:t', policyId: 'ns:p' },
      event: { action: 'modified', value: { thingId: 'ns:t', policyId: 'ns:p' } },
    },
  },
  {
    name: 'the whole thing with a stale If-Match: 412',
    action: 'modify',
    path: '/',
    value: {},
    headers: { 'if-match': '"rev:4"' },
    expected: e('things:precondition.failed', 412, REV5),
  },
  {
    name: 'an attribute with If-Match of its hash',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { 'if-match': hashTag(1) },
    expected: {
      status: 204,
      etag: hashTag(2),
      next: thingWith((t) => (t.attributes.a = 2)),
      event: { action: 'modified', value: 2 },
    },
  },
  {
    name: 'an attribute with If-Match of the revision: 412',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { 'if-match': REV5 },
    expected: e('things:precondition.failed', 412, hashTag(1)),
  },
  {
    name: 'a missing attribute with If-Match *: 412',
    action: 'modify',
    path: '/attributes/b',
    value: 2,
    headers: { 'if-match': '*' },
    expected: e('things:precondition.failed', 412),
  },
  {
    name: 'a missing attribute with If-None-Match *',
    action: 'modify',
    path: '/attributes/b',
    value: 2,
    headers: { 'if-none-match': '*' },
    expected: {
      status: 201,
      value: 2,
      etag: hashTag(2),
      next: thingWith((t) => (t.attributes.b = 2)),
      event: { action: 'created', value: 2 },
    },
  },
  {
    name: 'an existing attribute with If-None-Match *: 412 (a write, not 304)',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { 'if-none-match': '*' },
    expected: e('things:precondition.failed', 412, hashTag(1)),
  },
  // conditions
  {
    name: 'an attribute under a condition that holds',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { condition: 'eq(attributes/a,1)' },
    expected: {
      status: 204,
      etag: hashTag(2),
      next: thingWith((t) => (t.attributes.a = 2)),
      event: { action: 'modified', value: 2 },
    },
  },
  {
    name: 'an attribute under a condition that fails: 412',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { condition: 'gt(attributes/a,1)' },
    expected: e('things:condition.failed', 412),
  },
  {
    name: 'under a condition, by a stranger: 404 (the condition is not evaluated)',
    as: STRANGER,
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { condition: 'eq(attributes/a,2)' },
    expected: notFound,
  },
  {
    name: 'under a condition on a value the requester may not read: it fails',
    as: LAMP,
    action: 'modify',
    path: '/features/lamp/properties/on',
    value: true,
    headers: { condition: 'eq(attributes/a,1)' },
    expected: e('things:condition.failed', 412),
  },
  // if-equal
  {
    name: 'an attribute to its value with if-equal: skip: 412, no change',
    action: 'modify',
    path: '/attributes/a',
    value: 1,
    headers: { 'if-equal': 'skip' },
    expected: e('things:precondition.failed', 412),
  },
  {
    name: 'an attribute to its value: a change all the same',
    action: 'modify',
    path: '/attributes/a',
    value: 1,
    expected: { status: 204, etag: hashTag(1), next: THING, event: { action: 'modified', value: 1 } },
  },
  {
    name: 'an attribute to its value with if-equal: update',
    action: 'modify',
    path: '/attributes/a',
    value: 1,
    headers: { 'if-equal': 'update' },
    expected: { status: 204, etag: hashTag(1), next: THING, event: { action: 'modified', value: 1 } },
  },
  {
    name: 'a new attribute with if-equal: skip',
    action: 'modify',
    path: '/attributes/b',
    value: 1,
    headers: { 'if-equal': 'skip' },
    expected: {
      status: 201,
      value: 1,
      etag: hashTag(1),
      next: thingWith((t) => (t.attributes.b = 1)),
      event: { action: 'created', value: 1 },
    },
  },
  {
    name: 'with an unknown if-equal: 400',
    action: 'modify',
    path: '/attributes/a',
    value: 2,
    headers: { 'if-equal': 'sometimes' },
    expected: e('header.invalid', 400),
  },
];

// -------------------------------------------------------------------------------------------------- merge

const merges: Row[] = [
  {
    name: 'attributes: the patch is the event',
    action: 'merge',
    path: '/attributes',
    value: { b: 2 },
    expected: {
      status: 204,
      etag: hashTag({ ...THING.attributes, b: 2 }),
      next: thingWith((t) => (t.attributes.b = 2)),
      event: { action: 'merged', value: { b: 2 } },
    },
  },
  {
    name: 'attributes, deleting one with null',
    action: 'merge',
    path: '/attributes',
    value: { loc: null },
    expected: {
      status: 204,
      etag: hashTag({ a: 1, locked: 'x' }),
      next: thingWith((t) => delete t.attributes.loc),
      event: { action: 'merged', value: { loc: null } },
    },
  },
  {
    name: 'an attribute to null: deleted',
    action: 'merge',
    path: '/attributes/a',
    value: null,
    expected: {
      status: 204,
      etag: hashTag(undefined),
      next: thingWith((t) => delete t.attributes.a),
      event: { action: 'merged', value: null },
    },
  },
  {
    name: 'the whole thing',
    action: 'merge',
    path: '/',
    value: { attributes: { a: 3 } },
    expected: {
      status: 204,
      etag: REV6,
      next: thingWith((t) => (t.attributes.a = 3)),
      event: { action: 'merged', value: { attributes: { a: 3 } } },
    },
  },
  {
    name: 'the whole thing to another policy: a move',
    action: 'merge',
    path: '/',
    value: { policyId: 'ns:q' },
    expected: {
      status: 204,
      etag: REV6,
      next: thingWith((t) => (t.policyId = 'ns:q')),
      event: { action: 'merged', value: { policyId: 'ns:q' } },
      movesTo: 'ns:q',
    },
  },
  {
    name: 'the whole thing with a non-object',
    action: 'merge',
    path: '/',
    value: 'x',
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'the whole thing deleting its policyId',
    action: 'merge',
    path: '/',
    value: { policyId: null },
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'the policyId to null',
    action: 'merge',
    path: '/policyId',
    value: null,
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'the whole thing with another thingId',
    action: 'merge',
    path: '/',
    value: { thingId: 'ns:other' },
    expected: e('things:id.notsettable', 400),
  },
  {
    name: 'the properties of a missing feature',
    action: 'merge',
    path: '/features/ghost/properties',
    value: { x: 1 },
    expected: e('things:feature.notfound', 404),
  },
  {
    name: 'the whole thing touching only attributes, by an attribute writer',
    as: ATTR,
    action: 'merge',
    path: '/',
    value: { attributes: { a: 2 } },
    expected: {
      status: 204,
      etag: REV6,
      next: thingWith((t) => (t.attributes.a = 2)),
      event: { action: 'merged', value: { attributes: { a: 2 } } },
    },
  },
  {
    name: 'the whole thing touching a revoked attribute: 403',
    as: ATTR,
    action: 'merge',
    path: '/',
    value: { attributes: { locked: 'y' } },
    expected: e('things:thing.notmodifiable', 403),
  },
  {
    name: 'the whole thing touching a feature too: 403',
    as: ATTR,
    action: 'merge',
    path: '/',
    value: { attributes: { a: 2 }, features: { lamp: null } },
    expected: e('things:thing.notmodifiable', 403),
  },
  {
    name: 'attributes by a reader: 403 at that level',
    as: READER,
    action: 'merge',
    path: '/attributes',
    value: { b: 1 },
    expected: e('things:attributes.notmodifiable', 403),
  },
  {
    name: 'attributes by a stranger: 404',
    as: STRANGER,
    action: 'merge',
    path: '/attributes',
    value: { b: 1 },
    expected: notFound,
  },
  {
    name: 'attributes that change nothing with if-equal: skip: 412',
    action: 'merge',
    path: '/attributes',
    value: { a: 1 },
    headers: { 'if-equal': 'skip' },
    expected: e('things:precondition.failed', 412),
  },
  {
    name: 'with if-equal: skip-minimizing-merge: the event holds only what changed',
    action: 'merge',
    path: '/attributes',
    value: { a: 2, loc: { city: 'Berlin' } },
    headers: { 'if-equal': 'skip-minimizing-merge' },
    expected: {
      status: 204,
      etag: hashTag({ ...THING.attributes, a: 2 }),
      next: thingWith((t) => (t.attributes.a = 2)),
      event: { action: 'merged', value: { a: 2 } },
    },
  },
  {
    name: 'with a stale If-Match: 412',
    action: 'merge',
    path: '/',
    value: { attributes: { a: 3 } },
    headers: { 'if-match': '"rev:1"' },
    expected: e('things:precondition.failed', 412, REV5),
  },
  {
    name: 'under a condition that fails: 412',
    action: 'merge',
    path: '/attributes',
    value: { b: 1 },
    headers: { condition: 'exists(attributes/b)' },
    expected: e('things:condition.failed', 412),
  },
];

// ------------------------------------------------------------------------------------------------- delete

const deletes: Row[] = [
  {
    name: 'the whole thing: next is null, no ETag',
    action: 'delete',
    path: '/',
    expected: { status: 204, next: null, event: { action: 'deleted' } },
  },
  {
    name: 'an attribute',
    action: 'delete',
    path: '/attributes/a',
    expected: { status: 204, next: thingWith((t) => delete t.attributes.a), event: { action: 'deleted' } },
  },
  {
    name: 'a feature',
    action: 'delete',
    path: '/features/lamp',
    expected: { status: 204, next: thingWith((t) => delete t.features.lamp), event: { action: 'deleted' } },
  },
  {
    name: 'a missing attribute: 404 at that level',
    action: 'delete',
    path: '/attributes/missing',
    expected: e('things:attribute.notfound', 404),
  },
  {
    name: 'a property of a missing feature: 404 for the property',
    action: 'delete',
    path: '/features/ghost/properties/x',
    expected: e('things:feature.property.notfound', 404),
  },
  {
    name: 'the thingId: 400',
    action: 'delete',
    path: '/thingId',
    expected: e('things:id.notdeletable', 400),
  },
  {
    name: 'the policyId: 400',
    action: 'delete',
    path: '/policyId',
    expected: e('things:policyId.notdeletable', 400),
  },
  {
    name: 'the whole thing by a reader: 403 not deletable',
    as: READER,
    action: 'delete',
    path: '/',
    expected: e('things:thing.notdeletable', 403),
  },
  {
    name: 'an attribute by a reader: 403 at that level',
    as: READER,
    action: 'delete',
    path: '/attributes/a',
    expected: e('things:attribute.notmodifiable', 403),
  },
  {
    name: 'the whole thing by a stranger: 404',
    as: STRANGER,
    action: 'delete',
    path: '/',
    expected: notFound,
  },
  {
    name: 'an attribute by an attribute writer',
    as: ATTR,
    action: 'delete',
    path: '/attributes/a',
    expected: { status: 204, next: thingWith((t) => delete t.attributes.a), event: { action: 'deleted' } },
  },
  {
    name: 'the whole thing by an attribute writer: 403',
    as: ATTR,
    action: 'delete',
    path: '/',
    expected: e('things:thing.notdeletable', 403),
  },
  {
    name: 'with a matching If-Match',
    action: 'delete',
    path: '/',
    headers: { 'if-match': REV5 },
    expected: { status: 204, next: null, event: { action: 'deleted' } },
  },
  {
    name: 'with a stale If-Match: 412',
    action: 'delete',
    path: '/',
    headers: { 'if-match': '"rev:4"' },
    expected: e('things:precondition.failed', 412, REV5),
  },
  {
    name: 'under a condition that fails: 412',
    action: 'delete',
    path: '/',
    headers: { condition: 'eq(attributes/a,0)' },
    expected: e('things:condition.failed', 412),
  },
];

// ------------------------------------------------------------------------------------- absent or deleted

const creation = (thing: ThingJson, extra: Partial<Omit<Creation, 'kind' | 'thing'>> = {}) => ({
  creation: {
    thing,
    policyId: 'ns:t',
    explicitPolicyId: false,
    inlinePolicy: undefined,
    copyFrom: undefined,
    ...extra,
  },
});

const absent: Row[] = (['absent', 'deleted'] as const).flatMap((state): Row[] => [
  {
    name: `${state}: PUT creates it, under a policy of its own ID`,
    state,
    action: 'modify',
    path: '/',
    value: { attributes: { a: 1 } },
    expected: creation({ thingId: 'ns:t', attributes: { a: 1 } }),
  },
  {
    name: `${state}: create`,
    state,
    action: 'create',
    path: '/',
    value: {},
    expected: creation({ thingId: 'ns:t' }),
  },
  {
    name: `${state}: PATCH creates it from the patch applied to nothing`,
    state,
    action: 'merge',
    path: '/',
    value: { attributes: { a: 1, b: null } },
    expected: creation({ thingId: 'ns:t', attributes: { a: 1 } }),
  },
  {
    name: `${state}: with a policyId: that existing policy`,
    state,
    action: 'modify',
    path: '/',
    value: { policyId: 'ns:q' },
    expected: creation({ thingId: 'ns:t', policyId: 'ns:q' }, { policyId: 'ns:q', explicitPolicyId: true }),
  },
  {
    name: `${state}: with _policy`,
    state,
    action: 'modify',
    path: '/',
    value: { _policy: POLICY },
    expected: creation({ thingId: 'ns:t' }, { inlinePolicy: POLICY }),
  },
  {
    name: `${state}: with _copyPolicyFrom`,
    state,
    action: 'modify',
    path: '/',
    value: { _copyPolicyFrom: 'ns:src' },
    expected: creation({ thingId: 'ns:t' }, { copyFrom: 'ns:src' }),
  },
  {
    name: `${state}: with _policy and a policyId: 400`,
    state,
    action: 'modify',
    path: '/',
    value: { _policy: POLICY, policyId: 'ns:q' },
    expected: e('things:policy.id.notallowed', 400),
  },
  {
    name: `${state}: with _policy and _copyPolicyFrom: 400`,
    state,
    action: 'modify',
    path: '/',
    value: { _policy: POLICY, _copyPolicyFrom: 'ns:src' },
    expected: e('things:policy.id.notallowed', 400),
  },
  {
    name: `${state}: with another thingId: 400`,
    state,
    action: 'modify',
    path: '/',
    value: { thingId: 'ns:other' },
    expected: e('things:id.notsettable', 400),
  },
  {
    name: `${state}: with a non-object: 400`,
    state,
    action: 'modify',
    path: '/',
    value: 'x',
    expected: e('json.format.invalid', 400),
  },
  {
    name: `${state}: with an unknown field: 400`,
    state,
    action: 'modify',
    path: '/',
    value: { color: 'red' },
    expected: e('json.format.invalid', 400),
  },
  {
    name: `${state}: a sub-resource: the thing is not found`,
    state,
    action: 'modify',
    path: '/attributes/a',
    value: 1,
    expected: notFound,
  },
  { name: `${state}: delete: not found`, state, action: 'delete', path: '/', expected: notFound },
  {
    name: `${state}: with If-Match *: 412`,
    state,
    action: 'modify',
    path: '/',
    value: {},
    headers: { 'if-match': '*' },
    expected: e('things:precondition.failed', 412),
  },
  {
    name: `${state}: with If-None-Match *`,
    state,
    action: 'modify',
    path: '/',
    value: {},
    headers: { 'if-none-match': '*' },
    expected: creation({ thingId: 'ns:t' }),
  },
  {
    name: `${state}: a condition is not evaluated`,
    state,
    action: 'modify',
    path: '/',
    value: {},
    headers: { condition: 'eq(attributes/a,1)' },
    expected: creation({ thingId: 'ns:t' }),
  },
  {
    name: `${state}: by a stranger: the creation is decided with the new policy`,
    state,
    as: STRANGER,
    action: 'modify',
    path: '/',
    value: {},
    expected: creation({ thingId: 'ns:t' }),
  },
]);

const tables = {
  retrieve: retrieves,
  modify: modifies,
  merge: merges,
  delete: deletes,
  'absent and deleted things': absent,
};

describe('decide', () => {
  it('has unique row names in each table', () => {
    for (const rows of Object.values(tables)) expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  for (const [kind, rows] of Object.entries(tables)) {
    describe(kind, () => {
      it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
        expect(run(row)).toEqual(row.expected);
      });
    });
  }

  it('refuses a command without a policy to enforce as not found', () => {
    const auth = { subjects: [OWNER] };
    const state = { record: EXISTING };
    expect(
      outcomeOf(() => decide(state, commandOf({ action: 'retrieve', path: '/' }), undefined, auth, RULES)),
    ).toEqual(notFound);
    expect(
      outcomeOf(() =>
        decide(
          state,
          commandOf({ action: 'modify', path: '/attributes/a', value: 2 }),
          undefined,
          auth,
          RULES,
        ),
      ),
    ).toEqual(notFound);
  });

  it('ignores a condition without an evaluator', () => {
    const row = {
      action: 'modify',
      path: '/attributes/a',
      value: 2,
      headers: { condition: 'eq(attributes/a,0)' },
    } as const;
    expect(
      outcomeOf(() => decide({ record: EXISTING }, commandOf(row), ENFORCER, { subjects: [OWNER] }, {})),
    ).toMatchObject({ status: 204 });
  });

  it('leaves the state and the command as they were', () => {
    const before = structuredClone(EXISTING);
    const command = commandOf({ action: 'merge', path: '/', value: { attributes: { a: 9, loc: null } } });
    const commandBefore = structuredClone(command);
    decide({ record: EXISTING }, command, ENFORCER, { subjects: [OWNER] }, RULES);
    expect(EXISTING).toStrictEqual(before);
    expect(command).toStrictEqual(commandBefore);
  });
});

describe('decideCreation', () => {
  const created = { thingId: 'ns:t', policyId: 'ns:t', attributes: { a: 1 } };
  const newPolicy = createEnforcer({
    policyId: 'ns:t',
    entries: { owner: entry(OWNER, { 'thing:/': { grant: ['READ', 'WRITE'] } }) },
  });
  const plan: Creation = {
    kind: 'creation',
    thing: { thingId: 'ns:t', attributes: { a: 1 } },
    policyId: 'ns:t',
    explicitPolicyId: false,
    inlinePolicy: undefined,
    copyFrom: undefined,
  };
  const command = commandOf({ action: 'modify', path: '/', value: { attributes: { a: 1 } } });

  const rows: Array<{ name: string; record: ThingRecord | undefined; as: string; expected: Outcome }> = [
    {
      name: 'an absent thing: revision 1, 201 with the thing, thingId and policyId first',
      record: undefined,
      as: OWNER,
      expected: {
        status: 201,
        value: created,
        etag: '"rev:1"',
        next: created,
        event: { action: 'created', value: created },
      },
    },
    {
      name: 'a deleted thing: the revision counts on',
      record: DELETED,
      as: OWNER,
      expected: {
        status: 201,
        value: created,
        etag: '"rev:7"',
        next: created,
        event: { action: 'created', value: created },
      },
    },
    {
      name: 'by a requester the new policy does not let write the thing: 403',
      record: undefined,
      as: STRANGER,
      expected: e('things:thing.notmodifiable', 403),
    },
    {
      name: 'by a reader of the old policy, which no longer counts: 403',
      record: DELETED,
      as: READER,
      expected: e('things:thing.notmodifiable', 403),
    },
  ];

  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const outcome = outcomeOf(() =>
      decideCreation({ record: row.record }, command, plan, newPolicy, { subjects: [row.as] }),
    );
    expect(outcome).toEqual(row.expected);
    if ('next' in outcome) expect(Object.keys(outcome.next!)).toEqual(['thingId', 'policyId', 'attributes']);
  });
});
