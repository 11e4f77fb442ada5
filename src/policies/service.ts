/**
 * Policy command handling (ditto-interfaces.md §2.8, §7): create, retrieve, modify and delete at every
 * level of a policy, with revisions, ETag preconditions, enforcement of the policy on itself and lockout
 * protection.
 *
 * Writes are pipelined per policy like thing writes (src/things/service.ts): a command is computed against
 * the latest ACCEPTED policy (the head of the StorePolicyDirectory, shared with the things service), handed
 * to the store synchronously and noted in the head at once, so the things service enforces a new policy
 * from the moment it is accepted. The caller is answered once the write is durable. Reads see durable
 * state only. Policy changes are journaled with their events for history (streamed by the streaming
 * subscription protocol), never published: §2.8 policy events are not delivered to subscribers.
 */
import { setOriginator, type AuthContext } from '../auth/context.js';
import { DittoError } from '../errors/ditto-error.js';
import * as errors from '../errors/policies.js';
import { isValidNamespacedId } from '../model/ids.js';
import { withSpecialFields } from '../model/special-fields.js';
import { entityAt, historicalHeadersOf, historicalPointOf, historyOf, persistedHeaders, type History } from '../history/history.js';
import type { DittoHeaders, PolicyEvent } from '../model/signals.js';
import { ConcurrentModificationError, type Change, type EntityRecord, type Store } from '../store/port.js';
import { retryConflicts, type ConflictRetry } from '../store/retry.js';
import { hashTag, revisionTag } from '../util/etag.js';
import { asksPreconditions, checkPreconditions, ifEqualOf, skippedAsEqual } from '../util/preconditions.js';
import { jsonEqual } from '../util/merge-patch.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { deleteAt, getAt, isPlainObject, setAt } from '../util/json-pointer.js';
import type { StorePolicyDirectory } from './directory.js';
import type { Policy } from './model.js';
import { validatePolicy } from './validate.js';

/** The addressable levels of a policy (§2.8). */
export type PolicyPath =
  | { kind: 'policy' }
  | { kind: 'entries' }
  | { kind: 'entry'; label: string }
  | { kind: 'subjects'; label: string }
  | { kind: 'subject'; label: string; subjectId: string }
  | { kind: 'resources'; label: string }
  | { kind: 'resource'; label: string; resource: string }
  | { kind: 'importable'; label: string }
  | { kind: 'namespaces'; label: string }
  | { kind: 'imports' }
  | { kind: 'import'; importedPolicyId: string }
  | { kind: 'importEntries'; importedPolicyId: string };

/** `create` fails on an existing policy (409, protocol create); `modify` upserts (HTTP PUT). */
export type PolicyCommandAction = 'create' | 'retrieve' | 'modify' | 'delete';

export interface PolicyCommand {
  policyId: string;
  action: PolicyCommandAction;
  path: PolicyPath;
  value?: unknown;
  headers: DittoHeaders;
  /** A field selector for retrieve (§2.3). */
  fields?: string;
}

export interface PolicyCommandResponse {
  policyId: string;
  action: PolicyCommandAction;
  path: PolicyPath;
  /** 200 retrieved, 201 created (with value), 204 modified or deleted. */
  status: number;
  value?: unknown;
  headers: DittoHeaders;
}

export interface PoliciesServiceOptions {
  store: Store;
  directory: StorePolicyDirectory;
  maxPolicyBytes?: number;
  now?: () => Date;
  /** After each durable policy write of this service (subject announcements, src/policies/announcements.ts). */
  onChanged?: (policyId: string, previous: Policy | undefined, next: Policy | null) => void;
  /** Historical reads and the headers kept with each change (default: over `store`, keeping everything, no headers). */
  history?: History;
}

type PolicyRecord = EntityRecord<Policy>;

const READ = ['READ'] as const;
const WRITE = ['WRITE'] as const;

export class PoliciesService {
  private readonly store: Store;
  private readonly directory: StorePolicyDirectory;
  private readonly maxPolicyBytes: number;
  private readonly now: () => Date;
  private readonly history: History;
  onChanged: PoliciesServiceOptions['onChanged'];
  /** Another writer (instance) changed the policy: reload it and compute again. */
  private readonly conflicts: ConflictRetry = {
    reset: (err) => {
      if (err instanceof ConcurrentModificationError) this.directory.forget(err.id);
    },
  };

  constructor(options: PoliciesServiceOptions) {
    this.store = options.store;
    this.directory = options.directory;
    this.maxPolicyBytes = options.maxPolicyBytes ?? 100 * 1024;
    this.now = options.now ?? (() => new Date());
    this.onChanged = options.onChanged;
    this.history = options.history ?? historyOf(options.store);
  }

