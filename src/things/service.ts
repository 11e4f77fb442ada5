/**
 * Thing command handling (ditto-interfaces.md §1.2, §2.1–§2.5, §4.3): create, retrieve, modify, merge and
 * delete at every path, with revisions, ETag preconditions, conditions, policy enforcement and events.
 *
 * Writes are pipelined per thing: a command is computed against the latest ACCEPTED state of the thing
 * (`head`, which includes writes not yet durable) and handed to the store synchronously, so commands on
 * one thing are applied in arrival order and many of them share one durable commit. The caller is
 * answered, and the event published, only once the write is durable. Reads see durable state only.
 */
import { setOriginator, type AuthContext } from '../auth/context.js';
import type { SignalBus } from '../bus/signal-bus.js';
import { DittoError } from '../errors/ditto-error.js';
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
  thingIdInvalid,
  thingIdNotDeletable,
  thingIdNotSettable,
  thingNotCreatable,
  thingNotDeletable,
  thingHistoryNotFound,
  thingNotFound,
  thingNotModifiable,
  thingTooLarge,
  thingTooManyModifyingRequests,
} from '../errors/things.js';
import { isValidNamespacedId } from '../model/ids.js';
import { withSpecialFields } from '../model/special-fields.js';
import type { DittoHeaders, ThingCommand, ThingCommandResponse, ThingEvent } from '../model/signals.js';
import { thingResourceAt, validateAt, validateThing, type ThingJson, type ThingResource } from '../model/thing.js';
import { ConcurrentModificationError, type Change, type EntityRecord, type Store } from '../store/port.js';
import { retryAfter } from '../store/retry.js';
import { hashTag, revisionTag } from '../util/etag.js';
import { asksPreconditions, checkPreconditions, ifEqualOf, skippedAsEqual, type PreconditionErrors } from '../util/preconditions.js';
import { isoTime } from '../util/iso-time.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { deleteAt, formatPointer, getAt, isPlainObject, setAt } from '../util/json-pointer.js';
import { applyMergePatch, jsonEqual, minimizeMergePatch, touchedPaths } from '../util/merge-patch.js';
import { compileTemplate, parseRefName, refResolver, resolveOrThrow } from '../placeholders/index.js';
import { entityAt, historicalHeadersOf, historicalPointOf, historyOf, persistedHeaders, type History } from '../history/history.js';
import type { PolicyDirectory, ThingEnforcer } from './policy-directory.js';

export interface ThingsServiceOptions {
  store: Store;
  bus: SignalBus;
  policies: PolicyDirectory;
  /** ditto: §1.2 LIMITS_THINGS_MAX_SIZE (100 kB) */
  maxThingBytes?: number;
  now?: () => Date;
  /** Evaluates an RQL `condition` against a thing; throws a DittoError for an invalid expression. */
  evaluateCondition?: (condition: string, thing: Record<string, unknown>) => boolean;
  /**
   * Other instances write to the same store (docs/scale-out.md): a write whose precondition or condition
   * failed (412) on the cached head is decided again once on a freshly loaded head.
   */
  sharedStore?: boolean;
  /** Historical reads and the headers kept with each change (default: over `store`, keeping everything, no headers). */
  history?: History;
}

/** A thing as stored: its JSON plus the record's revision and timestamps. */
export type ThingRecord = EntityRecord<ThingJson>;

const READ = ['READ'] as const;
const WRITE = ['WRITE'] as const;
const PRECONDITION_ERRORS: PreconditionErrors = { preconditionFailed, preconditionNotModified };

export class ThingsService {
  private readonly store: Store;
  private readonly bus: SignalBus;
  private readonly policies: PolicyDirectory;
  private readonly maxThingBytes: number;
  private readonly now: () => Date;
  private readonly evaluateCondition?: ThingsServiceOptions['evaluateCondition'];
  /** Latest accepted record per thing (null: known not to exist). */
  private readonly head = new Map<string, ThingRecord | null>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Per thing, the gate of the last command waiting to be decided (see write()). */
  private readonly waiting = new Map<string, Promise<void>>();
  private readonly sharedStore: boolean;
  private readonly history: History;
  /** Scale-out: resolves when remote events committed before this instance's latest write are published. */
  private publishOrder: (() => Promise<void> | undefined) | undefined;

