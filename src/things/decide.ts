/**
 * The decision of a twin command (ditto-interfaces.md §1.2, §2.1–§2.5): what a retrieve answers and what a
 * create, modify, merge or delete does to a thing, at every path, as a pure function of the thing's state, the
 * command, the enforcer of the thing's policy and the requester. No I/O, no promises, nothing kept.
 * ThingsService brings the state (src/things/heads.ts for writes), prepares the policy of a thing being created
 * and commits what is decided (src/things/commit.ts).
 *
 * A refused command throws the DittoError it is answered with; the checks run in Ditto's order (existence,
 * preconditions, condition, permission, the value), so a request with several faults gets the first one,
 * except that a requester without any permission on the thing learns nothing (404) before the preconditions.
 */
import type { AuthContext } from '../auth/context.js';
import type { DittoError } from '../errors/ditto-error.js';
import { jsonFormatInvalid } from '../errors/general.js';
import {
  conditionFailed,
  policyIdNotAllowed,
  policyIdNotDeletable,
  policyNotAllowed,
  preconditionFailed,
  preconditionNotModified,
  resourceErrors,
  thingConflict,
  thingIdNotDeletable,
  thingIdNotSettable,
  thingNotDeletable,
  thingNotFound,
  thingNotModifiable,
} from '../errors/things.js';
import type { DittoHeaders, ThingCommand, ThingCommandResponse, ThingEvent } from '../model/signals.js';
import { withSpecialFields } from '../model/special-fields.js';
import {
  thingResourceAt,
  validateAt,
  validateThing,
  type ThingJson,
  type ThingResource,
} from '../model/thing.js';
import { revisionAfter, type EntityRecord } from '../store/port.js';
import { hashTag, revisionTag } from '../util/etag.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { deleteAt, formatPointer, getAt, isPlainObject, setAt } from '../util/json-pointer.js';
import { applyMergePatch, jsonEqual, minimizeMergePatch, touchedPaths } from '../util/merge-patch.js';
import {
  asksPreconditions,
  checkPreconditions,
  ifEqualOf,
  skippedAsEqual,
  type PreconditionErrors,
} from '../util/preconditions.js';
import type { ThingEnforcer } from './policy-directory.js';

/** A thing as stored: its JSON plus the record's revision and timestamps. */
export type ThingRecord = EntityRecord<ThingJson>;

/** What a command is decided on. */
export interface ThingState {
  /**
   * The thing's record: for a change the latest accepted one (the head), for a retrieve the durable or a
   * historical one. Undefined, or a record whose value is null (deleted), when the thing does not exist.
   */
  readonly record: ThingRecord | undefined;
  /** For a retrieve whose fields select `_policy` (§1.2): the record of the thing's policy as it is now. */
  readonly policy?: EntityRecord | undefined;
}

export interface DecideRules {
  /** Evaluates an RQL `condition` on a thing; throws a DittoError for an invalid one. Without it `condition` is not evaluated. */
  evaluateCondition?: (condition: string, thing: Record<string, unknown>) => boolean;
}

export type Decision = Retrieved | Change | Creation;

/** A retrieve: its answer. */
export interface Retrieved {
  readonly kind: 'retrieved';
  readonly response: ThingCommandResponse;
}

/** A change of the thing, answered with `response` once it is durable. */
export interface Change {
  readonly kind: 'change';
  /** The thing after the change; null: the thing is deleted. */
  readonly next: ThingJson | null;
  /** The event's action and value (the commit adds the revision, timestamp and headers). */
  readonly event: Pick<ThingEvent, 'action' | 'value'>;
  readonly response: ThingCommandResponse;
  /**
   * The existing policy the thing moves to (its policyId changes), which the requester must be allowed to
   * administer (PolicyDirectory.checkAdministrable) before the change is committed; undefined when it stays.
   */
  readonly movesTo: string | undefined;
}