  /**
   * Removes subjects whose expiry passed (§7.1): a write of the service itself, not of a client, so no
   * permission applies; lockout protection does not either (Ditto deletes expired subjects regardless).
   */
  async removeSubjects(policyId: string, subjects: ReadonlyArray<{ label: string; subjectId: string }>): Promise<void> {
    await retryConflicts(async () => {
      await this.directory.load(policyId);
      const current = this.directory.headOf(policyId);
      if (!current?.value) return;
      let next = current.value;
      for (const { label, subjectId } of subjects) {
        if (next.entries[label]?.subjects[subjectId] !== undefined) next = deleteAt(next, ['entries', label, 'subjects', subjectId]) as Policy;
      }
      if (next === current.value) return;
      await this.commit({ policyId, action: 'modify', path: { kind: 'policy' }, headers: {} }, current, next, 204, undefined);
    }, this.conflicts);
  }

  /** Executes a policy command for `auth`; resolves with the response or rejects with a DittoError. */
  async execute(command: PolicyCommand, auth: AuthContext): Promise<PolicyCommandResponse> {
    if (!isValidNamespacedId(command.policyId)) throw errors.policyIdInvalid({ id: command.policyId });
    setOriginator(command.headers, auth);
    if (command.action === 'retrieve') return this.retrieve(command, auth);
    return retryConflicts(() => this.write(command, auth), this.conflicts);
  }

  // ---------------------------------------------------------------------------------------------- reads

  private async retrieve(command: PolicyCommand, auth: AuthContext): Promise<PolicyCommandResponse> {
    const { policyId, path } = command;
    const current = (await this.store.get('policy', policyId)) as PolicyRecord | undefined;
    if (!current?.value) throw errors.policyNotFound({ policyId });
    const enforcer = await this.directory.enforcerFor(policyId);
    // ditto: §14 item 2 — no READ at all is 404, never 403.
    if (!enforcer?.hasPartial('policy:/', auth.subjects, READ)) throw errors.policyNotFound({ policyId });
    // ditto: basic-history — the policy as it was, enforced and pruned by the policy as it is now.
    const point = historicalPointOf(command.headers);
    const entry = point === undefined ? undefined : await entityAt(this.history, 'policy', current, point, (at) => errors.policyHistoryNotFound({ policyId, at }));
    const record = (entry?.record ?? current) as PolicyRecord;
    if (!record.value) throw errors.policyNotFound({ policyId });
    const segments = segmentsOf(path);
    const value = getAt(record.value, segments);
    if (value === undefined) throw notFound(policyId, path);
    let pruned = enforcer.filterReadable('policy', '/' + segments.join('/'), value, auth.subjects);
    if (pruned === undefined) throw notFound(policyId, path);
    if (path.kind === 'policy' && isPlainObject(pruned)) pruned = { policyId, ...pruned };
    const etag = path.kind === 'policy' ? revisionTag(record.revision) : hashTag(value);
    checkPreconditions(command.headers, etag, true, errors);
    let result = pruned;
    if (command.fields !== undefined && isPlainObject(pruned)) {
      result = applyFieldSelector(path.kind === 'policy' ? withSpecialFields(pruned, record) : pruned, command.fields);
    }
    return respond(command, 200, result, entry === undefined ? { etag } : { etag, 'historical-headers': historicalHeadersOf(entry) });
  }

  // --------------------------------------------------------------------------------------------- writes

