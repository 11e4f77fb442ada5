/**
 * Thing command handling (ditto-interfaces.md §1.2, §2.1–§2.5, §4.3): create, retrieve, modify, merge and
 * delete at every path, with revisions, ETag preconditions, conditions, policy enforcement, events and
 * historical reads. This module brings each command what it is decided on and carries the decision out:
 *
 * - src/things/decide.ts decides a command (pure: the answer, or the next state and its event);
 * - src/things/heads.ts keeps the latest accepted state per thing, the order of writes, and retries;
 * - src/things/commit.ts writes a change, publishes its event and answers once it is durable.
 *
 * Writes are pipelined per thing: a command is decided on the thing's head (which includes writes not yet
 * durable) and handed to the store synchronously, so commands on one thing are applied in arrival order and
 * many of them share one durable commit. Reads see durable state only.
 */
import { setOriginator, type AuthContext } from '../auth/context.js';
import type { SignalBus } from '../bus/signal-bus.js';
import { thingHistoryNotFound, thingIdInvalid, thingNotCreatable, thingNotFound } from '../errors/things.js';
import {
  entityAt,
  historicalHeadersOf,
  historicalPointOf,
  historyOf,
  type History,
} from '../history/history.js';
import { isValidNamespacedId } from '../model/ids.js';
import type { ThingCommand, ThingCommandResponse } from '../model/signals.js';
import { thingResourceAt } from '../model/thing.js';
import { compileTemplate, parseRefName, refResolver, resolveOrThrow } from '../placeholders/index.js';
import type { Store } from '../store/port.js';
import { isPlainObject } from '../util/json-pointer.js';
import { ThingCommit } from './commit.js';
import {
  decide,
  decideCreation,
  decideRetrieve,
  selectsPolicy,
  type Creation,
  type DecideRules,
  type ThingRecord,
  type ThingState,
} from './decide.js';
import { ThingHeads } from './heads.js';
import type { PolicyDirectory } from './policy-directory.js';

export type { ThingRecord } from './decide.js';

export interface ThingsServiceOptions {
  store: Store;
  bus: SignalBus;
  policies: PolicyDirectory;
  /** ditto: §1.2 LIMITS_THINGS_MAX_SIZE (100 kB) */
  maxThingBytes?: number;
  now?: () => Date;
  /** Evaluates an RQL `condition` against a thing; throws a DittoError for an invalid expression. */
  evaluateCondition?: DecideRules['evaluateCondition'];
  /**
   * Other instances write to the same store (docs/scale-out.md): a write whose precondition or condition
   * failed (412) on the cached head is decided again once on a freshly loaded head.
   */
  sharedStore?: boolean;
  /** Historical reads and the headers kept with each change (default: over `store`, keeping everything, no headers). */
  history?: History;
}

const READ = ['READ'] as const;

export class ThingsService {
  private readonly store: Store;
  private readonly policies: PolicyDirectory;
  private readonly now: () => Date;
  private readonly rules: DecideRules;
  private readonly history: History;
  private readonly heads: ThingHeads;
  private readonly commits: ThingCommit;

  constructor(options: ThingsServiceOptions) {
    this.store = options.store;
    this.policies = options.policies;
    this.now = options.now ?? (() => new Date());
    this.rules = { evaluateCondition: options.evaluateCondition };
    this.history = options.history ?? historyOf(options.store);
    this.heads = new ThingHeads({
      store: options.store,
      policies: options.policies,
      sharedStore: options.sharedStore ?? false,
    });
    this.commits = new ThingCommit({
      store: options.store,
      bus: options.bus,
      heads: this.heads,
      policies: options.policies,
      history: this.history,
      maxThingBytes: options.maxThingBytes ?? 100 * 1024,
      now: this.now,
    });
  }

  /**
   * Scale-out (src/cluster): before an event of this instance is published, `order` (when it returns a
   * promise) is awaited, so the events of other instances committed before it are published first and
   * every subscriber sees each thing's revisions in order.
   */
  orderPublicationsBy(order: () => Promise<void> | undefined): void {
    this.commits.orderPublicationsBy(order);
  }

  /** Another instance committed `revision` of the thing (src/cluster): see ThingHeads.noteRemoteChange. */
  noteRemoteChange(thingId: string, revision: number): void {
    this.heads.noteRemoteChange(thingId, revision);
  }

