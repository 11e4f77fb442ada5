/**
 * The policy decision matrix: policy × subjects × path × operation → expected outcome.
 *
 * Written from the documentation (ditto-interfaces.md §7.2–§7.4, §14 items 2 and 3, Appendix A.1) before the
 * enforcer existed. It is data, not tests, so that the same cases can be run through the enforcer
 * (test/unit/policies/matrix.test.ts) and later through HTTP (read → 200/404, write → 2xx/403, filter → the
 * response body), search and event delivery.
 *
 * Check kinds:
 * - `read`:    unrestricted READ on `resource` (e.g. GET of a leaf, or of a subtree in full).
 * - `write`:   unrestricted WRITE on `resource` (PUT/DELETE; WRITE on a subtree needs no revoke below).
 * - `partial`: partial READ on `resource` (a grant at or anywhere below suffices; false ⇒ 404).
 * - `filter`:  the pruned JSON the subjects may READ from `value` found at `path` of a thing
 *              (or of a policy with `type: 'policy'`); `undefined` = nothing readable (404).
 */
import type { Permission, Policy, PolicyEntry } from '../../../src/policies/model.js';

export type MatrixCheck =
  | { kind: 'read' | 'write' | 'partial'; resource: string }
  | { kind: 'filter'; type?: 'thing' | 'policy'; path: string; value: unknown };

export interface MatrixCase {
  name: string;
  policy: Policy;
  /** The caller's authorization subjects. */
  subjects: string[];
  check: MatrixCheck;
  /** boolean for read/write/partial; the pruned JSON (or undefined) for filter. */
  expected: unknown;
  /** Policies that `policy.imports` refer to, by policy ID (absent ID = import of a missing policy). */
  imported?: Record<string, Policy>;
  /** The evaluation instant for subject expiry; defaults to MATRIX_NOW. */
  now?: string;
}

/** The instant the matrix is evaluated at (subjects expiring before it no longer count). */
export const MATRIX_NOW = '2030-06-01T12:00:00Z';
const PAST = '2030-06-01T11:59:59Z';
const FUTURE = '2030-06-01T12:00:01Z';

const DITTO = 'nginx:ditto';
const ALICE = 'nginx:alice';
const BOB = 'google:bob';

// ---- compact builders (shape = jsonschema/policy.json) ------------------------------------------------------
type Res = Record<string, { grant?: Permission[]; revoke?: Permission[] }>;

function entry(
  subjects: string[] | Record<string, { expiry?: string }>,
  resources: Res,
  extra: Partial<PolicyEntry> = {},
): PolicyEntry {
  const subjectMap = Array.isArray(subjects)
    ? Object.fromEntries(subjects.map((s) => [s, { type: 'test' }]))
    : Object.fromEntries(Object.entries(subjects).map(([s, o]) => [s, { type: 'test', ...o }]));
  const resourceMap = Object.fromEntries(
    Object.entries(resources).map(([k, v]) => [k, { grant: v.grant ?? [], revoke: v.revoke ?? [] }]),
  );
  return { subjects: subjectMap, resources: resourceMap, ...extra };
}

function policy(
  entries: Record<string, PolicyEntry>,
  imports?: Policy['imports'],
  policyId = 'test:policy',
): Policy {
  return imports ? { policyId, imports, entries } : { policyId, entries };
}

const R: Permission[] = ['READ'];
const W: Permission[] = ['WRITE'];
const RW: Permission[] = ['READ', 'WRITE'];

// ---- recurring policies -----------------------------------------------------------------------------------
/** grant WRITE thing:/ + revoke WRITE thing:/attributes/secret (the §7.3 example). */
const writeExceptSecret = policy({
  owner: entry([DITTO], { 'thing:/': { grant: RW }, 'thing:/attributes/secret': { revoke: W } }),
});

/** READ everything, revoke READ of attributes, grant READ again deeper at attributes/public. */
const reGrantUnderRevoke = policy({
  owner: entry([DITTO], {
    'thing:/': { grant: R },
    'thing:/attributes': { revoke: R },
    'thing:/attributes/public': { grant: R },
  }),
});