  private async write(command: PolicyCommand, auth: AuthContext): Promise<PolicyCommandResponse> {
    const { policyId, path } = command;
    await this.directory.load(policyId);
    const current = this.directory.headOf(policyId);
    if (!current?.value) return this.create(command, auth, current ?? undefined);
    if (command.action === 'create' && path.kind === 'policy') throw errors.policyConflict({ policyId });

    // Everything from here until store.write is synchronous, so it sees the latest head.
    const policy = current.value;
    const segments = segmentsOf(path);
    const enforcer = this.directory.enforcerOfHead(policyId)!;
    if (!enforcer.hasPartial('policy:/', auth.subjects, READ)) throw errors.policyNotFound({ policyId });
    const currentValue = getAt(policy, segments);
    if (asksPreconditions(command.headers)) {
      checkPreconditions(command.headers, currentValue === undefined ? undefined : path.kind === 'policy' ? revisionTag(current.revision) : hashTag(currentValue), false, errors);
    }
    if (!enforcer.hasUnrestricted(resourceOf(segments), auth.subjects, WRITE)) throw notModifiable(policyId, path);
    requireParent(policy, path, policyId);

    let next: Policy | null = null;
    if (command.action === 'delete') {
      if (currentValue === undefined) throw notFound(policyId, path);
      if (path.kind !== 'policy') next = this.validated(deleteAt(policy, segments), policyId);
    } else {
      next = this.validated(setAt(policy, segments, command.value), policyId);
      const ifEqual = ifEqualOf(command.headers);
      if (ifEqual !== 'update' && currentValue !== undefined && jsonEqual(getAt(next, segments), currentValue)) throw skippedAsEqual(ifEqual, errors);
      // Imports the new policy names must be in the head to judge lockout protection; then compute again.
      const missing = Object.keys(next.imports ?? {}).filter((id) => this.directory.headOf(id) === undefined);
      if (missing.length > 0) {
        await Promise.all(missing.map((id) => this.directory.load(id)));
        return this.write(command, auth);
      }
      this.directory.checkImportsReadable(next, importsWritten(path, next), auth);
    }
    if (next !== null && !this.directory.enforcerOfCandidate(next).subjectsWithUnrestricted('policy:/', WRITE).size) {
      // ditto: §2.8, §7.3 lockout protection — some subject must keep unrestricted WRITE on policy:/.
      throw isEntryLevel(path) ? errors.entryModificationInvalid({ policyId, label: path.label }) : errors.policyModificationInvalid({ policyId });
    }
    const created = command.action !== 'delete' && currentValue === undefined;
    const status = created ? 201 : 204;
    return this.commit(command, current, next, status, status === 201 ? getAt(next, segments) : undefined);
  }

  /** A policy that does not exist (or was deleted): only the whole policy can be created (§2.8). */
  private async create(command: PolicyCommand, auth: AuthContext, deleted: PolicyRecord | undefined): Promise<PolicyCommandResponse> {
    const { policyId, path } = command;
    if (path.kind !== 'policy' || command.action === 'delete') throw errors.policyNotFound({ policyId });
    checkPreconditions(command.headers, undefined, false, errors);
    const policy = this.validated(command.value, policyId);
    const missing = Object.keys(policy.imports ?? {}).filter((id) => this.directory.headOf(id) === undefined);
    if (missing.length > 0) await Promise.all(missing.map((id) => this.directory.load(id)));
    const latest = this.directory.headOf(policyId) ?? undefined;
    if (latest !== deleted) return this.write(command, auth); // created concurrently
    this.directory.checkImportsReadable(policy, Object.keys(policy.imports ?? {}), auth);
    // ditto: §7.3 `allow-policy-lockout` — without it the creator must keep unrestricted WRITE on policy:/.
    if (command.headers['allow-policy-lockout'] !== 'true' && !this.directory.enforcerOfCandidate(policy).hasUnrestricted('policy:/', auth.subjects, WRITE)) {
      throw errors.policyModificationInvalid({ policyId });
    }
    return this.commit(command, deleted, policy, 201, policy);
  }

  private validated(json: unknown, policyId: string): Policy {
    return validatePolicy(json, policyId, { maxSize: this.maxPolicyBytes });
  }

  /** Hands the change to the store and the directory's head, then answers once it is durable. */
  private async commit(command: PolicyCommand, previous: PolicyRecord | undefined, next: Policy | null, status: number, responseValue: unknown): Promise<PolicyCommandResponse> {
    const timestamp = this.now().toISOString();
    const revision = (previous?.revision ?? 0) + 1;
    const record: PolicyRecord = {
      kind: 'policy',
      id: command.policyId,
      revision,
      created: previous?.value ? previous.created : timestamp,
      modified: timestamp,
      value: next,
    };
    const segments = segmentsOf(command.path);
    // Journaled for history only (§2.8: policy events are not published).
    const event: PolicyEvent = { policyId: command.policyId, action: next === null || command.action === 'delete' ? 'deleted' : status === 201 ? 'created' : 'modified', path: '/' + segments.join('/'), revision, timestamp, headers: {} };
    if (event.action !== 'deleted') event.value = getAt(next, segments);
    const change: Change = { record, expectedRevision: previous?.revision ?? 0, event: { event } };
    const kept = persistedHeaders(this.history, command.headers);
    if (kept !== undefined) change.headers = kept;
    const writing = this.store.write([change]);
    this.directory.noteAccepted(record);
    try {
      await writing;
    } catch (err) {
      this.directory.forget(command.policyId);
      throw err;
    }
    this.onChanged?.(command.policyId, previous?.value ?? undefined, next);
    const etag = next === null || command.action === 'delete' ? undefined : segments.length === 0 ? revisionTag(revision) : hashTag(getAt(next, segments));
    return respond(command, status, responseValue, etag ? { etag } : {});
  }
}