  constructor(options: ThingsServiceOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.policies = options.policies;
    this.maxThingBytes = options.maxThingBytes ?? 100 * 1024;
    this.now = options.now ?? (() => new Date());
    this.evaluateCondition = options.evaluateCondition;
    this.sharedStore = options.sharedStore ?? false;
    this.history = options.history ?? historyOf(options.store);
  }

  /**
   * Scale-out (src/cluster): before an event of this instance is published, `order` (when it returns a
   * promise) is awaited, so the events of other instances committed before it are published first and
   * every subscriber sees each thing's revisions in order.
   */
  orderPublicationsBy(order: () => Promise<void> | undefined): void {
    this.publishOrder = order;
  }

  /**
   * Another instance committed `revision` of the thing (src/cluster): a cached head older than that is
   * dropped, so the next write loads the durable state. A head at or past it is a write of this instance
   * in flight; if it conflicts, the store rejects it and the retry reloads.
   */
  noteRemoteChange(thingId: string, revision: number): void {
    const head = this.head.get(thingId);
    if (head === undefined) return;
    if (head === null || head.revision < revision) this.head.delete(thingId);
  }

  /**
   * Executes a twin command for `auth`; resolves with the response or rejects with a DittoError. Not an async
   * function: it hands on the promise of the read or the write (this runs per message and per request).
   */
  execute(command: ThingCommand, auth: AuthContext): Promise<ThingCommandResponse> {
    let resource: ThingResource;
    try {
      if (!isValidNamespacedId(command.thingId)) throw thingIdInvalid({ id: command.thingId });
      setOriginator(command.headers, auth);
      resource = thingResourceAt(command.path);
    } catch (err) {
      return Promise.reject(err);
    }
    if (command.action === 'retrieve') return this.retrieve(command, resource, auth);
    return this.write(command, resource, auth).catch((err: unknown) => this.writeAgain(command, resource, auth, err));
  }

  /** After a failed write: another writer (instance) changed the thing or its policy, so reload and compute again. */
  private writeAgain(command: ThingCommand, resource: ThingResource, auth: AuthContext, firstError: unknown): Promise<ThingCommandResponse> {
    const { thingId } = command;
    return retryAfter(firstError, () => this.write(command, resource, auth), {
      // A 412 decided on a cached head may be stale when other instances write (sharedStore).
      alsoRetries: (err, attempt) => this.sharedStore && err instanceof DittoError && err.status === 412 && attempt === 1,
      reset: (err) => {
        this.head.delete(thingId);
        // Only a conflict on the policy itself makes its cached head suspect; forgetting every policy would
        // leave synchronous readers (search, streaming) without enforcers until something reloads them.
        if (err instanceof ConcurrentModificationError && err.kind === 'policy') this.policies.forget(err.id);
      },
      // ditto: §2.11 a thing other writers keep changing under this one answers 429 (retriable).
      exhausted: (err) => (err instanceof ConcurrentModificationError ? thingTooManyModifyingRequests({ thingId }, { cause: err }) : err),
    });
  }

  /** The durable thing, or undefined when missing or deleted. */
  async get(thingId: string): Promise<ThingRecord | undefined> {
    const record = (await this.store.get('thing', thingId)) as ThingRecord | undefined;
    return record?.value ? record : undefined;
  }

  /** The thing as `auth` may see it (pruned), or undefined when nothing of it is readable. */
  async readable(thingId: string, auth: AuthContext): Promise<{ record: ThingRecord; thing: Record<string, unknown> } | undefined> {
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
    if (command.headers['at-historical-revision'] !== undefined || command.headers['at-historical-timestamp'] !== undefined) return undefined;
    const resource = thingResourceAt(command.path);
    const stored = this.store.getSync('thing', command.thingId) as ThingRecord | undefined;
    const policyId = stored?.value?.policyId;
    if (stored?.value && (policyId === undefined || !this.policies.isLoaded(policyId))) return undefined;
    if (selectsPolicy(command, resource)) return undefined;
    setOriginator(command.headers, auth);
    return this.read(command, resource, auth, stored, policyId === undefined ? undefined : this.policies.enforcerOfHead(policyId));
  }