/** Only a deep grant: READ on one feature property. */
const deepGrantOnly = policy({
  reader: entry([DITTO], { 'thing:/features/lamp/properties/on': { grant: R } }),
});

/** Appendix A.1 (corrected). */
const appendixA1: Policy = {
  policyId: 'my.namespace:policy-a',
  entries: {
    owner: entry(['nginx:ditto'], {
      'thing:/': { grant: RW },
      'policy:/': { grant: RW },
      'message:/': { grant: RW },
    }),
    observer: entry(['nginx:observer-client', 'nginx:some-users'], {
      'thing:/features/featureX': { grant: R },
      'thing:/features/featureY': { grant: R },
    }),
    private: entry(['nginx:some-users'], {
      'thing:/features/featureX/properties/location/city': { revoke: R },
    }),
  },
};

const a1Thing = {
  thingId: 'my.namespace:thing-a',
  policyId: 'my.namespace:policy-a',
  attributes: { manufacturer: 'ACME', serial: 42 },
  features: {
    featureX: { properties: { location: { city: 'Berlin', street: 'Main St' }, temperature: 21.5 } },
    featureY: { properties: { on: true } },
    featureZ: { properties: { secret: 'xyz' } },
  },
};

/** A thing with attributes and features used by the filter cases. */
const thing = {
  thingId: 'test:thing',
  policyId: 'test:policy',
  attributes: { location: 'kitchen', secret: { pin: 1234 }, public: { name: 'lamp' }, tags: ['a', 'b'] },
  features: {
    lamp: { properties: { on: true, brightness: 80 }, desiredProperties: { on: false } },
    meter: { properties: { power: 3.5 } },
  },
};

const importedPolicy: Policy = {
  policyId: 'test:imported',
  entries: {
    IMPLICIT_READER: entry([ALICE], { 'thing:/attributes': { grant: R } }),
    DEFAULTED_READER: entry([BOB], { 'thing:/features': { grant: R } }),
    EXPLICIT_WRITER: entry([ALICE], { 'thing:/attributes': { grant: W } }, { importable: 'explicit' }),
    NEVER_WRITER: entry([BOB], { 'thing:/features': { grant: W } }, { importable: 'never' }),
    IMPORTED_REVOKE: entry([DITTO], { 'thing:/attributes/secret': { revoke: R } }),
  },
};
(importedPolicy.entries.IMPLICIT_READER as PolicyEntry).importable = 'implicit';

