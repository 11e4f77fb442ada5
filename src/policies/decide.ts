/**
 * The decision of a policy command (ditto-interfaces.md §2.8, §7): what a retrieve answers and what a create,
 * modify or delete does to a policy at every level, with preconditions, the policy's enforcement on itself
 * (§7.3), the writer's READ on imported entries (§7.4) and lockout protection. Decided on the latest accepted
 * policies as the directory caches them (PolicyHeads), with no I/O and no promise: PoliciesService loads what
 * a decision needs and commits it.
 */
import type { AuthContext } from '../auth/context.js';
import type { DittoError } from '../errors/ditto-error.js';
import * as errors from '../errors/policies.js';
import type { DittoHeaders, PolicyEvent } from '../model/signals.js';
import { withSpecialFields } from '../model/special-fields.js';
import { revisionAfter, type EntityRecord } from '../store/port.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import { hashTag, revisionTag } from '../util/etag.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { deleteAt, getAt, isPlainObject, setAt } from '../util/json-pointer.js';
import { jsonEqual } from '../util/merge-patch.js';
import { asksPreconditions, checkPreconditions, ifEqualOf, skippedAsEqual } from '../util/preconditions.js';
import { segmentsOf, type PolicyCommand, type PolicyCommandResponse, type PolicyPath } from './commands.js';
import type { Enforcer } from './enforcer.js';
import type { Policy } from './model.js';
import { validatePolicy } from './validate.js';

export type PolicyRecord = EntityRecord<Policy>;

/** What a decision reads of the cached policies (StorePolicyDirectory); nothing of it loads. */
export interface PolicyHeads {
  /** The latest accepted record (value null: deleted); null: known not to exist; undefined: not loaded. */
  headOf(policyId: string): PolicyRecord | null | undefined;
  enforcerOfHead(policyId: string): ThingEnforcer | undefined;
  /** A policy not accepted yet, compiled with its imports as cached. */
  enforcerOfCandidate(policy: Policy): Enforcer;
  /** ditto: §7.4 throws 404 unless `auth` may READ the entries `policy` imports from `importedIds`. */
  checkImportsReadable(policy: Policy, importedIds: readonly string[], auth: AuthContext): void;
}

export interface PolicyRules {
  /** The largest policy JSON, in bytes. */
  maxPolicyBytes: number;
}

export type PolicyDecision = PolicyChange | PoliciesToLoad;

/** A change of the policy, answered with `response` once it is durable. */
export interface PolicyChange {
  readonly kind: 'change';
  /** The policy after the change; null: deleted. */
  readonly next: Policy | null;
  /** The event journaled with it (§2.8: never published). */
  readonly event: Pick<PolicyEvent, 'action' | 'path' | 'value'>;
  readonly response: PolicyCommandResponse;
}

/** The policies the written policy imports are not loaded yet: load them, then decide again. */
export interface PoliciesToLoad {
  readonly kind: 'load';
  readonly policyIds: readonly string[];
}

const READ = ['READ'] as const;
const WRITE = ['WRITE'] as const;

/** Decides a create, modify or delete of `command.policyId`, whose latest accepted record is `current`. */
export function decidePolicyWrite(
  current: PolicyRecord | null | undefined,
  command: PolicyCommand,
  auth: AuthContext,
  heads: PolicyHeads,
  rules: PolicyRules,
): PolicyDecision {
  const { policyId, path } = command;
  if (!current?.value) return decideCreation(current ?? undefined, command, auth, heads, rules);
  if (command.action === 'create' && path.kind === 'policy') throw errors.policyConflict({ policyId });
  const policy = current.value;
  const segments = segmentsOf(path);
  const enforcer = heads.enforcerOfHead(policyId);
  // ditto: §14 item 2 — no READ at all is 404, never 403.
  if (!enforcer?.hasPartial('policy:/', auth.subjects, READ)) throw errors.policyNotFound({ policyId });
  const currentValue = getAt(policy, segments);
  if (asksPreconditions(command.headers)) {
    checkPreconditions(
      command.headers,
      currentValue === undefined
        ? undefined
        : path.kind === 'policy'
          ? revisionTag(current.revision)
          : hashTag(currentValue),
      false,
      errors,
    );
  }
  if (!enforcer.hasUnrestricted(resourceOf(segments), auth.subjects, WRITE))
    throw notModifiable(policyId, path);
  requireParent(policy, path, policyId);

  let next: Policy | null = null;
  if (command.action === 'delete') {
    if (currentValue === undefined) throw notFound(policyId, path);
    if (path.kind !== 'policy')
      next = validatePolicy(deleteAt(policy, segments), policyId, { maxSize: rules.maxPolicyBytes });
  } else {
    next = validatePolicy(setAt(policy, segments, command.value), policyId, {
      maxSize: rules.maxPolicyBytes,
    });
    const ifEqual = ifEqualOf(command.headers);
    if (ifEqual !== 'update' && currentValue !== undefined && jsonEqual(getAt(next, segments), currentValue))
      throw skippedAsEqual(ifEqual, errors);
    // The policies the new one imports must be cached to judge lockout protection and the writer's READ.
    const missing = missingImports(next, heads);
    if (missing.length > 0) return { kind: 'load', policyIds: missing };
    heads.checkImportsReadable(next, importsWritten(path, next), auth);
  }
  if (next !== null && !heads.enforcerOfCandidate(next).subjectsWithUnrestricted('policy:/', WRITE).size) {
    // ditto: §2.8, §7.3 lockout protection — some subject must keep unrestricted WRITE on policy:/.
    throw isEntryLevel(path)
      ? errors.entryModificationInvalid({ policyId, label: path.label })
      : errors.policyModificationInvalid({ policyId });
  }
  const created = command.action !== 'delete' && currentValue === undefined;
  return changeOf(command, segments, current, next, created ? 201 : 204);
}