  /**
   * Executes a twin command for `auth`; resolves with the response or rejects with a DittoError. Not an async
   * function: it hands on the promise of the read or the write (this runs per message and per request).
   */
  execute(command: ThingCommand, auth: AuthContext): Promise<ThingCommandResponse> {
    try {
      if (!isValidNamespacedId(command.thingId)) throw thingIdInvalid({ id: command.thingId });
      setOriginator(command.headers, auth);
      thingResourceAt(command.path); // a path that addresses nothing is refused before anything loads
    } catch (err) {
      return Promise.reject(err);
    }
    if (command.action === 'retrieve') return this.retrieve(command, auth);
    return this.write(command, auth).catch((err: unknown) =>
      this.heads.retry(command.thingId, err, () => this.write(command, auth)),
    );
  }

  /** The durable thing, or undefined when missing or deleted. */
  async get(thingId: string): Promise<ThingRecord | undefined> {
    const record = (await this.store.get('thing', thingId)) as ThingRecord | undefined;
    return record?.value ? record : undefined;
  }

  /** The thing as `auth` may see it (pruned), or undefined when nothing of it is readable. */
  async readable(
    thingId: string,
    auth: AuthContext,
  ): Promise<{ record: ThingRecord; thing: Record<string, unknown> } | undefined> {
    const record = await this.get(thingId);
    if (!record) return undefined;
    const enforcer = await this.policies.enforcerFor(record.value!.policyId);
    const thing = enforcer?.filterReadable('thing', '/', record.value, auth.subjects);
    return isPlainObject(thing) ? { record, thing } : undefined;
  }

  // ---------------------------------------------------------------------------------------------- reads

  /**
   * A retrieve answered at once, or undefined when it has to wait (a record or policy to load, or the
   * `_policy` field to add); throws what `execute` would reject with. HTTP GET asks it first: no promise and
   * no timeout timer per read of a cached thing.
   */
  retrieveNow(command: ThingCommand, auth: AuthContext): ThingCommandResponse | undefined {
    if (!this.store.getSync || !isValidNamespacedId(command.thingId)) return undefined;
    if (
      command.headers['at-historical-revision'] !== undefined ||
      command.headers['at-historical-timestamp'] !== undefined
    )
      return undefined;
    const resource = thingResourceAt(command.path);
    const stored = this.store.getSync('thing', command.thingId) as ThingRecord | undefined;
    const policyId = stored?.value?.policyId;
    if (stored?.value && (policyId === undefined || !this.policies.isLoaded(policyId))) return undefined;
    if (selectsPolicy(command, resource)) return undefined;
    setOriginator(command.headers, auth);
    return decideRetrieve(
      { record: stored },
      command,
      policyId === undefined ? undefined : this.policies.enforcerOfHead(policyId),
      auth,
      this.rules,
    );
  }

  private async retrieve(command: ThingCommand, auth: AuthContext): Promise<ThingCommandResponse> {
    const { thingId } = command;
    // A store that keeps its state in memory, and a cached policy, answer without a promise.
    const current = (
      this.store.getSync ? this.store.getSync('thing', thingId) : await this.store.get('thing', thingId)
    ) as ThingRecord | undefined;
    if (!current?.value) throw thingNotFound({ thingId });
    const policyId = current.value.policyId;
    const enforcer =
      policyId !== undefined && this.policies.isLoaded(policyId)
        ? this.policies.enforcerOfHead(policyId)
        : await this.policies.enforcerFor(policyId);
    // `_policy` shows the thing's policy as it is now (also in a historical read).
    const policy =
      policyId !== undefined && selectsPolicy(command, thingResourceAt(command.path))
        ? await this.policies.load(policyId)
        : undefined;
    const point = historicalPointOf(command.headers);
    if (point === undefined)
      return decideRetrieve({ record: current, policy }, command, enforcer, auth, this.rules);
    // ditto: basic-history — the thing as it was, enforced and pruned with its policy as it is now; who may
    // not read the thing learns nothing of its history.
    if (!enforcer?.hasPartial('thing:/', auth.subjects, READ)) throw thingNotFound({ thingId });
    const entry = await entityAt(this.history, 'thing', current, point, (at) =>
      thingHistoryNotFound({ thingId, at }),
    );
    const response = decideRetrieve(
      { record: entry.record as ThingRecord, policy },
      command,
      enforcer,
      auth,
      this.rules,
    );
    response.headers['historical-headers'] = historicalHeadersOf(entry);
    return response;
  }