export const matrix: MatrixCase[] = [
  // ---- basics ------------------------------------------------------------------------------------------------
  {
    name: 'root READ grant allows reading a deep attribute',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: true,
  },
  {
    name: 'root READ grant does not allow writing',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/attributes' },
    expected: false,
  },
  {
    name: 'a subject not named in the policy gets nothing',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: RW } }) }),
    subjects: [ALICE],
    check: { kind: 'partial', resource: 'thing:/' },
    expected: false,
  },
  {
    name: 'subject matching is exact string equality',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: RW } }) }),
    subjects: ['nginx:Ditto', 'ditto'],
    check: { kind: 'read', resource: 'thing:/' },
    expected: false,
  },
  {
    name: 'READ+WRITE on thing:/ allows writing the whole thing',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: RW } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/' },
    expected: true,
  },

  // ---- nested grants and revokes (unrestricted WRITE) ------------------------------------------------------
  {
    name: 'a WRITE revoke below blocks WRITE on the whole thing',
    policy: writeExceptSecret,
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/' },
    expected: false,
  },
  {
    name: 'a WRITE revoke below blocks WRITE on its parent',
    policy: writeExceptSecret,
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/attributes' },
    expected: false,
  },
  {
    name: 'a WRITE revoke on a sibling does not block another attribute',
    policy: writeExceptSecret,
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/attributes/other' },
    expected: true,
  },
  {
    name: 'a WRITE revoke is inherited below the revoked path',
    policy: writeExceptSecret,
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/attributes/secret/pin' },
    expected: false,
  },
  {
    name: 'a WRITE revoke does not affect READ',
    policy: writeExceptSecret,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/secret' },
    expected: true,
  },

  // ---- nested READ: revoke below a grant, grant below a revoke ---------------------------------------------
  {
    name: 'a READ revoke removes access below a root grant',
    policy: reGrantUnderRevoke,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: false,
  },
  {
    name: 'a deeper grant re-enables READ under a revoke',
    policy: reGrantUnderRevoke,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/public/name' },
    expected: true,
  },
  {
    name: 'a revoked parent is partially readable through a deeper grant',
    policy: reGrantUnderRevoke,
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/attributes' },
    expected: true,
  },
  {
    name: 'a revoked parent is not readable in full despite a deeper grant',
    policy: reGrantUnderRevoke,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes' },
    expected: false,
  },
  {
    name: 'the root is not readable in full when a revoke is below',
    policy: reGrantUnderRevoke,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/' },
    expected: false,
  },
  {
    name: 'siblings of a revoked subtree stay readable',
    policy: reGrantUnderRevoke,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/features/lamp' },
    expected: true,
  },

  // ---- same-level revoke beats grant -----------------------------------------------------------------------
  {
    name: 'grant and revoke of READ on the same path in one entry: revoke wins',
    policy: policy({ e: entry([DITTO], { 'thing:/attributes': { grant: R, revoke: R } }) }),
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/attributes' },
    expected: false,
  },
  {
    name: 'grant in one entry and revoke in another on the same path: revoke wins',
    policy: policy({
      a: entry([DITTO], { 'thing:/features': { grant: R } }),
      b: entry([DITTO], { 'thing:/features': { revoke: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/features/lamp' },
    expected: false,
  },
  {
    name: 'same-level revoke for one subject beats the grant of another subject of the caller',
    policy: policy({
      a: entry([DITTO], { 'thing:/attributes': { grant: R } }),
      b: entry([ALICE], { 'thing:/attributes': { revoke: R } }),
    }),
    subjects: [DITTO, ALICE],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: false,
  },

  // ---- several subjects -------------------------------------------------------------------------------------
  {
    name: "a deeper revoke for one of the caller's subjects denies the whole request",
    policy: policy({
      a: entry([DITTO], { 'thing:/': { grant: R } }),
      b: entry([ALICE], { 'thing:/attributes': { revoke: R } }),
    }),
    subjects: [DITTO, ALICE],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: false,
  },
  {
    name: 'the same revoke does not affect a caller without the revoked subject',
    policy: policy({
      a: entry([DITTO], { 'thing:/': { grant: R } }),
      b: entry([ALICE], { 'thing:/attributes': { revoke: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: true,
  },
  {
    name: 'a deeper grant for one subject beats a shallower revoke for another',
    policy: policy({
      a: entry([ALICE], { 'thing:/': { revoke: R } }),
      b: entry([DITTO], { 'thing:/attributes': { grant: R } }),
    }),
    subjects: [DITTO, ALICE],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: true,
  },

  // ---- union of entries --------------------------------------------------------------------------------------
  {
    name: 'READ from one entry and WRITE from another combine (WRITE)',
    policy: policy({
      r: entry([DITTO], { 'thing:/attributes': { grant: R } }),
      w: entry([DITTO], { 'thing:/attributes': { grant: W } }),
    }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/attributes/location' },
    expected: true,
  },
  {
    name: 'grants to different subjects of the caller combine',
    policy: policy({
      a: entry([DITTO], { 'thing:/attributes': { grant: R } }),
      b: entry([ALICE], { 'thing:/features': { grant: R } }),
    }),
    subjects: [DITTO, ALICE],
    check: { kind: 'read', resource: 'thing:/features/lamp' },
    expected: true,
  },
  {
    name: 'entry order gives no priority: a later grant does not undo an earlier revoke',
    policy: policy({
      b: entry([DITTO], { 'thing:/attributes/secret': { revoke: R } }),
      a: entry([DITTO], { 'thing:/': { grant: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/secret' },
    expected: false,
  },

  // ---- partial READ --------------------------------------------------------------------------------------------
  {
    name: 'a deep property grant makes the thing partially readable',
    policy: deepGrantOnly,
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/' },
    expected: true,
  },
  {
    name: 'a deep property grant does not make the thing readable in full',
    policy: deepGrantOnly,
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/' },
    expected: false,
  },
  {
    name: 'a grant under features does not make attributes partially readable',
    policy: deepGrantOnly,
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/attributes' },
    expected: false,
  },
  {
    name: "a deep grant makes its feature's properties partially readable",
    policy: deepGrantOnly,
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/features/lamp/properties' },
    expected: true,
  },
  {
    name: 'a deep grant under a root revoke still gives partial READ of the root',
    policy: policy({
      e: entry([DITTO], { 'thing:/': { revoke: R }, 'thing:/attributes/location': { grant: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/' },
    expected: true,
  },
  {
    name: 'partial READ of a path below every statement uses the inherited grant',
    policy: deepGrantOnly,
    subjects: [DITTO],
    check: { kind: 'partial', resource: 'thing:/features/lamp/properties/on/deeper' },
    expected: true,
  },

  // ---- expiry ------------------------------------------------------------------------------------------------
  {
    name: 'an expired subject is ignored',
    policy: policy({ e: entry({ [DITTO]: { expiry: PAST } }, { 'thing:/': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/' },
    expected: false,
  },
  {
    name: 'a subject expiring in the future counts',
    policy: policy({ e: entry({ [DITTO]: { expiry: FUTURE } }, { 'thing:/': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/' },
    expected: true,
  },
  {
    name: 'the revoke of an expired subject no longer applies',
    policy: policy({
      a: entry([DITTO], { 'thing:/': { grant: R } }),
      b: entry({ [DITTO]: { expiry: PAST } }, { 'thing:/attributes': { revoke: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: true,
  },

  // ---- imports (§7.4) --------------------------------------------------------------------------------------------
  {
    name: 'an entry without importable is imported implicitly',
    policy: policy({ own: entry([DITTO], { 'policy:/': { grant: RW } }) }, { 'test:imported': {} }),
    imported: { 'test:imported': importedPolicy },
    subjects: [BOB],
    check: { kind: 'read', resource: 'thing:/features/lamp' },
    expected: true,
  },
  {
    name: 'an implicit entry is imported even when other labels are listed',
    policy: policy(
      { own: entry([DITTO], { 'policy:/': { grant: RW } }) },
      { 'test:imported': { entries: ['EXPLICIT_WRITER'] } },
    ),
    imported: { 'test:imported': importedPolicy },
    subjects: [ALICE],
    check: { kind: 'read', resource: 'thing:/attributes/location' },
    expected: true,
  },
  {
    name: 'an explicit entry that is not listed is not imported',
    policy: policy({ own: entry([DITTO], { 'policy:/': { grant: RW } }) }, { 'test:imported': {} }),
    imported: { 'test:imported': importedPolicy },
    subjects: [ALICE],
    check: { kind: 'write', resource: 'thing:/attributes/location' },
    expected: false,
  },
  {
    name: 'an explicit entry that is listed is imported',
    policy: policy(
      { own: entry([DITTO], { 'policy:/': { grant: RW } }) },
      { 'test:imported': { entries: ['EXPLICIT_WRITER'] } },
    ),
    imported: { 'test:imported': importedPolicy },
    subjects: [ALICE],
    check: { kind: 'write', resource: 'thing:/attributes/location' },
    expected: true,
  },
  {
    name: 'a never-importable entry is not imported even when listed',
    policy: policy(
      { own: entry([DITTO], { 'policy:/': { grant: RW } }) },
      { 'test:imported': { entries: ['NEVER_WRITER'] } },
    ),
    imported: { 'test:imported': importedPolicy },
    subjects: [BOB],
    check: { kind: 'write', resource: 'thing:/features/lamp' },
    expected: false,
  },
  {
    name: "an imported revoke applies to the importing policy's grants",
    policy: policy({ own: entry([DITTO], { 'thing:/': { grant: RW } }) }, { 'test:imported': {} }),
    imported: { 'test:imported': importedPolicy },
    subjects: [DITTO],
    check: { kind: 'read', resource: 'thing:/attributes/secret' },
    expected: false,
  },
  {
    name: 'an import of a missing policy adds nothing and removes nothing',
    policy: policy({ own: entry([DITTO], { 'thing:/': { grant: RW } }) }, { 'test:missing': {} }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing:/' },
    expected: true,
  },

  // ---- message resources -------------------------------------------------------------------------------------
  {
    name: 'WRITE on message:/inbox allows sending an inbox message',
    policy: policy({ e: entry([DITTO], { 'message:/inbox': { grant: W } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'message:/inbox/messages/hello' },
    expected: true,
  },
  {
    name: 'WRITE on message:/inbox does not cover feature messages',
    policy: policy({ e: entry([DITTO], { 'message:/inbox': { grant: W } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'message:/features/lamp/inbox/messages/hello' },
    expected: false,
  },
  {
    name: 'READ of message:/ with feature messages revoked still receives outbox messages',
    policy: policy({ e: entry([DITTO], { 'message:/': { grant: R }, 'message:/features': { revoke: R } }) }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'message:/outbox/messages/x' },
    expected: true,
  },
  {
    name: 'READ of message:/ with feature messages revoked does not receive feature messages',
    policy: policy({ e: entry([DITTO], { 'message:/': { grant: R }, 'message:/features': { revoke: R } }) }),
    subjects: [DITTO],
    check: { kind: 'read', resource: 'message:/features/lamp/outbox/messages/x' },
    expected: false,
  },
  {
    name: 'a thing grant does not grant messages',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: RW } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'message:/inbox/messages/x' },
    expected: false,
  },

  // ---- policy resources --------------------------------------------------------------------------------------
  {
    name: 'WRITE on one policy entry does not allow writing the policy',
    policy: policy({ e: entry([DITTO], { 'policy:/entries/team': { grant: RW } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'policy:/' },
    expected: false,
  },
  {
    name: 'WRITE on one policy entry allows writing its subjects',
    policy: policy({ e: entry([DITTO], { 'policy:/entries/team': { grant: RW } }) }),
    subjects: [DITTO],
    check: { kind: 'write', resource: 'policy:/entries/team/subjects/nginx:x' },
    expected: true,
  },

  // ---- path normalisation ----------------------------------------------------------------------------------------
  {
    name: 'trailing slashes and empty segments are normalised',
    policy: writeExceptSecret,
    subjects: [DITTO],
    check: { kind: 'write', resource: 'thing://attributes//secret/' },
    expected: false,
  },

  // ---- Appendix A.1 ------------------------------------------------------------------------------------------
  {
    name: 'A.1: some-users cannot read featureX city',
    policy: appendixA1,
    subjects: ['nginx:some-users'],
    check: { kind: 'read', resource: 'thing:/features/featureX/properties/location/city' },
    expected: false,
  },
  {
    name: 'A.1: some-users can read featureX street',
    policy: appendixA1,
    subjects: ['nginx:some-users'],
    check: { kind: 'read', resource: 'thing:/features/featureX/properties/location/street' },
    expected: true,
  },
  {
    name: 'A.1: some-users cannot read featureX in full',
    policy: appendixA1,
    subjects: ['nginx:some-users'],
    check: { kind: 'read', resource: 'thing:/features/featureX' },
    expected: false,
  },
  {
    name: 'A.1: some-users can read featureX partially',
    policy: appendixA1,
    subjects: ['nginx:some-users'],
    check: { kind: 'partial', resource: 'thing:/features/featureX' },
    expected: true,
  },
  {
    name: 'A.1: observer-client reads featureX in full',
    policy: appendixA1,
    subjects: ['nginx:observer-client'],
    check: { kind: 'read', resource: 'thing:/features/featureX' },
    expected: true,
  },
  {
    name: 'A.1: observer-client cannot read featureZ',
    policy: appendixA1,
    subjects: ['nginx:observer-client'],
    check: { kind: 'partial', resource: 'thing:/features/featureZ' },
    expected: false,
  },
  {
    name: 'A.1: observer-client cannot write featureX',
    policy: appendixA1,
    subjects: ['nginx:observer-client'],
    check: { kind: 'write', resource: 'thing:/features/featureX/properties' },
    expected: false,
  },
  {
    name: 'A.1: the owner writes the whole thing',
    policy: appendixA1,
    subjects: ['nginx:ditto'],
    check: { kind: 'write', resource: 'thing:/' },
    expected: true,
  },
  {
    name: 'A.1: the owner sends any message',
    policy: appendixA1,
    subjects: ['nginx:ditto'],
    check: { kind: 'write', resource: 'message:/features/featureX/inbox/messages/toggle' },
    expected: true,
  },
  {
    name: 'A.1 filter: some-users see featureX without city and featureY, plus thingId',
    policy: appendixA1,
    subjects: ['nginx:some-users'],
    check: { kind: 'filter', path: '/', value: a1Thing },
    expected: {
      thingId: 'my.namespace:thing-a',
      features: {
        featureX: { properties: { location: { street: 'Main St' }, temperature: 21.5 } },
        featureY: { properties: { on: true } },
      },
    },
  },
  {
    name: 'A.1 filter: observer-client sees featureX and featureY in full, plus thingId',
    policy: appendixA1,
    subjects: ['nginx:observer-client'],
    check: { kind: 'filter', path: '/', value: a1Thing },
    expected: {
      thingId: 'my.namespace:thing-a',
      features: { featureX: a1Thing.features.featureX, featureY: a1Thing.features.featureY },
    },
  },
  {
    name: 'A.1 filter: a caller with both subjects loses city (revoke for one subject hits the request)',
    policy: appendixA1,
    subjects: ['nginx:observer-client', 'nginx:some-users'],
    check: { kind: 'filter', path: '/', value: a1Thing },
    expected: {
      thingId: 'my.namespace:thing-a',
      features: {
        featureX: { properties: { location: { street: 'Main St' }, temperature: 21.5 } },
        featureY: { properties: { on: true } },
      },
    },
  },
  {
    name: 'A.1 filter at a sub-path: some-users read featureX properties without city',
    policy: appendixA1,
    subjects: ['nginx:some-users'],
    check: {
      kind: 'filter',
      path: '/features/featureX/properties',
      value: a1Thing.features.featureX.properties,
    },
    expected: { location: { street: 'Main St' }, temperature: 21.5 },
  },
  {
    name: 'A.1 filter: the owner sees everything',
    policy: appendixA1,
    subjects: ['nginx:ditto'],
    check: { kind: 'filter', path: '/', value: a1Thing },
    expected: a1Thing,
  },

  // ---- filter (pruned JSON) ---------------------------------------------------------------------------------
  {
    name: 'filter: one granted attribute out of several',
    policy: policy({ e: entry([DITTO], { 'thing:/attributes/location': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/attributes', value: thing.attributes },
    expected: { location: 'kitchen' },
  },
  {
    name: 'filter: thingId is kept when any part of the thing is readable',
    policy: policy({ e: entry([DITTO], { 'thing:/attributes/location': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/', value: thing },
    expected: { thingId: 'test:thing', attributes: { location: 'kitchen' } },
  },
  {
    name: 'filter: a revoke deep inside a granted subtree removes only that part',
    policy: policy({
      e: entry([DITTO], { 'thing:/': { grant: R }, 'thing:/attributes/secret/pin': { revoke: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/attributes', value: thing.attributes },
    // `secret` became empty through pruning but READ is granted on it, so it stays as {}.
    expected: { location: 'kitchen', secret: {}, public: { name: 'lamp' }, tags: ['a', 'b'] },
  },
  {
    name: 'filter: an object emptied by pruning is dropped when READ is not granted on it',
    policy: policy({
      e: entry([DITTO], {
        'thing:/': { grant: R },
        'thing:/attributes/secret': { revoke: R },
        'thing:/attributes/secret/hint': { grant: R },
      }),
    }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/attributes', value: thing.attributes },
    expected: { location: 'kitchen', public: { name: 'lamp' }, tags: ['a', 'b'] },
  },
  {
    name: 'filter: a grant deep inside a revoked subtree keeps only that leaf',
    policy: policy({
      e: entry([DITTO], { 'thing:/': { revoke: R }, 'thing:/features/lamp/properties/on': { grant: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/', value: thing },
    expected: { thingId: 'test:thing', features: { lamp: { properties: { on: true } } } },
  },
  {
    name: 'filter: feature properties readable, desiredProperties not',
    policy: policy({
      e: entry([DITTO], {
        'thing:/features': { grant: R },
        'thing:/features/lamp/desiredProperties': { revoke: R },
      }),
    }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/features', value: thing.features },
    expected: { lamp: { properties: { on: true, brightness: 80 } }, meter: { properties: { power: 3.5 } } },
  },
  {
    name: 'filter: one revoked feature property among several',
    policy: policy({
      e: entry([DITTO], {
        'thing:/features/lamp': { grant: R },
        'thing:/features/lamp/properties/brightness': { revoke: R },
      }),
    }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/features/lamp/properties', value: thing.features.lamp.properties },
    expected: { on: true },
  },
  {
    name: 'filter: an array is kept or removed as a whole',
    policy: policy({
      e: entry([DITTO], { 'thing:/attributes': { grant: R }, 'thing:/attributes/tags': { revoke: R } }),
    }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/attributes', value: { tags: ['a'], other: [1, 2] } },
    expected: { other: [1, 2] },
  },
  {
    name: 'filter: an object with nothing readable below yields nothing',
    policy: policy({ e: entry([DITTO], { 'thing:/attributes/missing': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/attributes', value: { present: { deep: 1 }, other: 2 } },
    expected: undefined,
  },
  {
    name: 'filter: an unknown subject sees nothing of the thing',
    policy: policy({ e: entry([DITTO], { 'thing:/': { grant: RW } }) }),
    subjects: [ALICE],
    check: { kind: 'filter', path: '/', value: thing },
    expected: undefined,
  },
  {
    name: 'filter: a revoke for one of several subjects prunes for the caller holding both',
    policy: policy({
      a: entry([DITTO], { 'thing:/': { grant: R } }),
      b: entry([ALICE], { 'thing:/attributes/secret': { revoke: R } }),
    }),
    subjects: [DITTO, ALICE],
    check: { kind: 'filter', path: '/attributes', value: thing.attributes },
    expected: { location: 'kitchen', public: { name: 'lamp' }, tags: ['a', 'b'] },
  },
  {
    name: 'filter: an expired subject sees nothing',
    policy: policy({ e: entry({ [DITTO]: { expiry: PAST } }, { 'thing:/': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/', value: thing },
    expected: undefined,
  },
  {
    name: 'filter: a scalar value at a readable path is returned as is',
    policy: policy({ e: entry([DITTO], { 'thing:/features/lamp/properties/on': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/features/lamp/properties/on', value: true },
    expected: true,
  },
  {
    name: 'filter: an empty object that is readable stays',
    policy: policy({ e: entry([DITTO], { 'thing:/attributes': { grant: R } }) }),
    subjects: [DITTO],
    check: { kind: 'filter', path: '/attributes', value: {} },
    expected: {},
  },
  {
    name: 'filter: imported READ prunes like a local one',
    policy: policy({ own: entry([DITTO], { 'policy:/': { grant: RW } }) }, { 'test:imported': {} }),
    imported: { 'test:imported': importedPolicy },
    subjects: [ALICE],
    check: { kind: 'filter', path: '/', value: thing },
    expected: { thingId: 'test:thing', attributes: thing.attributes },
  },
  {
    name: 'filter of a policy: only the readable entry is returned',
    policy: policy({ e: entry([ALICE], { 'policy:/entries/team': { grant: R } }) }),
    subjects: [ALICE],
    check: {
      kind: 'filter',
      type: 'policy',
      path: '/',
      value: {
        policyId: 'test:policy',
        entries: {
          team: { subjects: { 'nginx:alice': { type: 'x' } } },
          admin: { subjects: { 'nginx:root': { type: 'x' } } },
        },
      },
    },
    expected: { entries: { team: { subjects: { 'nginx:alice': { type: 'x' } } } } },
  },
];