  private async retrieve(command: ThingCommand, resource: ThingResource, auth: AuthContext): Promise<ThingCommandResponse> {
    const { thingId } = command;
    // A store that keeps its state in memory, and a cached policy, answer without a promise.
    const current = (this.store.getSync ? this.store.getSync('thing', thingId) : await this.store.get('thing', thingId)) as ThingRecord | undefined;
    if (!current?.value) throw thingNotFound({ thingId });
    const policyId = current.value.policyId;
    const enforcer = policyId !== undefined && this.policies.isLoaded(policyId) ? this.policies.enforcerOfHead(policyId) : await this.policies.enforcerFor(policyId);
    const point = historicalPointOf(command.headers);
    if (point === undefined) return this.retrieveOf(command, resource, auth, current, enforcer, policyId);
    // ditto: basic-history — the thing as it was, enforced and pruned with its policy as it is now; who may
    // not read the thing learns nothing of its history.
    if (!enforcer?.hasPartial('thing:/', auth.subjects, READ)) throw thingNotFound({ thingId });
    const entry = await entityAt(this.history, 'thing', current, point, (at) => thingHistoryNotFound({ thingId, at }));
    if (!entry.record.value) throw thingNotFound({ thingId });
    const response = await this.retrieveOf(command, resource, auth, entry.record as ThingRecord, enforcer, policyId);
    response.headers['historical-headers'] = historicalHeadersOf(entry);
    return response;
  }

  /**
   * A retrieve of `stored` (the current record, or one from history) enforced by `enforcer`, the policy
   * `policyId` as it is now; a promise only to add `_policy`.
   */
  private retrieveOf(command: ThingCommand, resource: ThingResource, auth: AuthContext, stored: ThingRecord, enforcer: ThingEnforcer | undefined, policyId: string | undefined): ThingCommandResponse | Promise<ThingCommandResponse> {
    if (!selectsPolicy(command, resource)) return this.read(command, resource, auth, stored, enforcer);
    return this.retrieveWithPolicy(command, resource, auth, stored, enforcer, policyId);
  }

  private async retrieveWithPolicy(command: ThingCommand, resource: ThingResource, auth: AuthContext, stored: ThingRecord, enforcer: ThingEnforcer | undefined, policyId: string | undefined): Promise<ThingCommandResponse> {
    // ditto: §1.2, §2.2 `fields=_policy` (of the whole thing) is exempt from precondition checks.
    const { record, pruned } = this.visible(command, resource, auth, stored, enforcer);
    this.checkCondition(command.headers, record, enforcer!, auth);
    if (!isPlainObject(pruned)) return respond(command, 200, pruned, revisionTag(record.revision));
    const source = withSpecialFields(pruned, record);
    await this.addPolicy(source, policyId!, enforcer!, auth);
    return respond(command, 200, applyFieldSelector(source, command.fields!), revisionTag(record.revision));
  }

  /** The response of a retrieve once the record and its enforcer are at hand (without `_policy`). */
  private read(command: ThingCommand, resource: ThingResource, auth: AuthContext, stored: ThingRecord | undefined, enforcer: ThingEnforcer | undefined): ThingCommandResponse {
    const { record, value, pruned } = this.visible(command, resource, auth, stored, enforcer);
    const etag = resource.kind === 'thing' ? revisionTag(record.revision) : hashTag(value);
    checkPreconditions(command.headers, etag, true, PRECONDITION_ERRORS);
    this.checkCondition(command.headers, record, enforcer!, auth);
    let result: unknown = pruned;
    if (command.fields !== undefined && isPlainObject(pruned)) {
      result = applyFieldSelector(resource.kind === 'thing' ? withSpecialFields(pruned, record) : pruned, command.fields);
    }
    return respond(command, 200, result, etag);
  }

  /** The record, the value at the resource and what `auth` may read of it; throws the not-found errors. */
  private visible(command: ThingCommand, resource: ThingResource, auth: AuthContext, stored: ThingRecord | undefined, enforcer: ThingEnforcer | undefined): { record: ThingRecord; value: unknown; pruned: unknown } {
    const { thingId } = command;
    if (!stored?.value || !enforcer?.hasPartial('thing:/', auth.subjects, READ)) throw thingNotFound({ thingId });
    const value = getAt(stored.value, resource.segments);
    if (value === undefined) throw resourceNotFound(resource, thingId);
    const pruned = enforcer.filterReadable('thing', resource.pointer, value, auth.subjects);
    if (pruned === undefined) throw resourceNotFound(resource, thingId);
    return { record: stored, value, pruned };
  }

  // --------------------------------------------------------------------------------------------- writes