/**
 * The thing does not exist and the command creates it. Its policy is prepared first (the thing's policy is
 * created with it, or an existing one is used: PolicyDirectory.prepareForThing); decideCreation then decides
 * with that policy's enforcer.
 */
export interface Creation {
  readonly kind: 'creation';
  /** The thing as the command writes it (validated; `_policy` and `_copyPolicyFrom` taken out). */
  readonly thing: ThingJson;
  /** The policy the thing will have: the policyId it names, or its thingId. */
  readonly policyId: string;
  /** Whether the command names the policyId (the policy must then exist). */
  readonly explicitPolicyId: boolean;
  /** `_policy`: the policy to create with the thing. */
  readonly inlinePolicy: unknown;
  /** `_copyPolicyFrom`: the policy to copy; a string may hold `{{ ref:things/<thingId>/policyId }}`. */
  readonly copyFrom: unknown;
}

const READ = ['READ'] as const;
const WRITE = ['WRITE'] as const;
const PRECONDITION_ERRORS: PreconditionErrors = { preconditionFailed, preconditionNotModified };

/** Decides a twin command of any kind on `state`; `enforcer` is that of the thing's policy (undefined: none). */
export function decide(
  state: ThingState,
  command: ThingCommand,
  enforcer: ThingEnforcer | undefined,
  auth: AuthContext,
  rules: DecideRules,
): Decision {
  if (command.action === 'retrieve')
    return { kind: 'retrieved', response: decideRetrieve(state, command, enforcer, auth, rules) };
  const resource = thingResourceAt(command.path);
  const record = state.record;
  if (!record?.value) return creationOf(command, resource);
  return decideChange(record, record.value, command, resource, enforcer, auth, rules);
}

/** The answer to a retrieve of `state.record`. */
export function decideRetrieve(
  state: ThingState,
  command: ThingCommand,
  enforcer: ThingEnforcer | undefined,
  auth: AuthContext,
  rules: DecideRules,
): ThingCommandResponse {
  const { thingId } = command;
  const resource = thingResourceAt(command.path);
  const record = state.record;
  if (!record?.value || !enforcer?.hasPartial('thing:/', auth.subjects, READ))
    throw thingNotFound({ thingId });
  const value = getAt(record.value, resource.segments);
  if (value === undefined) throw resourceNotFound(resource, thingId);
  const pruned = enforcer.filterReadable('thing', resource.pointer, value, auth.subjects);
  if (pruned === undefined) throw resourceNotFound(resource, thingId);
  if (selectsPolicy(command, resource)) {
    // ditto: §1.2, §2.2 `fields=_policy` (of the whole thing) is exempt from precondition checks.
    checkCondition(command.headers, record, enforcer, auth, rules);
    if (!isPlainObject(pruned)) return respond(command, 200, pruned, revisionTag(record.revision));
    const source = withSpecialFields(pruned, record);
    // ditto: §1.2 `_policy` is the thing's policy as far as the requester may READ it (omitted when nothing).
    const policy = state.policy?.value
      ? enforcer.filterReadable('policy', '/', state.policy.value, auth.subjects)
      : undefined;
    if (isPlainObject(policy)) source._policy = { policyId: state.policy!.id, ...policy };
    return respond(command, 200, applyFieldSelector(source, command.fields!), revisionTag(record.revision));
  }
  const etag = resource.kind === 'thing' ? revisionTag(record.revision) : hashTag(value);
  checkPreconditions(command.headers, etag, true, PRECONDITION_ERRORS);
  checkCondition(command.headers, record, enforcer, auth, rules);
  let result: unknown = pruned;
  if (command.fields !== undefined && isPlainObject(pruned)) {
    result = applyFieldSelector(
      resource.kind === 'thing' ? withSpecialFields(pruned, record) : pruned,
      command.fields,
    );
  }
  return respond(command, 200, result, etag);
}

