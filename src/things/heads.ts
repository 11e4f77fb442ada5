/**
 * The heads of things: per thing, the latest ACCEPTED record (a write handed to the store becomes the head at
 * once, before it is durable), loaded on demand with the thing's policy; the order of the writes to one thing;
 * and another attempt at a write that lost a race. Writes are decided on the head (src/things/decide.ts);
 * reads never see it, they read durable state.
 */
import { DittoError } from '../errors/ditto-error.js';
import { thingTooManyModifyingRequests } from '../errors/things.js';
import { ConcurrentModificationError, type Store } from '../store/port.js';
import { retryAfter } from '../store/retry.js';
import type { ThingRecord } from './decide.js';
import type { PolicyDirectory } from './policy-directory.js';

export interface ThingHeadsOptions {
  store: Store;
  policies: PolicyDirectory;
  /**
   * Other instances write to the same store (docs/scale-out.md): a write whose precondition or condition
   * failed (412) on the cached head is decided again once on a freshly loaded head.
   */
  sharedStore: boolean;
}

export class ThingHeads {
  private readonly store: Store;
  private readonly policies: PolicyDirectory;
  private readonly sharedStore: boolean;
  /** Latest accepted record per thing (null: known not to exist). */
  private readonly head = new Map<string, ThingRecord | null>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Per thing, the gate of the last command waiting for its turn (see inTurn). */
  private readonly waiting = new Map<string, Promise<void>>();

  constructor(options: ThingHeadsOptions) {
    this.store = options.store;
    this.policies = options.policies;
    this.sharedStore = options.sharedStore;
  }

  /** The head once loaded: the record (value null: deleted), null when the thing never existed, undefined when not cached. */
  get(thingId: string): ThingRecord | null | undefined {
    return this.head.get(thingId);
  }

  /** The store accepted a write of `record`: it is the head from now on (the commit calls this). */
  accept(record: ThingRecord): void {
    this.head.set(record.id, record);
  }

  /** The write of `record` failed: its head is dropped, unless a later write replaced it meanwhile. */
  reject(record: ThingRecord): void {
    if (this.head.get(record.id) === record) this.head.delete(record.id);
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
   * Whether a write to the thing may be decided at once: no earlier command of the thing is waiting, and the
   * thing exists in the cache with its policy (the fast path: decided synchronously up to store.write).
   */
  isReady(thingId: string): boolean {
    return (
      this.waiting.get(thingId) === undefined &&
      this.head.get(thingId)?.value != null &&
      this.isLoaded(thingId)
    );
  }

  /**
   * Runs `write` in the thing's turn: writes keep their arrival order per thing. The command queues behind the
   * earlier ones of the same thing (a FIFO gate), loads what is missing, and opens the gate for the next one
   * as soon as `write` returns, which is when its write was handed to the store (pipelining stays); a
   * creation holds the gate until it is done, since it awaits its policy before its write is accepted.
   * Without the gate, commands that each awaited their own load would resume in the order the loads finish
   * (PostgreSQL: any order), and a burst of writes to one thing would land scrambled.
   */
  async inTurn<T>(thingId: string, write: () => Promise<T>): Promise<T> {
    const earlier = this.waiting.get(thingId);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.waiting.set(thingId, gate);
    const release = () => {
      open();
      if (this.waiting.get(thingId) === gate) this.waiting.delete(thingId);
    };
    let creates: boolean;
    let written: Promise<T>;
    try {
      if (earlier) await earlier;
      // Checked again after every await: a failed command's retry, or another instance's change, may drop
      // the head meanwhile. Nothing awaits between this check and write().
      while (!this.isLoaded(thingId)) await this.ensureLoaded(thingId);
      creates = !this.head.get(thingId)?.value;
      written = write();
    } catch (err) {
      release();
      throw err;
    }
    if (!creates) {
      release();
      return written;
    }
    return written.finally(release);
  }

  /**
   * Runs `write` once the thing's head (maybe "does not exist") and its policy are cached, with no await
   * between that check and the call. For a command that holds its thing's turn already.
   */
  async whenLoaded<T>(thingId: string, write: () => Promise<T>): Promise<T> {
    while (!this.isLoaded(thingId)) await this.ensureLoaded(thingId);
    return write();
  }

  /**
   * Attempts a write again after its first attempt failed with `firstError`: a conflict (another writer or
   * instance changed the thing or its policy) drops the head, so the next attempt loads the durable state.
   */
  retry<T>(thingId: string, firstError: unknown, write: () => Promise<T>): Promise<T> {
    return retryAfter(firstError, write, {
      // A 412 decided on a cached head may be stale when other instances write.
      alsoRetries: (err, attempt) =>
        this.sharedStore && err instanceof DittoError && err.status === 412 && attempt === 1,
      reset: (err) => {
        this.head.delete(thingId);
        // Only a conflict on the policy itself makes its cached head suspect; forgetting every policy would
        // leave synchronous readers (search, streaming) without enforcers until something reloads them.
        if (err instanceof ConcurrentModificationError && err.kind === 'policy') this.policies.forget(err.id);
      },
      // ditto: §2.11 a thing other writers keep changing under this one answers 429 (retriable).
      exhausted: (err) =>
        err instanceof ConcurrentModificationError
          ? thingTooManyModifyingRequests({ thingId }, { cause: err })
          : err,
    });
  }

  /** Whether the thing's head (maybe "does not exist") and its policy are cached. */
  private isLoaded(thingId: string): boolean {
    if (!this.head.has(thingId)) return false;
    const policyId = this.head.get(thingId)?.value?.policyId;
    return policyId === undefined || this.policies.isLoaded(policyId);
  }

  /** Loads the thing's head and policy until both are cached (another instance may drop them meanwhile). */
  private async ensureLoaded(thingId: string): Promise<void> {
    while (!this.isLoaded(thingId)) {
      if (!this.head.has(thingId)) await this.loadHead(thingId);
      const policyId = this.head.get(thingId)?.value?.policyId;
      if (policyId !== undefined && !this.policies.isLoaded(policyId)) await this.policies.load(policyId);
    }
  }

  private async loadHead(thingId: string): Promise<void> {
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
