/**
 * The decision of policy commands (src/policies/decide.ts) from tables, without HTTP: retrieves and writes at
 * each level of a policy, on an existing, a deleted and an absent policy, for an owner, a reader, a requester
 * who administers one entry's subjects and a stranger, with If-Match / If-None-Match, if-equal, imports and
 * lockout protection. The cached policies are a StorePolicyDirectory over an in-memory map.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthContext } from '../../../src/auth/context.js';
import { DittoError } from '../../../src/errors/ditto-error.js';
import type { PolicyCommand, PolicyCommandAction, PolicyPath } from '../../../src/policies/commands.js';
import {
  decidePolicyRetrieve,
  decidePolicyWrite,
  decideSubjectRemoval,
  type PolicyRecord,
} from '../../../src/policies/decide.js';
import { StorePolicyDirectory } from '../../../src/policies/directory.js';
import type { Permission, Policy, PolicyEntry } from '../../../src/policies/model.js';
import type { EntityRecord, Store } from '../../../src/store/port.js';
import { hashTag } from '../../../src/util/etag.js';

const OWNER = 'test:owner';
const READER = 'test:reader';
/** Administers the subjects of the `reader` entry only. */
const ADMIN = 'test:admin';
const STRANGER = 'test:stranger';

function entry(
  subject: string,
  resources: Record<string, Permission[]>,
  extra: Partial<PolicyEntry> = {},
): PolicyEntry {
  return {
    subjects: { [subject]: { type: 'test' } },
    resources: Object.fromEntries(Object.entries(resources).map(([k, grant]) => [k, { grant, revoke: [] }])),
    ...extra,
  };
}

const POLICY: Policy = {
  policyId: 'ns:p',
  entries: {
    owner: entry(OWNER, { 'policy:/': ['READ', 'WRITE'], 'thing:/': ['READ', 'WRITE'] }),
    reader: entry(READER, { 'policy:/': ['READ'] }),
    admin: entry(ADMIN, { 'policy:/entries/reader/subjects': ['READ', 'WRITE'] }),
  },
};
/** A policy the owner may read (so import). */
const LIB: Policy = {
  policyId: 'ns:lib',
  entries: {
    shared: entry('test:lib', { 'thing:/': ['READ'] }),
    readers: entry(OWNER, { 'policy:/': ['READ'] }),
  },
};
/** A policy the owner may not read. */
const HIDDEN: Policy = {
  policyId: 'ns:hidden',
  entries: { own: entry('test:other', { 'policy:/': ['READ', 'WRITE'] }) },
};

const record = (policy: Policy, revision: number): PolicyRecord => ({
  kind: 'policy',
  id: policy.policyId,
  revision,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-02T00:00:00.000Z',
  value: policy,
});
const EXISTING = record(POLICY, 3);
const DELETED: PolicyRecord = { ...EXISTING, revision: 4, value: null };

const stored = new Map<string, EntityRecord>([
  ['ns:p', EXISTING],
  ['ns:lib', record(LIB, 1)],
  ['ns:hidden', record(HIDDEN, 1)],
]);
const store = { get: async (_kind: string, id: string) => stored.get(id) } as unknown as Store;
const directory = new StorePolicyDirectory({ store, now: () => new Date('2030-01-01T00:00:00Z') });
const rules = { maxPolicyBytes: 100 * 1024 };

beforeAll(async () => {
  for (const id of ['ns:p', 'ns:lib', 'ns:hidden', 'ns:gone']) await directory.load(id);
});

/** POLICY changed by `edit` (a deep copy). */
function policyWith(edit: (p: any) => void): Policy {
  const p = structuredClone(POLICY);
  edit(p);
  return p;
}

interface Row {
  name: string;
  state?: 'existing' | 'deleted' | 'absent';
  as?: string;
  action: PolicyCommandAction;
  path: PolicyPath;
  value?: unknown;
  headers?: Record<string, string>;
  fields?: string;
  expected: Outcome;
}

type Outcome =
  | { error: string; status: number; etag?: string }
  | { load: readonly string[] }
  | {
      status: number;
      value?: unknown;
      etag?: string;
      next?: Policy | null;
      event?: { action: string; path: string; value?: unknown };
    };