/** A create, modify, merge or delete of the existing thing `thing` (the value of `record`). */
function decideChange(
  record: ThingRecord,
  thing: ThingJson,
  command: ThingCommand,
  resource: ThingResource,
  enforcer: ThingEnforcer | undefined,
  auth: AuthContext,
  rules: DecideRules,
): Change {
  const { thingId } = command;
  if (command.action === 'create') throw thingConflict({ thingId });
  const canSee = enforcer?.hasPartial('thing:/', auth.subjects, READ) ?? false;
  // A requester with no permission at all on the thing gets the 404 of a missing thing before the
  // preconditions, whose 412 would tell that it exists and its ETag (its revision).
  if (!canSee && !(enforcer?.hasPartial('thing:/', auth.subjects, WRITE) ?? false))
    throw thingNotFound({ thingId });
  const currentValue = getAt(thing, resource.segments);
  if (asksPreconditions(command.headers)) {
    const etag =
      resource.kind === 'thing'
        ? revisionTag(record.revision)
        : currentValue === undefined
          ? undefined
          : hashTag(currentValue);
    checkPreconditions(command.headers, etag, false, PRECONDITION_ERRORS);
  }
  if (enforcer && canSee) checkCondition(command.headers, record, enforcer, auth, rules);

  if (command.action === 'delete') {
    if (resource.kind === 'thingId') throw thingIdNotDeletable();
    if (resource.kind === 'policyId') throw policyIdNotDeletable();
    if (!mayWrite(enforcer, resource.pointer, auth)) throw denied(command, resource, canSee);
    if (resource.kind !== 'thing' && currentValue === undefined)
      throw levelError(resource, 'notFound', thingId);
    const next = resource.kind === 'thing' ? null : (deleteAt(thing, resource.segments) as ThingJson);
    return changeOf(
      command,
      resource.segments,
      record,
      next,
      { action: 'deleted' },
      204,
      undefined,
      undefined,
    );
  }
  if (resource.kind === 'thingId') throw thingIdNotSettable();
  requireParentFeature(resource, thing, thingId);
  let next: ThingJson;
  let event: Change['event'];
  let status: number;
  let responseValue: unknown;
  if (command.action === 'merge') {
    const patch = command.value;
    if (resource.kind === 'thing' && !isPlainObject(patch))
      throw jsonFormatInvalid({ detail: 'A merge patch of a thing must be a JSON object.' });
    for (const touched of touchedPaths(patch, resource.segments))
      if (!mayWrite(enforcer, formatPointer(touched), auth)) throw denied(command, resource, canSee);
    const merged = applyMergePatch(currentValue, patch);
    if (merged === undefined || merged === null) {
      if (resource.kind === 'thing' || resource.kind === 'policyId')
        throw jsonFormatInvalid({ detail: 'The merge would delete a required field.' });
      next = deleteAt(thing, resource.segments) as ThingJson;
    } else {
      validateAt(resource, merged);
      next = setAt(thing, resource.segments, merged) as ThingJson;
    }
    if (resource.kind === 'thing') {
      checkThingIdUnchanged(next, thingId);
      if (next.policyId === undefined)
        throw jsonFormatInvalid({ detail: 'The merge would delete a required field.' });
    }
    const ifEqual = ifEqualOf(command.headers);
    if (ifEqual !== 'update' && jsonEqual(merged, currentValue))
      throw skippedAsEqual(ifEqual, PRECONDITION_ERRORS);
    event = {
      action: 'merged',
      value: ifEqual === 'skip-minimizing-merge' ? minimizeMergePatch(currentValue, patch) : patch,
    };
    status = 204;
  } else {
    if (!mayWrite(enforcer, resource.pointer, auth)) throw denied(command, resource, canSee);
    let value = command.value;
    if (resource.kind === 'thing') {
      if (!isPlainObject(value)) throw jsonFormatInvalid({ detail: 'The thing must be a JSON object.' });
      if ('_policy' in value || '_copyPolicyFrom' in value) throw policyNotAllowed();
      checkThingIdUnchanged(value, thingId);
      value = { thingId, policyId: thing.policyId, ...value };
    }
    validateAt(resource, value);
    const ifEqual = ifEqualOf(command.headers);
    if (ifEqual !== 'update' && currentValue !== undefined && jsonEqual(value, currentValue))
      throw skippedAsEqual(ifEqual, PRECONDITION_ERRORS);
    next = setAt(thing, resource.segments, value) as ThingJson;
    const created = currentValue === undefined;
    event = { action: created ? 'created' : 'modified', value };
    status = created ? 201 : 204;
    responseValue = created ? value : undefined;
  }
  const movesTo = next.policyId !== thing.policyId ? next.policyId : undefined;
  return changeOf(command, resource.segments, record, next, event, status, responseValue, movesTo);
}