/** A policy that does not exist (or was deleted, `previous`): only the whole policy can be created (§2.8). */
function decideCreation(
  previous: PolicyRecord | undefined,
  command: PolicyCommand,
  auth: AuthContext,
  heads: PolicyHeads,
  rules: PolicyRules,
): PolicyDecision {
  const { policyId, path } = command;
  if (path.kind !== 'policy' || command.action === 'delete') throw errors.policyNotFound({ policyId });
  checkPreconditions(command.headers, undefined, false, errors);
  const policy = validatePolicy(command.value, policyId, { maxSize: rules.maxPolicyBytes });
  const missing = missingImports(policy, heads);
  if (missing.length > 0) return { kind: 'load', policyIds: missing };
  heads.checkImportsReadable(policy, Object.keys(policy.imports ?? {}), auth);
  // ditto: §7.3 `allow-policy-lockout` — without it the creator must keep unrestricted WRITE on policy:/.
  if (
    command.headers['allow-policy-lockout'] !== 'true' &&
    !heads.enforcerOfCandidate(policy).hasUnrestricted('policy:/', auth.subjects, WRITE)
  ) {
    throw errors.policyModificationInvalid({ policyId });
  }
  return changeOf(command, [], previous, policy, 201);
}

/**
 * §7.1 the removal of expired subjects from `current`, a write of the service itself (no permission, no
 * lockout protection: Ditto deletes expired subjects regardless); undefined when none of them is left.
 */
export function decideSubjectRemoval(
  current: PolicyRecord,
  command: PolicyCommand,
  subjects: ReadonlyArray<{ label: string; subjectId: string }>,
): PolicyChange | undefined {
  let next = current.value!;
  for (const { label, subjectId } of subjects) {
    if (next.entries[label]?.subjects[subjectId] !== undefined)
      next = deleteAt(next, ['entries', label, 'subjects', subjectId]) as Policy;
  }
  return next === current.value ? undefined : changeOf(command, [], current, next, 204);
}

/** The answer to a retrieve of `record` (the current one, or one from history), enforced by `enforcer` (the policy as it is now). */
export function decidePolicyRetrieve(
  record: PolicyRecord,
  command: PolicyCommand,
  enforcer: ThingEnforcer | undefined,
  auth: AuthContext,
): PolicyCommandResponse {
  const { policyId, path } = command;
  if (!record.value || !enforcer?.hasPartial('policy:/', auth.subjects, READ))
    throw errors.policyNotFound({ policyId });
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
    result = applyFieldSelector(
      path.kind === 'policy' ? withSpecialFields(pruned, record) : pruned,
      command.fields,
    );
  }
  return respond(command, 200, result, etag);
}

function changeOf(
  command: PolicyCommand,
  segments: readonly string[],
  previous: PolicyRecord | undefined,
  next: Policy | null,
  status: 201 | 204,
): PolicyChange {
  const deleted = next === null || command.action === 'delete';
  const value = deleted ? undefined : getAt(next, segments);
  const event: PolicyChange['event'] = {
    action: deleted ? 'deleted' : status === 201 ? 'created' : 'modified',
    path: '/' + segments.join('/'),
  };
  if (!deleted) event.value = value;
  const etag = deleted
    ? undefined
    : segments.length === 0
      ? revisionTag(revisionAfter(previous))
      : hashTag(value);
  return {
    kind: 'change',
    next,
    event,
    response: respond(command, status, status === 201 ? value : undefined, etag),
  };
}

function respond(
  command: PolicyCommand,
  status: number,
  value: unknown,
  etag: string | undefined,
): PolicyCommandResponse {
  const headers: DittoHeaders = etag === undefined ? {} : { etag };
  if (command.headers['correlation-id'] !== undefined)
    headers['correlation-id'] = command.headers['correlation-id'];
  const response: PolicyCommandResponse = {
    policyId: command.policyId,
    action: command.action,
    path: command.path,
    status,
    headers,
  };
  if (value !== undefined) response.value = value;
  return response;
}

function missingImports(policy: Policy, heads: PolicyHeads): string[] {
  return Object.keys(policy.imports ?? {}).filter((id) => heads.headOf(id) === undefined);
}

/** ditto: §7.4 the imports a write sets (whole policy, all imports, one import), whose entries the writer must READ. */
function importsWritten(path: PolicyPath, next: Policy): string[] {
  if (path.kind === 'import' || path.kind === 'importEntries') return [path.importedPolicyId];
  return path.kind === 'policy' || path.kind === 'imports' ? Object.keys(next.imports ?? {}) : [];
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