/** The keys from the policy root to `path` (raw keys: resource keys contain `/`). */
export function segmentsOf(path: PolicyPath): string[] {
  switch (path.kind) {
    case 'policy':
      return [];
    case 'entries':
      return ['entries'];
    case 'entry':
      return ['entries', path.label];
    case 'subjects':
    case 'resources':
    case 'importable':
    case 'namespaces':
      return ['entries', path.label, path.kind];
    case 'subject':
      return ['entries', path.label, 'subjects', path.subjectId];
    case 'resource':
      return ['entries', path.label, 'resources', path.resource];
    case 'imports':
      return ['imports'];
    case 'import':
      return ['imports', path.importedPolicyId];
    case 'importEntries':
      return ['imports', path.importedPolicyId, 'entries'];
  }
}

/** The `policy:` resource guarding `segments` (§7.2). */
function resourceOf(segments: readonly string[]): string {
  return 'policy:/' + segments.join('/');
}

function isEntryLevel(path: PolicyPath): path is Extract<PolicyPath, { label: string }> {
  return 'label' in path;
}

/** Sub-resources of an entry need the entry; nothing is created on the way (§2.1). */
function requireParent(policy: Policy, path: PolicyPath, policyId: string): void {
  // Own keys only: a label such as `constructor` must not find Object.prototype's.
  if (isEntryLevel(path) && path.kind !== 'entry' && !Object.hasOwn(policy.entries, path.label)) {
    throw errors.entryNotFound({ policyId, label: path.label });
  }
  if (path.kind === 'importEntries' && !Object.hasOwn(policy.imports ?? {}, path.importedPolicyId)) {
    throw errors.importNotFound({ policyId, importedPolicyId: path.importedPolicyId });
  }
}

function notFound(policyId: string, path: PolicyPath): DittoError {
  switch (path.kind) {
    case 'policy':
      return errors.policyNotFound({ policyId });
    case 'entries':
      return errors.entriesNotFound({ policyId });
    case 'entry':
    case 'importable':
    case 'namespaces':
      return errors.entryNotFound({ policyId, label: path.label });
    case 'subjects':
      return errors.subjectsNotFound({ policyId, label: path.label });
    case 'subject':
      return errors.subjectNotFound({ policyId, label: path.label, subjectId: path.subjectId });
    case 'resources':
      return errors.resourcesNotFound({ policyId, label: path.label });
    case 'resource':
      return errors.resourceNotFound({ policyId, label: path.label, resource: path.resource });
    case 'imports':
      return errors.importsNotFound({ policyId });
    case 'import':
    case 'importEntries':
      return errors.importNotFound({ policyId, importedPolicyId: path.importedPolicyId });
  }
}

function notModifiable(policyId: string, path: PolicyPath): DittoError {
  switch (path.kind) {
    case 'policy':
      return errors.policyNotModifiable({ policyId });
    case 'entries':
      return errors.entriesNotModifiable({ policyId });
    case 'entry':
    case 'importable':
    case 'namespaces':
      return errors.entryNotModifiable({ policyId, label: path.label });
    case 'subjects':
      return errors.subjectsNotModifiable({ policyId, label: path.label });
    case 'subject':
      return errors.subjectNotModifiable({ policyId, label: path.label, subjectId: path.subjectId });
    case 'resources':
      return errors.resourcesNotModifiable({ policyId, label: path.label });
    case 'resource':
      return errors.resourceNotModifiable({ policyId, label: path.label, resource: path.resource });
    case 'imports':
      return errors.importsNotModifiable({ policyId });
    case 'import':
    case 'importEntries':
      return errors.importNotModifiable({ policyId, importedPolicyId: path.importedPolicyId });
  }
}

function respond(command: PolicyCommand, status: number, value: unknown, extra: DittoHeaders): PolicyCommandResponse {
  const headers: DittoHeaders = { ...extra };
  if (command.headers['correlation-id'] !== undefined) headers['correlation-id'] = command.headers['correlation-id'];
  const response: PolicyCommandResponse = { policyId: command.policyId, action: command.action, path: command.path, status, headers };
  if (value !== undefined) response.value = value;
  return response;
}

/** ditto: §7.4 the imports a write sets (whole policy, all imports, one import), whose entries the writer must READ. */
function importsWritten(path: PolicyPath, next: Policy): string[] {
  if (path.kind === 'import' || path.kind === 'importEntries') return [path.importedPolicyId];
  return path.kind === 'policy' || path.kind === 'imports' ? Object.keys(next.imports ?? {}) : [];
}