const ROOT: PolicyPath = { kind: 'policy' };
const READER_ENTRY: PolicyPath = { kind: 'entry', label: 'reader' };
const READER_SUBJECTS: PolicyPath = { kind: 'subjects', label: 'reader' };
const e = (error: string, status: number, etag?: string) => ({ error, status, etag });
const notFound = e('policies:policy.notfound', 404);

function commandOf(
  row: Pick<Row, 'action' | 'path' | 'value' | 'headers' | 'fields'>,
  policyId = 'ns:p',
): PolicyCommand {
  const command: PolicyCommand = {
    policyId,
    action: row.action,
    path: row.path,
    headers: { 'correlation-id': 'c-1', ...row.headers },
  };
  if (row.value !== undefined) command.value = row.value;
  if (row.fields !== undefined) command.fields = row.fields;
  return command;
}

function outcomeOf(
  run: () => ReturnType<typeof decidePolicyWrite> | ReturnType<typeof decidePolicyRetrieve>,
): Outcome {
  try {
    const decided = run();
    if ('kind' in decided && decided.kind === 'load') return { load: decided.policyIds };
    const response = 'kind' in decided ? decided.response : decided;
    expect(response.headers['correlation-id']).toBe('c-1');
    const outcome = { status: response.status, value: response.value, etag: response.headers.etag };
    return 'kind' in decided ? { ...outcome, next: decided.next, event: decided.event } : outcome;
  } catch (err) {
    if (!(err instanceof DittoError)) throw err;
    return { error: err.error, status: err.status, etag: err.headers?.etag };
  }
}

function run(row: Row): Outcome {
  const auth: AuthContext = { subjects: [row.as ?? OWNER] };
  const command = commandOf(row);
  const current = row.state === 'absent' ? undefined : row.state === 'deleted' ? DELETED : EXISTING;
  if (row.action === 'retrieve')
    return outcomeOf(() =>
      decidePolicyRetrieve(current ?? DELETED, command, directory.enforcerOfHead('ns:p'), auth),
    );
  return outcomeOf(() => decidePolicyWrite(current, command, auth, directory, rules));
}

const retrieves: Row[] = [
  {
    name: 'the whole policy',
    action: 'retrieve',
    path: ROOT,
    expected: { status: 200, value: POLICY, etag: '"rev:3"' },
  },
  {
    name: 'an entry, with the hash of its value',
    action: 'retrieve',
    path: READER_ENTRY,
    expected: { status: 200, value: POLICY.entries.reader, etag: hashTag(POLICY.entries.reader) },
  },
  {
    name: 'a subject',
    action: 'retrieve',
    path: { kind: 'subject', label: 'reader', subjectId: READER },
    expected: { status: 200, value: { type: 'test' }, etag: hashTag({ type: 'test' }) },
  },
  {
    name: 'a missing entry',
    action: 'retrieve',
    path: { kind: 'entry', label: 'ghost' },
    expected: e('policies:entry.notfound', 404),
  },
  {
    name: 'a missing resource',
    action: 'retrieve',
    path: { kind: 'resource', label: 'reader', resource: 'thing:/' },
    expected: e('policies:resource.notfound', 404),
  },
  {
    name: 'missing imports',
    action: 'retrieve',
    path: { kind: 'imports' },
    expected: e('policies:imports.notfound', 404),
  },
  {
    name: 'by a reader',
    as: READER,
    action: 'retrieve',
    path: ROOT,
    expected: { status: 200, value: POLICY, etag: '"rev:3"' },
  },
  {
    name: 'by a stranger: not found',
    as: STRANGER,
    action: 'retrieve',
    path: READER_ENTRY,
    expected: notFound,
  },
  {
    name: 'by a requester who may read one entry’s subjects: pruned to them',
    as: ADMIN,
    action: 'retrieve',
    path: ROOT,
    expected: {
      status: 200,
      value: { policyId: 'ns:p', entries: { reader: { subjects: POLICY.entries.reader.subjects } } },
      etag: '"rev:3"',
    },
  },
  {
    name: 'of a deleted policy: not found',
    state: 'deleted',
    action: 'retrieve',
    path: ROOT,
    expected: notFound,
  },
  {
    name: 'with a matching If-None-Match: 304',
    action: 'retrieve',
    path: ROOT,
    headers: { 'if-none-match': '"rev:3"' },
    expected: e('policies:precondition.notmodified', 304, '"rev:3"'),
  },
  {
    name: 'with a stale If-Match: 412',
    action: 'retrieve',
    path: ROOT,
    headers: { 'if-match': '"rev:2"' },
    expected: e('policies:precondition.failed', 412, '"rev:3"'),
  },
  {
    name: 'with fields, including special fields',
    action: 'retrieve',
    path: ROOT,
    fields: 'entries/reader/subjects,_revision,_namespace',
    expected: {
      status: 200,
      value: {
        entries: { reader: { subjects: POLICY.entries.reader.subjects } },
        _revision: 3,
        _namespace: 'ns',
      },
      etag: '"rev:3"',
    },
  },
];