  /**
   * Writes keep the arrival order per thing. Fast path: the thing and its policy are cached and no earlier
   * command of the thing is waiting, so the command is decided synchronously up to store.write. Otherwise
   * the command queues behind the earlier ones of the same thing (a FIFO gate), loads what is missing, and
   * opens the gate for the next one as soon as its write is accepted (pipelining stays); a creation holds
   * the gate until it is done, since it awaits its policy before its write is accepted. Without the gate,
   * commands that each awaited their own load resumed in whatever order the loads finished (PostgreSQL),
   * and a burst of writes to one thing landed scrambled.
   */
  private write(command: ThingCommand, resource: ThingResource, auth: AuthContext): Promise<ThingCommandResponse> {
    const earlier = this.waiting.get(command.thingId);
    // Not an async function: the fast path hands on decide's promise without wrapping it in another.
    if (earlier === undefined && this.isReady(command.thingId)) return this.decide(command, resource, auth);
    return this.writeInTurn(command, resource, auth, earlier);
  }

  private async writeInTurn(command: ThingCommand, resource: ThingResource, auth: AuthContext, earlier: Promise<void> | undefined): Promise<ThingCommandResponse> {
    const { thingId } = command;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.waiting.set(thingId, gate);
    const release = () => {
      open();
      if (this.waiting.get(thingId) === gate) this.waiting.delete(thingId);
    };
    try {
      if (earlier) await earlier;
      // Checked again after every await: a failed command's retry may drop the head meanwhile.
      while (!this.isLoaded(thingId)) await this.ensureLoaded(thingId);
    } catch (err) {
      release();
      throw err;
    }
    const creates = !this.head.get(thingId)?.value;
    const decided = this.decide(command, resource, auth);
    if (!creates) {
      release();
      return decided;
    }
    return decided.finally(release);
  }

  /** Whether the thing's head (maybe "does not exist") and its policy are cached. */
  private isLoaded(thingId: string): boolean {
    if (!this.head.has(thingId)) return false;
    const policyId = this.head.get(thingId)?.value?.policyId;
    return policyId === undefined || this.policies.isLoaded(policyId);
  }

  /** Whether the thing exists in the cache with its policy, so a command can be decided without awaiting. */
  private isReady(thingId: string): boolean {
    return this.head.get(thingId)?.value != null && this.isLoaded(thingId);
  }

  /** Loads the thing's head and policy until both are cached (another instance may drop them meanwhile). */
  private async ensureLoaded(thingId: string): Promise<void> {
    for (;;) {
      if (!this.head.has(thingId)) await this.loadHead(thingId);
      // Dropped again meanwhile (another instance changed the thing, noteRemoteChange): load it again.
      if (!this.head.has(thingId)) continue;
      const policyId = this.head.get(thingId)?.value?.policyId;
      if (policyId === undefined || this.policies.isLoaded(policyId)) return;
      await this.policies.load(policyId);
    }
  }