/** A command on a thing that does not exist (or was deleted): only the whole thing can be created (§1.2). */
function creationOf(command: ThingCommand, resource: ThingResource): Creation {
  const { thingId } = command;
  if (resource.kind !== 'thing' || command.action === 'delete') throw thingNotFound({ thingId });
  checkPreconditions(command.headers, undefined, false, PRECONDITION_ERRORS);
  if (!isPlainObject(command.value)) throw jsonFormatInvalid({ detail: 'The thing must be a JSON object.' });
  const body =
    command.action === 'merge'
      ? (applyMergePatch({}, command.value) as Record<string, unknown>)
      : { ...command.value };
  const { _policy: inlinePolicy, _copyPolicyFrom: copyFrom } = body;
  delete body._policy;
  delete body._copyPolicyFrom;
  checkThingIdUnchanged(body, thingId);
  if ((inlinePolicy !== undefined || copyFrom !== undefined) && body.policyId !== undefined)
    throw policyIdNotAllowed();
  if (inlinePolicy !== undefined && copyFrom !== undefined) throw policyIdNotAllowed();
  const thing = validateThing({ thingId, ...body });
  return {
    kind: 'creation',
    thing,
    policyId: thing.policyId ?? thingId,
    explicitPolicyId: body.policyId !== undefined,
    inlinePolicy,
    copyFrom,
  };
}

/**
 * The creation `creation` decided for `command` on `state` (the thing does not exist), once the thing's policy
 * is prepared: `enforcer` is that policy's.
 */
export function decideCreation(
  state: ThingState,
  command: ThingCommand,
  creation: Creation,
  enforcer: ThingEnforcer,
  auth: AuthContext,
): Change {
  const { thingId } = command;
  const created = { thingId, policyId: creation.policyId, ...creation.thing } as ThingJson; // Ditto's key order: thingId, policyId, …
  if (!enforcer.hasUnrestricted('thing:/', auth.subjects, WRITE)) throw thingNotModifiable({ thingId });
  return changeOf(
    command,
    [],
    state.record,
    created,
    { action: 'created', value: created },
    201,
    created,
    undefined,
  );
}

/** ditto: §1.2 whether a retrieve of the whole thing selects `_policy` (`fields=_policy`, which skips preconditions). */
export function selectsPolicy(command: ThingCommand, resource: ThingResource): boolean {
  return (
    resource.kind === 'thing' &&
    command.fields !== undefined &&
    '_policy' in applyFieldSelector({ _policy: true }, command.fields)
  );
}

function changeOf(
  command: ThingCommand,
  segments: readonly string[],
  previous: ThingRecord | undefined,
  next: ThingJson | null,
  event: Change['event'],
  status: number,
  responseValue: unknown,
  movesTo: string | undefined,
): Change {
  // A sub-resource's ETag hashes its value: computed only when something reads it (HTTP does, telemetry
  // from a connection without a reply target does not).
  const etag =
    event.action === 'deleted'
      ? undefined
      : segments.length === 0
        ? revisionTag(revisionAfter(previous))
        : () => hashTag(getAt(next, segments));
  return { kind: 'change', next, event, response: respond(command, status, responseValue, etag), movesTo };
}