const NEW_SUBJECT = { type: 'added' };
const writes: Row[] = [
  {
    name: 'a new subject: 201 with it',
    action: 'modify',
    path: { kind: 'subject', label: 'reader', subjectId: 'test:new' },
    value: NEW_SUBJECT,
    expected: {
      status: 201,
      value: NEW_SUBJECT,
      etag: hashTag(NEW_SUBJECT),
      next: policyWith((p) => (p.entries.reader.subjects['test:new'] = NEW_SUBJECT)),
      event: { action: 'created', path: '/entries/reader/subjects/test:new', value: NEW_SUBJECT },
    },
  },
  {
    name: 'an entry',
    action: 'modify',
    path: READER_ENTRY,
    value: entry(READER, { 'policy:/entries': ['READ'] }),
    expected: {
      status: 204,
      etag: hashTag(entry(READER, { 'policy:/entries': ['READ'] })),
      next: policyWith((p) => (p.entries.reader = entry(READER, { 'policy:/entries': ['READ'] }))),
      event: {
        action: 'modified',
        path: '/entries/reader',
        value: entry(READER, { 'policy:/entries': ['READ'] }),
      },
    },
  },
  {
    name: 'a resource key that holds slashes',
    action: 'modify',
    path: { kind: 'resource', label: 'reader', resource: 'thing:/features/lamp' },
    value: { grant: ['READ'], revoke: [] },
    expected: {
      status: 201,
      value: { grant: ['READ'], revoke: [] },
      etag: hashTag({ grant: ['READ'], revoke: [] }),
      next: policyWith(
        (p) => (p.entries.reader.resources['thing:/features/lamp'] = { grant: ['READ'], revoke: [] }),
      ),
      event: {
        action: 'created',
        path: '/entries/reader/resources/thing:/features/lamp',
        value: { grant: ['READ'], revoke: [] },
      },
    },
  },
  {
    name: 'the whole policy: the next revision as ETag',
    action: 'modify',
    path: ROOT,
    value: { entries: { owner: POLICY.entries.owner } },
    expected: {
      status: 204,
      etag: '"rev:4"',
      next: { policyId: 'ns:p', entries: { owner: POLICY.entries.owner } },
      event: {
        action: 'modified',
        path: '/',
        value: { policyId: 'ns:p', entries: { owner: POLICY.entries.owner } },
      },
    },
  },
  {
    name: 'create of an existing policy: 409',
    action: 'create',
    path: ROOT,
    value: POLICY,
    expected: e('policies:policy.conflict', 409),
  },
  {
    name: 'with another policyId: 400',
    action: 'modify',
    path: ROOT,
    value: { ...POLICY, policyId: 'ns:other' },
    expected: e('policies:id.notsettable', 400),
  },
  {
    name: 'an entry by a reader: 403 at that level',
    as: READER,
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    expected: e('policies:entry.notmodifiable', 403),
  },
  {
    name: 'the whole policy by a reader: 403',
    as: READER,
    action: 'modify',
    path: ROOT,
    value: POLICY,
    expected: e('policies:policy.notmodifiable', 403),
  },
  {
    name: 'an entry by a stranger: 404',
    as: STRANGER,
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    expected: notFound,
  },
  {
    name: 'subjects by their administrator',
    as: ADMIN,
    action: 'modify',
    path: READER_SUBJECTS,
    value: { 'test:x': { type: 'x' } },
    expected: {
      status: 204,
      etag: hashTag({ 'test:x': { type: 'x' } }),
      next: policyWith((p) => (p.entries.reader.subjects = { 'test:x': { type: 'x' } })),
      event: { action: 'modified', path: '/entries/reader/subjects', value: { 'test:x': { type: 'x' } } },
    },
  },
  {
    name: 'another entry by the subjects administrator: 403',
    as: ADMIN,
    action: 'modify',
    path: { kind: 'entry', label: 'owner' },
    value: POLICY.entries.owner,
    expected: e('policies:entry.notmodifiable', 403),
  },
  {
    name: 'subjects of a missing entry: the entry is not found',
    action: 'modify',
    path: { kind: 'subjects', label: 'ghost' },
    value: {},
    expected: e('policies:entry.notfound', 404),
  },
  {
    name: 'subjects of an inherited label: not found (own keys only)',
    action: 'modify',
    path: { kind: 'subjects', label: 'constructor' },
    value: {},
    expected: e('policies:entry.notfound', 404),
  },
  {
    name: 'entries of a missing import: the import is not found',
    action: 'modify',
    path: { kind: 'importEntries', importedPolicyId: 'ns:lib' },
    value: [],
    expected: e('policies:import.notfound', 404),
  },
  {
    name: 'an invalid entry: 400',
    action: 'modify',
    path: READER_ENTRY,
    value: 'x',
    expected: e('json.format.invalid', 400),
  },
  {
    name: 'an import of a readable policy',
    action: 'modify',
    path: { kind: 'import', importedPolicyId: 'ns:lib' },
    value: {},
    expected: {
      status: 201,
      value: {},
      etag: hashTag({}),
      next: policyWith((p) => (p.imports = { 'ns:lib': {} })),
      event: { action: 'created', path: '/imports/ns:lib', value: {} },
    },
  },
  {
    name: 'an import of a policy not loaded yet: load it first',
    action: 'modify',
    path: { kind: 'import', importedPolicyId: 'ns:unloaded' },
    value: {},
    expected: { load: ['ns:unloaded'] },
  },
  {
    name: 'an import of a policy the writer may not read: 404 for it',
    action: 'modify',
    path: { kind: 'import', importedPolicyId: 'ns:hidden' },
    value: {},
    expected: e('policies:policy.notfound', 404),
  },
  {
    name: 'an import of a missing policy: 404 for it',
    action: 'modify',
    path: { kind: 'import', importedPolicyId: 'ns:gone' },
    value: {},
    expected: e('policies:policy.notfound', 404),
  },
  {
    name: 'the owner entry away (lockout): 403',
    action: 'delete',
    path: { kind: 'entry', label: 'owner' },
    expected: e('policies:entry.modificationinvalid', 403),
  },
  {
    name: 'the whole policy without a writer (lockout): 403',
    action: 'modify',
    path: ROOT,
    value: { entries: { reader: POLICY.entries.reader } },
    expected: e('policies:policy.modificationinvalid', 403),
  },
  {
    name: 'with a stale If-Match: 412',
    action: 'modify',
    path: ROOT,
    value: POLICY,
    headers: { 'if-match': '"rev:2"' },
    expected: e('policies:precondition.failed', 412, '"rev:3"'),
  },
  {
    name: 'an entry with If-Match of the revision: 412',
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    headers: { 'if-match': '"rev:3"' },
    expected: e('policies:precondition.failed', 412, hashTag(POLICY.entries.reader)),
  },
  {
    name: 'an existing entry with If-None-Match *: 412',
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    headers: { 'if-none-match': '*' },
    expected: e('policies:precondition.failed', 412, hashTag(POLICY.entries.reader)),
  },
  {
    name: 'an entry to its value with if-equal: skip: 412',
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    headers: { 'if-equal': 'skip' },
    expected: e('policies:precondition.failed', 412),
  },
  {
    name: 'with an unknown if-equal: 400',
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    headers: { 'if-equal': 'often' },
    expected: e('header.invalid', 400),
  },
  {
    name: 'delete of an entry: no ETag',
    action: 'delete',
    path: READER_ENTRY,
    expected: {
      status: 204,
      next: policyWith((p) => delete p.entries.reader),
      event: { action: 'deleted', path: '/entries/reader' },
    },
  },
  {
    name: 'delete of a missing entry: 404',
    action: 'delete',
    path: { kind: 'entry', label: 'ghost' },
    expected: e('policies:entry.notfound', 404),
  },
  {
    name: 'delete of the whole policy',
    action: 'delete',
    path: ROOT,
    expected: { status: 204, next: null, event: { action: 'deleted', path: '/' } },
  },
  {
    name: 'delete of the whole policy by a reader: 403',
    as: READER,
    action: 'delete',
    path: ROOT,
    expected: e('policies:policy.notmodifiable', 403),
  },
];