  /**
   * Decides a write on the cached head, synchronously up to store.write; only a creation (its policy) and
   * a change of policyId (the requester must administer the new policy) await before (a later write of the same thing that
   * overtakes one of those makes it fail its revision check and retry: no update is lost).
   */
  private async decide(command: ThingCommand, resource: ThingResource, auth: AuthContext): Promise<ThingCommandResponse> {
    const { thingId } = command;
    const current = this.head.get(thingId);
    const exists = current?.value != null;
    if (!exists) return this.create(command, resource, auth, current ?? undefined);
    if (command.action === 'create') throw thingConflict({ thingId });
    const thing = current!.value!;
    const enforcer = this.policies.enforcerOfHead(thing.policyId);
    const canSee = enforcer?.hasPartial('thing:/', auth.subjects, READ) ?? false;
    const currentValue = getAt(thing, resource.segments);
    if (asksPreconditions(command.headers)) {
      checkPreconditions(command.headers, resource.kind === 'thing' ? revisionTag(current!.revision) : currentValue === undefined ? undefined : hashTag(currentValue), false, PRECONDITION_ERRORS);
    }
    if (enforcer && canSee) this.checkCondition(command.headers, current!, enforcer, auth);

    const denied = () => {
      if (!canSee) return thingNotFound({ thingId });
      if (resource.kind === 'thing') return command.action === 'delete' ? thingNotDeletable({ thingId }) : thingNotModifiable({ thingId });
      return levelError(resource, 'notModifiable', thingId);
    };
    const mayWrite = (pointer: string) => enforcer?.hasUnrestricted('thing:' + pointer, auth.subjects, WRITE) ?? false;

    let next: ThingJson;
    let event: Pick<ThingEvent, 'action' | 'value'>;
    let status: number;
    let responseValue: unknown;
    if (command.action === 'delete') {
      if (resource.kind === 'thingId') throw thingIdNotDeletable();
      if (resource.kind === 'policyId') throw policyIdNotDeletable();
      if (!mayWrite(resource.pointer)) throw denied();
      if (resource.kind !== 'thing' && currentValue === undefined) throw levelError(resource, 'notFound', thingId);
      return this.commit(command, resource.segments, current!, resource.kind === 'thing' ? null : (deleteAt(thing, resource.segments) as ThingJson), { action: 'deleted' }, 204, undefined);
    }
    if (resource.kind === 'thingId') throw thingIdNotSettable();
    requireParentFeature(resource, thing, thingId);
    if (command.action === 'merge') {
      const patch = command.value;
      if (resource.kind === 'thing' && !isPlainObject(patch)) throw jsonFormatInvalid({ detail: 'A merge patch of a thing must be a JSON object.' });
      for (const touched of touchedPaths(patch, resource.segments)) if (!mayWrite(formatPointer(touched))) throw denied();
      const merged = applyMergePatch(currentValue, patch);
      if (merged === undefined || merged === null) {
        if (resource.kind === 'thing' || resource.kind === 'policyId') throw jsonFormatInvalid({ detail: 'The merge would delete a required field.' });
        next = deleteAt(thing, resource.segments) as ThingJson;
      } else {
        validateAt(resource, merged);
        next = setAt(thing, resource.segments, merged) as ThingJson;
      }
      if (resource.kind === 'thing') checkThingIdUnchanged(next, thingId);
      const ifEqual = ifEqualOf(command.headers);
      if (ifEqual !== 'update' && jsonEqual(merged, currentValue)) throw skippedAsEqual(ifEqual, PRECONDITION_ERRORS);
      event = { action: 'merged', value: ifEqual === 'skip-minimizing-merge' ? minimizeMergePatch(currentValue, patch) : patch };
      status = 204;
    } else {
      if (!mayWrite(resource.pointer)) throw denied();
      let value = command.value;
      if (resource.kind === 'thing') {
        if (!isPlainObject(value)) throw jsonFormatInvalid({ detail: 'The thing must be a JSON object.' });
        if ('_policy' in value || '_copyPolicyFrom' in value) throw policyNotAllowed();
        checkThingIdUnchanged(value, thingId);
        value = { thingId, policyId: thing.policyId, ...value };
      }
      validateAt(resource, value);
      const ifEqual = ifEqualOf(command.headers);
      if (ifEqual !== 'update' && currentValue !== undefined && jsonEqual(value, currentValue)) throw skippedAsEqual(ifEqual, PRECONDITION_ERRORS);
      next = setAt(thing, resource.segments, value) as ThingJson;
      const created = currentValue === undefined;
      event = { action: created ? 'created' : 'modified', value };
      status = created ? 201 : 204;
      responseValue = created ? value : undefined;
    }
    if (next.policyId !== thing.policyId) await this.policies.checkAdministrable(next.policyId!, auth);
    return this.commit(command, resource.segments, current!, next, event, status, responseValue);
  }