function respond(
  command: ThingCommand,
  status: number,
  value: unknown,
  etag: string | (() => string) | undefined,
): ThingCommandResponse {
  const headers: DittoHeaders = typeof etag === 'function' ? lazyEtag(etag) : {};
  if (typeof etag === 'string') headers.etag = etag;
  if (command.headers['correlation-id'] !== undefined)
    headers['correlation-id'] = command.headers['correlation-id'];
  const response: ThingCommandResponse = {
    thingId: command.thingId,
    channel: command.channel,
    action: command.action,
    path: command.path,
    status,
    headers,
  };
  if (value !== undefined) response.value = value;
  return response;
}

/**
 * Headers with an `etag` computed on its first read (then kept; a write replaces it). An accessor in a
 * literal: no defineProperty per response (this runs per message), and every copy or serialisation that
 * reads the headers sees a plain enumerable `etag`.
 */
function lazyEtag(compute: () => string): DittoHeaders {
  let value: string | undefined;
  return {
    get etag(): string {
      return (value ??= compute());
    },
    set etag(replacement: string) {
      value = replacement;
    },
  };
}

function checkCondition(
  headers: DittoHeaders,
  record: ThingRecord,
  enforcer: ThingEnforcer,
  auth: AuthContext,
  rules: DecideRules,
): void {
  const condition = headers['condition'];
  if (condition === undefined || !rules.evaluateCondition) return;
  // ditto: §2.1 the condition is evaluated on what the requester may read.
  const visible = enforcer.filterReadable('thing', '/', record.value, auth.subjects);
  const subject = withSpecialFields(isPlainObject(visible) ? visible : {}, record);
  if (!rules.evaluateCondition(condition, subject)) throw conditionFailed({ condition });
}

function mayWrite(enforcer: ThingEnforcer | undefined, pointer: string, auth: AuthContext): boolean {
  return enforcer?.hasUnrestricted('thing:' + pointer, auth.subjects, WRITE) ?? false;
}

/** A write the requester may not make: 404 when it may not read the thing at all (no existence oracle). */
function denied(command: ThingCommand, resource: ThingResource, canSee: boolean): DittoError {
  const { thingId } = command;
  if (!canSee) return thingNotFound({ thingId });
  if (resource.kind === 'thing')
    return command.action === 'delete' ? thingNotDeletable({ thingId }) : thingNotModifiable({ thingId });
  return levelError(resource, 'notModifiable', thingId);
}

function resourceNotFound(resource: ThingResource, thingId: string): DittoError {
  return resource.kind === 'thing' ? thingNotFound({ thingId }) : levelError(resource, 'notFound', thingId);
}

function levelError(
  resource: ThingResource,
  which: 'notFound' | 'notModifiable',
  thingId: string,
): DittoError {
  const errors = resourceErrors[resource.kind];
  const sub = resource.subPath ? resource.subPath.join('/') : resource.featureId;
  return errors
    ? errors[which]({ thingId, path: sub })
    : which === 'notFound'
      ? thingNotFound({ thingId })
      : thingNotModifiable({ thingId });
}

/** Feature sub-resources need their feature; attributes are created on the way (as Ditto does). */
function requireParentFeature(resource: ThingResource, thing: ThingJson, thingId: string): void {
  if (resource.featureId === undefined || resource.kind === 'feature') return;
  if (thing.features?.[resource.featureId] === undefined) {
    throw resourceErrors.feature.notFound({ thingId, path: resource.featureId });
  }
}

function checkThingIdUnchanged(value: Record<string, unknown>, thingId: string): void {
  if (value.thingId !== undefined && value.thingId !== thingId) throw thingIdNotSettable();
}