const created = { policyId: 'ns:p', entries: { owner: POLICY.entries.owner } };
const creations: Row[] = (['absent', 'deleted'] as const).flatMap((state): Row[] => [
  {
    name: `${state}: the whole policy: 201 with it`,
    state,
    action: 'modify',
    path: ROOT,
    value: { entries: { owner: POLICY.entries.owner } },
    expected: {
      status: 201,
      value: created,
      etag: state === 'absent' ? '"rev:1"' : '"rev:5"',
      next: created,
      event: { action: 'created', path: '/', value: created },
    },
  },
  {
    name: `${state}: create`,
    state,
    action: 'create',
    path: ROOT,
    value: created,
    expected: {
      status: 201,
      value: created,
      etag: state === 'absent' ? '"rev:1"' : '"rev:5"',
      next: created,
      event: { action: 'created', path: '/', value: created },
    },
  },
  {
    name: `${state}: an entry: the policy is not found`,
    state,
    action: 'modify',
    path: READER_ENTRY,
    value: POLICY.entries.reader,
    expected: notFound,
  },
  { name: `${state}: delete: not found`, state, action: 'delete', path: ROOT, expected: notFound },
  {
    name: `${state}: with If-Match *: 412`,
    state,
    action: 'modify',
    path: ROOT,
    value: created,
    headers: { 'if-match': '*' },
    expected: e('policies:precondition.failed', 412),
  },
  {
    name: `${state}: by a creator it does not let write: 403`,
    state,
    as: STRANGER,
    action: 'modify',
    path: ROOT,
    value: created,
    expected: e('policies:policy.modificationinvalid', 403),
  },
  {
    name: `${state}: by a creator it does not let write, with allow-policy-lockout`,
    state,
    as: STRANGER,
    action: 'modify',
    path: ROOT,
    value: created,
    headers: { 'allow-policy-lockout': 'true' },
    expected: {
      status: 201,
      value: created,
      etag: state === 'absent' ? '"rev:1"' : '"rev:5"',
      next: created,
      event: { action: 'created', path: '/', value: created },
    },
  },
  {
    name: `${state}: importing a policy not loaded yet: load it first`,
    state,
    action: 'modify',
    path: ROOT,
    value: { ...created, imports: { 'ns:unloaded': {} } },
    expected: { load: ['ns:unloaded'] },
  },
  {
    name: `${state}: importing a policy the creator may not read: 404`,
    state,
    action: 'modify',
    path: ROOT,
    value: { ...created, imports: { 'ns:hidden': {} } },
    expected: e('policies:policy.notfound', 404),
  },
  {
    name: `${state}: a non-object: 400`,
    state,
    action: 'modify',
    path: ROOT,
    value: 'x',
    expected: e('json.format.invalid', 400),
  },
]);

const tables = { retrieve: retrieves, write: writes, 'absent and deleted policies': creations };

describe('decidePolicyWrite / decidePolicyRetrieve', () => {
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
});

describe('decideSubjectRemoval', () => {
  const command = commandOf({ action: 'modify', path: ROOT }, 'ns:p');

  it('removes the listed subjects that are there, without permission or lockout checks', () => {
    const change = decideSubjectRemoval(EXISTING, command, [
      { label: 'owner', subjectId: OWNER },
      { label: 'reader', subjectId: 'test:absent' },
    ]);
    const next = policyWith((p) => delete p.entries.owner.subjects[OWNER]);
    expect(change).toMatchObject({
      kind: 'change',
      next,
      event: { action: 'modified', path: '/', value: next },
      response: { status: 204 },
    });
  });

  it('decides nothing when none of them is there', () => {
    expect(decideSubjectRemoval(EXISTING, command, [{ label: 'ghost', subjectId: OWNER }])).toBeUndefined();
  });
});
