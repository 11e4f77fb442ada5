/**
 * Policy command handling (ditto-interfaces.md §2.8, §7): create, retrieve, modify and delete at every
 * level of a policy, with revisions, ETag preconditions, enforcement of the policy on itself and lockout
 * protection. src/policies/decide.ts decides each command; this module loads what a decision needs,
 * retries after a conflict and commits.
 *
 * Writes are pipelined per policy like thing writes (src/things/service.ts): a command is decided on the
 * latest ACCEPTED policy (the head of the StorePolicyDirectory, shared with the things service), handed
 * to the store synchronously and noted in the head at once, so the things service enforces a new policy
 * from the moment it is accepted. The caller is answered once the write is durable. Reads see durable
 * state only. Policy changes are journaled with their events for history (streamed by the streaming
 * subscription protocol), never published: §2.8 policy events are not delivered to subscribers.
 */
import { setOriginator, type AuthContext } from '../auth/context.js';
import * as errors from '../errors/policies.js';
import {
  entityAt,
  historicalHeadersOf,
  historicalPointOf,
  historyOf,
  persistedHeaders,
  type History,
} from '../history/history.js';
import { isValidNamespacedId } from '../model/ids.js';
import type { PolicyEvent } from '../model/signals.js';
import { ConcurrentModificationError, recordAfter, type Change, type Store } from '../store/port.js';
import { retryConflicts, type ConflictRetry } from '../store/retry.js';
import type { PolicyCommand, PolicyCommandResponse } from './commands.js';
import {
  decidePolicyRetrieve,
  decidePolicyWrite,
  decideSubjectRemoval,
  type PolicyChange,
  type PolicyRecord,
  type PolicyRules,
} from './decide.js';
import type { StorePolicyDirectory } from './directory.js';
import type { Policy } from './model.js';

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

const READ = ['READ'] as const;

export class PoliciesService {
  private readonly store: Store;
  private readonly directory: StorePolicyDirectory;
  private readonly rules: PolicyRules;
  private readonly now: () => Date;
  private readonly history: History;
  onChanged: PoliciesServiceOptions['onChanged'];
  /** Another writer (instance) changed the policy: reload it and decide again. */
  private readonly conflicts: ConflictRetry = {
    reset: (err) => {
      if (err instanceof ConcurrentModificationError) this.directory.forget(err.id);
    },
  };

  constructor(options: PoliciesServiceOptions) {
    this.store = options.store;
    this.directory = options.directory;
    this.rules = { maxPolicyBytes: options.maxPolicyBytes ?? 100 * 1024 };
    this.now = options.now ?? (() => new Date());
    this.onChanged = options.onChanged;
    this.history = options.history ?? historyOf(options.store);
  }

  /** Removes subjects whose expiry passed (§7.1; see decideSubjectRemoval). */
  async removeSubjects(
    policyId: string,
    subjects: ReadonlyArray<{ label: string; subjectId: string }>,
  ): Promise<void> {
    const command: PolicyCommand = { policyId, action: 'modify', path: { kind: 'policy' }, headers: {} };
    await retryConflicts(async () => {
      await this.directory.load(policyId);
      const current = this.directory.headOf(policyId);
      const change = current?.value ? decideSubjectRemoval(current, command, subjects) : undefined;
      if (change) await this.commit(command, current!, change);
    }, this.conflicts);
  }

  /** Executes a policy command for `auth`; resolves with the response or rejects with a DittoError. */
  async execute(command: PolicyCommand, auth: AuthContext): Promise<PolicyCommandResponse> {
    if (!isValidNamespacedId(command.policyId)) throw errors.policyIdInvalid({ id: command.policyId });
    setOriginator(command.headers, auth);
    if (command.action === 'retrieve') return this.retrieve(command, auth);
    return retryConflicts(() => this.write(command, auth), this.conflicts);
  }

  private async retrieve(command: PolicyCommand, auth: AuthContext): Promise<PolicyCommandResponse> {
    const { policyId } = command;
    const current = (await this.store.get('policy', policyId)) as PolicyRecord | undefined;
    if (!current?.value) throw errors.policyNotFound({ policyId });
    const enforcer = await this.directory.enforcerFor(policyId);
    const point = historicalPointOf(command.headers);
    if (point === undefined) return decidePolicyRetrieve(current, command, enforcer, auth);
    // ditto: basic-history — the policy as it was, enforced and pruned by the policy as it is now; who may
    // not read the policy learns nothing of its history.
    if (!enforcer?.hasPartial('policy:/', auth.subjects, READ)) throw errors.policyNotFound({ policyId });
    const entry = await entityAt(this.history, 'policy', current, point, (at) =>
      errors.policyHistoryNotFound({ policyId, at }),
    );
    const response = decidePolicyRetrieve(entry.record as PolicyRecord, command, enforcer, auth);
    response.headers['historical-headers'] = historicalHeadersOf(entry);
    return response;
  }

  /** Decides the write on the cached head (loading the policy, and the policies it imports, first) and commits it. */
  private async write(command: PolicyCommand, auth: AuthContext): Promise<PolicyCommandResponse> {
    for (;;) {
      await this.directory.load(command.policyId);
      // Nothing awaits from here until store.write, so the decision sees the latest head.
      const current = this.directory.headOf(command.policyId);
      const decision = decidePolicyWrite(current, command, auth, this.directory, this.rules);
      if (decision.kind === 'change') return this.commit(command, current ?? undefined, decision);
      await Promise.all(decision.policyIds.map((id) => this.directory.load(id)));
    }
  }

  /** Hands the change to the store and the directory's head, then answers once it is durable. */
  private async commit(
    command: PolicyCommand,
    previous: PolicyRecord | undefined,
    change: PolicyChange,
  ): Promise<PolicyCommandResponse> {
    const timestamp = this.now().toISOString();
    const record = recordAfter(previous, 'policy', command.policyId, change.next, timestamp);
    // Journaled for history only (§2.8: policy events are not published).
    const event: PolicyEvent = {
      policyId: command.policyId,
      action: change.event.action,
      path: change.event.path,
      revision: record.revision,
      timestamp,
      headers: {},
    };
    if (change.event.value !== undefined) event.value = change.event.value;
    const storeChange: Change = { record, expectedRevision: previous?.revision ?? 0, event: { event } };
    const kept = persistedHeaders(this.history, command.headers);
    if (kept !== undefined) storeChange.headers = kept;
    const writing = this.store.write([storeChange]);
    this.directory.noteAccepted(record);
    try {
      await writing;
    } catch (err) {
      this.directory.forget(command.policyId);
      throw err;
    }
    this.onChanged?.(command.policyId, previous?.value ?? undefined, change.next);
    return change.response;
  }
}