  /** Creation of a thing that does not exist (or was deleted): the policy comes with it (§1.2). */
  private async create(command: ThingCommand, resource: ThingResource, auth: AuthContext, deleted: ThingRecord | undefined): Promise<ThingCommandResponse> {
    const { thingId } = command;
    if (resource.kind !== 'thing' || command.action === 'delete') throw thingNotFound({ thingId });
    checkPreconditions(command.headers, undefined, false, PRECONDITION_ERRORS);
    if (!isPlainObject(command.value)) throw jsonFormatInvalid({ detail: 'The thing must be a JSON object.' });
    const body = command.action === 'merge' ? (applyMergePatch({}, command.value) as Record<string, unknown>) : { ...command.value };
    const inlinePolicy = body._policy;
    const copyFrom = typeof body._copyPolicyFrom === 'string' ? await this.resolveCopyFrom(body._copyPolicyFrom, thingId, auth) : body._copyPolicyFrom;
    delete body._policy;
    delete body._copyPolicyFrom;
    checkThingIdUnchanged(body, thingId);
    if ((inlinePolicy !== undefined || copyFrom !== undefined) && body.policyId !== undefined) throw policyIdNotAllowed();
    if (inlinePolicy !== undefined && copyFrom !== undefined) throw policyIdNotAllowed();
    const thing = validateThing({ thingId, ...body });
    const policyId = (thing.policyId as string | undefined) ?? thingId;
    const policyWrite = await this.policies.prepareForThing({
      thingId,
      policyId,
      explicitPolicyId: body.policyId !== undefined,
      inlinePolicy,
      copyFrom: copyFrom as string | undefined,
      auth,
      headers: command.headers,
      now: this.now(),
    });
    const latest = this.head.get(thingId);
    if (latest?.value) {
      // Created meanwhile (another instance): decide again as a write to the existing thing; this command
      // still holds its thing's gate, so it must not queue behind itself through write().
      while (!this.isLoaded(thingId)) await this.ensureLoaded(thingId);
      return this.decide(command, resource, auth);
    }
    const created = { thingId, policyId, ...thing } as ThingJson; // Ditto's key order: thingId, policyId, …
    if (!policyWrite.enforcer.hasUnrestricted('thing:/', auth.subjects, WRITE)) throw thingNotModifiable({ thingId });
    return this.commit(command, [], latest ?? deleted, created, { action: 'created', value: created }, 201, created, policyWrite.change);
  }

  /** ditto: §1.2 `_copyPolicyFrom: "{{ ref:things/<thingId>/policyId }}"` names the policy of a thing the requester may read. */
  private async resolveCopyFrom(copyFrom: string, thingId: string, auth: AuthContext): Promise<string> {
    const template = compileTemplate(copyFrom);
    const policyIds = new Map<string, string>();
    for (const ref of template.placeholders.filter((p) => p.prefix === 'ref')) {
      const referenced = parseRefName(ref.name);
      const policyId = referenced === undefined ? undefined : (await this.readable(referenced, auth))?.thing.policyId;
      if (typeof policyId !== 'string') {
        throw thingNotCreatable({ thingId, detail: `The Thing referenced by '${copyFrom}' could not be found or the requester had insufficient permissions to read its policyId.` });
      }
      policyIds.set(referenced!, policyId);
    }
    if (template.placeholders.length === 0) return copyFrom;
    return resolveOrThrow(template, { ref: refResolver((id) => policyIds.get(id)) })[0];
  }

  /** ditto: §1.2 `_policy`: the thing's policy as far as the requester may READ it (omitted when nothing). */
  private async addPolicy(source: Record<string, unknown>, policyId: string, enforcer: ThingEnforcer, auth: AuthContext): Promise<void> {
    const policy = (await this.policies.load(policyId))?.value;
    const view = policy ? enforcer.filterReadable('policy', '/', policy, auth.subjects) : undefined;
    if (isPlainObject(view)) source._policy = { policyId, ...view };
  }

  private checkCondition(headers: DittoHeaders, record: ThingRecord, enforcer: ThingEnforcer, auth: AuthContext): void {
    const condition = headers['condition'];
    if (condition === undefined || !this.evaluateCondition) return;
    // ditto: §2.1 the condition is evaluated on what the requester may read.
    const visible = enforcer.filterReadable('thing', '/', record.value, auth.subjects);
    const subject = withSpecialFields(isPlainObject(visible) ? visible : {}, record);
    if (!this.evaluateCondition(condition, subject)) throw conditionFailed({ condition });
  }