  // --------------------------------------------------------------------------------------------- writes

  /**
   * Writes keep the arrival order per thing (ThingHeads.inTurn). Fast path: the thing and its policy are cached
   * and no earlier command of the thing is waiting, so the command is decided and handed to the store without
   * an await. Never throws: a refused command rejects.
   */
  private write(command: ThingCommand, auth: AuthContext): Promise<ThingCommandResponse> {
    if (this.heads.isReady(command.thingId)) return this.decideAndCommit(command, auth);
    return this.heads.inTurn(command.thingId, () => this.decideAndCommit(command, auth));
  }

  /**
   * Decides a write on the cached head and commits it, synchronously up to store.write; only a creation (its
   * policy) and a move to another policy (the requester must administer it) await before: a later write of
   * the same thing that overtakes one of those makes it fail its revision check and retry, so no update is lost.
   */
  private decideAndCommit(command: ThingCommand, auth: AuthContext): Promise<ThingCommandResponse> {
    const head = this.heads.get(command.thingId) ?? undefined;
    try {
      const decision = decide(
        { record: head },
        command,
        head?.value ? this.policies.enforcerOfHead(head.value.policyId) : undefined,
        auth,
        this.rules,
      );
      switch (decision.kind) {
        case 'change':
          if (decision.movesTo === undefined) return this.commits.commit(command, head, decision);
          return this.policies
            .checkAdministrable(decision.movesTo, auth)
            .then(() => this.commits.commit(command, head, decision));
        case 'creation':
          return this.create(command, auth, decision, head);
        case 'retrieved':
          return Promise.resolve(decision.response);
      }
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Creation of a thing that does not exist (`previous`: its deleted record, if any): the policy comes with it (§1.2). */
  private async create(
    command: ThingCommand,
    auth: AuthContext,
    creation: Creation,
    previous: ThingRecord | undefined,
  ): Promise<ThingCommandResponse> {
    const { thingId } = command;
    const copyFrom =
      typeof creation.copyFrom === 'string'
        ? await this.resolveCopyFrom(creation.copyFrom, thingId, auth)
        : creation.copyFrom;
    const policyWrite = await this.policies.prepareForThing({
      thingId,
      policyId: creation.policyId,
      explicitPolicyId: creation.explicitPolicyId,
      inlinePolicy: creation.inlinePolicy,
      copyFrom: copyFrom as string | undefined,
      auth,
      headers: command.headers,
      now: this.now(),
    });
    const latest = this.heads.get(thingId);
    if (latest?.value) {
      // Created meanwhile (another instance): decide again as a write to the existing thing; this command
      // still holds its thing's turn, so it must not queue behind itself through write().
      return this.heads.whenLoaded(thingId, () => this.decideAndCommit(command, auth));
    }
    const state: ThingState = { record: latest ?? previous };
    return this.commits.commit(
      command,
      state.record,
      decideCreation(state, command, creation, policyWrite.enforcer, auth),
      policyWrite.change,
    );
  }

  /** ditto: §1.2 `_copyPolicyFrom: "{{ ref:things/<thingId>/policyId }}"` names the policy of a thing the requester may read. */
  private async resolveCopyFrom(copyFrom: string, thingId: string, auth: AuthContext): Promise<string> {
    const template = compileTemplate(copyFrom);
    const policyIds = new Map<string, string>();
    for (const ref of template.placeholders.filter((p) => p.prefix === 'ref')) {
      const referenced = parseRefName(ref.name);
      const policyId =
        referenced === undefined ? undefined : (await this.readable(referenced, auth))?.thing.policyId;
      if (typeof policyId !== 'string') {
        throw thingNotCreatable({
          thingId,
          detail: `The Thing referenced by '${copyFrom}' could not be found or the requester had insufficient permissions to read its policyId.`,
        });
      }
      policyIds.set(referenced!, policyId);
    }
    if (template.placeholders.length === 0) return copyFrom;
    return resolveOrThrow(template, { ref: refResolver((id) => policyIds.get(id)) })[0];
  }
}