  /** Hands the change to the store, then answers and publishes once it is durable. */
  private async commit(
    command: ThingCommand,
    segments: readonly string[],
    previous: ThingRecord | undefined,
    next: ThingJson | null,
    change: Pick<ThingEvent, 'action' | 'value'>,
    status: number,
    responseValue: unknown,
    policyChange?: Change,
  ): Promise<ThingCommandResponse> {
    const { thingId } = command;
    // The value's text: its size is checked here, and the store writes it (the PostgreSQL store makes its own).
    const valueJson = next ? JSON.stringify(next) : undefined;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: most things need no byte count.
    if (valueJson !== undefined && valueJson.length * 3 > this.maxThingBytes) {
      const size = Buffer.byteLength(valueJson);
      if (size > this.maxThingBytes) throw thingTooLarge({ size, max: this.maxThingBytes });
    }
    const timestamp = isoTime(this.now());
    const revision = (previous?.revision ?? 0) + 1;
    const isNewLife = !previous?.value;
    const record: ThingRecord = {
      kind: 'thing',
      id: thingId,
      revision,
      created: isNewLife ? timestamp : previous!.created,
      modified: timestamp,
      value: next,
    };
    const headers: DittoHeaders = {};
    if (command.headers['correlation-id'] !== undefined) headers['correlation-id'] = command.headers['correlation-id'];
    if (command.headers['ditto-originator'] !== undefined) headers['ditto-originator'] = command.headers['ditto-originator'];
    if (change.action === 'merged') headers['content-type'] = 'application/merge-patch+json';
    // ditto: §9 subscribers see the requested (custom) acknowledgement labels to answer them.
    if (command.headers['requested-acks'] !== undefined) headers['requested-acks'] = command.headers['requested-acks'];
    const event: ThingEvent = { thingId, channel: 'twin', action: change.action, path: command.path === '' ? '/' : command.path, revision, timestamp, headers };
    if (change.value !== undefined) event.value = change.value;
    const policyId = next?.policyId ?? previous?.value?.policyId;
    const thingChange: Change = { record, expectedRevision: previous?.revision ?? 0, event: { event, policyId }, valueJson };
    const kept = persistedHeaders(this.history, command.headers);
    if (kept !== undefined) {
      thingChange.headers = kept;
      if (policyChange) policyChange.headers = kept;
    }
    const writing = this.store.write(policyChange ? [policyChange, thingChange] : [thingChange]);
    this.head.set(thingId, record);
    if (policyChange) this.policies.noteAccepted(policyChange.record);
    try {
      await writing;
    } catch (err) {
      if (this.head.get(thingId) === record) this.head.delete(thingId);
      if (policyChange) this.policies.forget(policyChange.record.id);
      throw err;
    }
    const order = this.publishOrder?.();
    if (order) await order;
    this.bus.publishThingEvent({ event, policyId, thing: next ?? undefined, session: command.session });
    // A sub-resource's ETag hashes its value: computed only when something reads it (HTTP does, telemetry
    // from a connection without a reply target does not).
    const etag = change.action === 'deleted' ? undefined : segments.length === 0 ? revisionTag(revision) : () => hashTag(getAt(next, segments));
    return respond(command, status, responseValue, etag);
  }

  private async loadHead(thingId: string): Promise<void> {
    if (this.head.has(thingId)) return;
    let loading = this.loading.get(thingId);
    if (!loading) {
      loading = this.store.get('thing', thingId).then((r) => {
        if (!this.head.has(thingId)) this.head.set(thingId, (r as ThingRecord | undefined) ?? null);
        this.loading.delete(thingId);
      });
      this.loading.set(thingId, loading);
    }
    await loading;
  }
}

function respond(command: ThingCommand, status: number, value: unknown, etag: string | (() => string) | undefined): ThingCommandResponse {
  const headers: DittoHeaders = typeof etag === 'function' ? lazyEtag(etag) : {};
  if (typeof etag === 'string') headers.etag = etag;
  if (command.headers['correlation-id'] !== undefined) headers['correlation-id'] = command.headers['correlation-id'];
  const response: ThingCommandResponse = { thingId: command.thingId, channel: command.channel, action: command.action, path: command.path, status, headers };
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

function resourceNotFound(resource: ThingResource, thingId: string): DittoError {
  return resource.kind === 'thing' ? thingNotFound({ thingId }) : levelError(resource, 'notFound', thingId);
}

function levelError(resource: ThingResource, which: 'notFound' | 'notModifiable', thingId: string): DittoError {
  const errors = resourceErrors[resource.kind];
  const sub = resource.subPath ? resource.subPath.join('/') : resource.featureId;
  return errors ? errors[which]({ thingId, path: sub }) : which === 'notFound' ? thingNotFound({ thingId }) : thingNotModifiable({ thingId });
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

/** ditto: §1.2 whether a retrieve of the whole thing selects `_policy` (`fields=_policy`, which skips preconditions). */
function selectsPolicy(command: ThingCommand, resource: ThingResource): boolean {
  return resource.kind === 'thing' && command.fields !== undefined && '_policy' in applyFieldSelector({ _policy: true }, command.fields);
}
