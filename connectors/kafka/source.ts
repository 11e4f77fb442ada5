/**
 * One consumer of a source address (a topic): a member of the connection's consumer group (ditto: §11.4
 * scaling, §11.6 Kafka), delivering records to the runtime and committing what the runtime settled.
 *
 * - Start positions: on every assignment the member looks up the group's committed offsets; partitions
 *   without one start at `consumerOffsetReset` (earliest/latest) and that position is committed at once,
 *   so a later restart of the connection continues there instead of skipping to the end again. The
 *   partitions stay paused until positioned.
 * - qos 0: committed after consume. qos 1: committed up to the highest contiguous settled offset
 *   (PartitionOffsets), every COMMIT_INTERVAL_MS; a message is settled by the runtime only once its twin
 *   write is durable (STYLE lesson 7). A nack for redelivery pauses the partition, waits (the runtime's
 *   Backoff, 100 ms – 60 s with jitter, §11.6; reset once a commit moves the partition on) and seeks back
 *   to the failed message, which the commit never passed.
 * - Back-pressure: fetched records wait in a small prefetch queue; `pause()` stops delivering from it and
 *   once it holds PREFETCH_HIGH records fetching pauses (kafkajs pause) until it is down to PREFETCH_LOW.
 *   So a paused source costs no refetching and a resumed one has records at hand at once.
 * - Revocation (ditto: §11.4 scaling; STYLE lesson 7): before this member (re)joins its group it stops
 *   delivering, waits until every record it delivered is settled (at most REVOKE_DRAIN_MS) and commits, so a
 *   partition's new owner never replays a record whose older write is still under way here (which would
 *   land after the newer one). kafkajs 2.2.4 has no "partitions revoked" hook and rejoins right after a
 *   heartbeat reports the rebalance, so the hook sits in front of the JoinGroup request (see guardJoin).
 * - kafkajs restarts nothing by itself (`restartOnFailure: false`); a crash is reported to `onFailure`
 *   and the runtime reconnects the client (STYLE lesson 2).
 */
import type {
  Admin,
  Cluster,
  Consumer,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
  PartitionAssigner,
} from 'kafkajs';
import { Backoff } from '../../src/connectivity/backoff.js';
import type { InboundMessage, SourceHandle } from '../../src/connectivity/connector.js';
import { subscriptionAwareAssigner } from './assigner.js';
import type { OffsetReset } from './config.js';
import { PartitionOffsets, type Delivery } from './offsets.js';

const COMMIT_INTERVAL_MS = 100;
const READY_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5_000;
const REDELIVERY_BACKOFF = { minMs: 100, maxMs: 60_000 };
const PREFETCH_HIGH = 4_000;
const PREFETCH_LOW = 2_000;
/**
 * Bounds of the revocation drain and commit. A member must rejoin within the rebalance timeout (6 s from
 * the start of the rebalance, which its next heartbeat reports up to heartbeatInterval = 1 s later) or the
 * group drops it; drain + commit stay below that.
 */
const REVOKE_DRAIN_MS = 3_500;
const REVOKE_COMMIT_MS = 1_000;

export interface KafkaSourceOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupId: string;
  offsetReset: OffsetReset;
  qos: 0 | 1;
  deliver: (message: InboundMessage) => void;
  /** The consumer failed after it had started (broker lost, group error); the runtime reconnects. */
  onFailure: (error: Error) => void;
}

interface PartitionState {
  offsets?: PartitionOffsets;
  /** Positioned and not waiting for a redelivery back-off. */
  ready: boolean;
  /** The next offset to take into the prefetch queue. */
  fetched: bigint;
  /** Increases on every rewind: queued records of an older epoch are stale. */
  epoch: number;
  retryTimer?: NodeJS.Timeout;
  /** The wait before seeking back after a nack; grows with each nack until a commit moves on. */
  redelivery: Backoff;
}

interface Queued {
  partition: number;
  state: PartitionState;
  epoch: number;
  message: KafkaMessage;
  offset: bigint;
}

export class KafkaSource implements SourceHandle {
  private consumer: Consumer | undefined;
  private partitions = new Map<number, PartitionState>();
  private generation = 0;
  private paused = false;
  /** Fetching paused because the prefetch queue is full. */
  private throttled = false;
  private queue: Queued[] = [];
  private queueHead = 0;
  private closed = false;
  private started = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Giving up the assignment before a (re)join: nothing more is delivered until the next assignment. */
  private revoking = false;
  /** Resolves once every delivered record is settled (or the source closes) during a revocation. */
  private settledWaiter: (() => void) | undefined;

  constructor(private readonly o: KafkaSourceOptions) {}

  /** Joins the group; resolves once this member's partitions (possibly none) are positioned. */
  async start(): Promise<void> {
    const { kafka, topic, groupId } = this.o;
    const consumer = kafka.consumer({
      groupId,
      partitionAssigners: [this.joinGuarded(subscriptionAwareAssigner)],
      allowAutoTopicCreation: false,
      // The broker's minimum: a member that vanished without leaving (crash, broker restart) holds up the
      // next join of the group at most this long.
      sessionTimeout: 6_000,
      rebalanceTimeout: 6_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 256 * 1024,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    const ready = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    consumer.on(consumer.events.GROUP_JOIN, (e) =>
      this.onAssignment(e.payload.memberAssignment[topic] ?? []),
    );
    consumer.on(consumer.events.CRASH, (e) => this.fail(e.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: this.o.offsetReset === 'earliest' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(payload),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`joining the consumer group '${groupId}' for topic '${topic}' timed out`)),
        READY_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.started = true;
  }

  /**
   * The assigner factory receives the consumer's own Cluster (kafkajs creates one per consumer); wrapping
   * its findGroupCoordinator puts revoke() in front of every JoinGroup: in kafkajs 2.2.4 the consumer looks
   * up the coordinator only in consumerGroup.join() (every rebalance, UNKNOWN_MEMBER_ID and the first
   * join) and in describeGroup(), which this source does not use. Offset commits use the coordinator found
   * by the join, so revoke() can still commit with the current generation (the broker accepts commits of
   * the current generation while the group prepares the rebalance).
   */
  private joinGuarded(assigner: PartitionAssigner): PartitionAssigner {
    return (config) => {
      this.guardJoin(config.cluster);
      return assigner(config);
    };
  }

  private guardJoin(cluster: Cluster): void {
    const find = cluster.findGroupCoordinator.bind(cluster);
    cluster.findGroupCoordinator = async (group) => {
      await this.revoke();
      return find(group);
    };
  }

  /**
   * Gives the current assignment up: stops delivering, waits (bounded) until the runtime settled every
   * record delivered so far and commits the settled offsets. Never rejects (the join must go on); records
   * still unsettled after the bound are redelivered by the partition's next owner.
   */
  private async revoke(): Promise<void> {
    if (this.closed || this.partitions.size === 0) return;
    this.revoking = true;
    if (this.pendingDeliveries() > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.settledWaiter = resolve;
        timer = setTimeout(resolve, REVOKE_DRAIN_MS);
      });
      clearTimeout(timer);
      this.settledWaiter = undefined;
    }
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    // A commit that fails or takes too long leaves its offsets to the partition's next owner, which
    // redelivers from the last commit (at least once); the join must go on either way.
    await withTimeout(
      (this.committing ?? Promise.resolve()).then(() => this.commit()),
      REVOKE_COMMIT_MS,
    ).catch(() => undefined);
  }

  private pendingDeliveries(): number {
    let n = 0;
    for (const s of this.partitions.values()) n += s.offsets?.pending ?? 0;
    return n;
  }

  /** A delivery settled: wakes a revocation waiting for the last one. */
  private settledOne(): void {
    if (this.settledWaiter && this.pendingDeliveries() === 0) this.settledWaiter();
  }

  private fail(error: Error): void {
    if (this.closed) return;
    if (!this.started) {
      this.startWaiter?.reject(error);
      return;
    }
    this.o.onFailure(error);
  }

  /**
   * A (re)assignment: called synchronously from kafkajs' join, before it fetches with the new assignment.
   * Everything delivered from the previous assignment no longer counts (the new owners redeliver what was
   * not committed).
   */
  private onAssignment(assigned: number[]): void {
    const generation = ++this.generation;
    // Queued records of the previous assignment are stale (the new owners fetch them again).
    this.revoking = false;
    this.queue = [];
    this.queueHead = 0;
    this.throttled = false;
    for (const s of this.partitions.values()) {
      clearTimeout(s.retryTimer);
      s.offsets?.discard();
    }
    this.partitions = new Map(
      assigned.map((p) => [
        p,
        { ready: false, fetched: 0n, epoch: 0, redelivery: new Backoff(REDELIVERY_BACKOFF) },
      ]),
    );
    if (assigned.length > 0) this.consumer!.pause([{ topic: this.o.topic, partitions: assigned }]);
    this.position(generation, assigned).then(
      () => {
        if (generation === this.generation) this.startWaiter?.resolve();
      },
      (err: Error) => {
        if (generation === this.generation) this.fail(err);
      },
    );
  }

  private async position(generation: number, assigned: number[]): Promise<void> {
    if (assigned.length === 0) return;
    const { admin, topic, groupId, offsetReset } = this.o;
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId, topics: [topic] }),
      admin.fetchTopicOffsets(topic),
    ]);
    const committedOf = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const starts = new Map<number, bigint>();
    const fresh: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const partition of assigned) {
      const end = ends.find((e) => e.partition === partition);
      const low = BigInt(end?.low ?? '0');
      const high = BigInt(end?.high ?? '0');
      const c = committedOf.get(partition) ?? -1n;
      // A committed offset outside the log (retention, recreated topic) falls back to the reset policy.
      const start = c >= low && c <= high ? c : offsetReset === 'earliest' ? low : high;
      starts.set(partition, start);
      if (start !== c) fresh.push({ topic, partition, offset: start.toString() });
    }
    if (fresh.length > 0) await this.consumer!.commitOffsets(fresh);
    if (generation !== this.generation || this.closed) return;
    for (const [partition, start] of starts) {
      const state = this.partitions.get(partition)!;
      state.offsets = new PartitionOffsets(start);
      this.seek(partition, state, start);
    }
    this.applyFetchState();
  }

  private seek(partition: number, state: PartitionState, offset: bigint): void {
    state.ready = true;
    state.fetched = offset;
    this.consumer!.seek({ topic: this.o.topic, partition, offset: offset.toString() });
  }

  /** Fetch exactly from the partitions that are positioned, while the runtime has not paused the source. */
  private applyFetchState(): void {
    const consumer = this.consumer;
    if (!consumer || this.closed) return;
    const active: number[] = [];
    const inactive: number[] = [];
    for (const [p, s] of this.partitions) (s.ready && !this.throttled ? active : inactive).push(p);
    if (inactive.length > 0) consumer.pause([{ topic: this.o.topic, partitions: inactive }]);
    if (active.length > 0) consumer.resume([{ topic: this.o.topic, partitions: active }]);
  }

  private async onBatch({ batch, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    const state = this.partitions.get(batch.partition);
    if (!state?.ready || !state.offsets || isStale() || this.closed || batch.messages.length === 0) return;
    // Batches fetched before a seek are stale (kafkajs: isStale until the next fetch), those from before a
    // rewind arrive while the partition is not ready; a fetch below the queue's end would queue twice.
    // (kafkajs' Batch has `fetchedOffset`, the offset the fetch asked for, but its typings omit it.)
    if (BigInt((batch as typeof batch & { fetchedOffset: string }).fetchedOffset) < state.fetched) return;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset >= state.fetched)
        this.queue.push({ partition: batch.partition, state, epoch: state.epoch, message, offset });
    }
    const last = batch.messages[batch.messages.length - 1].offset;
    // kafkajs moves its fetch position past trailing control records when the last message is resolved.
    resolveOffset(last);
    state.fetched = BigInt(batch.lastOffset()) + 1n;
    this.drain();
  }

  /** Delivers queued records while the runtime has not paused the source; throttles fetching when full. */
  private drain(): void {
    while (!this.paused && !this.revoking && !this.closed && this.queueHead < this.queue.length) {
      const q = this.queue[this.queueHead++];
      // Records of a revoked partition or from before a rewind are fetched again from the right place.
      if (this.partitions.get(q.partition) !== q.state || q.epoch !== q.state.epoch || !q.state.offsets)
        continue;
      this.deliverOne(q.partition, q.state, q.state.offsets, q.message, q.offset);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    const size = this.queue.length - this.queueHead;
    const throttled = this.throttled ? size > PREFETCH_LOW : size >= PREFETCH_HIGH;
    if (throttled !== this.throttled) {
      this.throttled = throttled;
      this.applyFetchState();
    }
  }

  private deliverOne(
    partition: number,
    state: PartitionState,
    offsets: PartitionOffsets,
    m: KafkaMessage,
    offset: bigint,
  ): void {
    const headers = headersOf(this.o.topic, m);
    // ditto: §11.6 expiry — a message whose creation-time + ttl lies in the past is dropped (and committed).
    const expired = isExpired(headers);
    const autoSettled = this.o.qos === 0 || expired;
    const delivery = offsets.deliver(offset, autoSettled);
    if (autoSettled) this.scheduleCommit();
    if (expired) return;
    this.o.deliver({
      headers,
      payload: m.value ?? Buffer.alloc(0),
      text: 'charset',
      address: this.o.topic,
      ack: () => {
        if (offsets.ack(delivery)) this.scheduleCommit();
        this.settledOne();
      },
      nack: (redeliver) => {
        if (!redeliver) {
          if (offsets.ack(delivery)) this.scheduleCommit();
        } else if (this.o.qos === 1) this.redeliver(partition, state, offsets, delivery);
        this.settledOne();
      },
    });
  }

  /** ditto: §11.6 qos 1 — on failure restart (after back-off) from the failed message. */
  private redeliver(
    partition: number,
    state: PartitionState,
    offsets: PartitionOffsets,
    delivery: Delivery,
  ): void {
    if (this.closed || this.partitions.get(partition) !== state || !offsets.rewind(delivery)) return;
    state.ready = false;
    state.epoch++;
    clearTimeout(state.retryTimer);
    this.applyFetchState();
    state.retryTimer = setTimeout(() => {
      if (this.closed || this.partitions.get(partition) !== state) return;
      this.seek(partition, state, offsets.position);
      this.applyFetchState();
    }, state.redelivery.next());
    state.retryTimer.unref();
  }

  private scheduleCommit(): void {
    if (this.commitTimer || this.closed) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commit();
    }, COMMIT_INTERVAL_MS);
  }

  /** Commits every partition whose settled prefix grew; one commit request at a time. */
  private commit(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.committing) {
      this.scheduleCommit();
      return this.committing;
    }
    const consumer = this.consumer;
    const due: Array<{ partition: number; state: PartitionState; offset: bigint }> = [];
    for (const [partition, state] of this.partitions) {
      const offset = state.offsets?.commitable();
      if (offset !== undefined) due.push({ partition, state, offset });
    }
    if (!consumer || due.length === 0) return Promise.resolve();
    const generation = this.generation;
    this.committing = consumer
      .commitOffsets(
        due.map((d) => ({ topic: this.o.topic, partition: d.partition, offset: d.offset.toString() })),
      )
      .then(
        () => {
          for (const d of due) {
            if (d.state.offsets && d.offset > d.state.offsets.committed) d.state.offsets.committed = d.offset;
            d.state.redelivery.reset();
          }
        },
        () => {
          // A rebalance or a lost coordinator: the offsets stay due and are committed on the next attempt; a
          // new assignment starts from what the group did commit (redelivery, never loss). A lost broker
          // reaches the runtime through the consumer's crash.
          if (generation === this.generation) this.scheduleCommit();
        },
      )
      .finally(() => (this.committing = undefined));
    return this.committing;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drain();
  }

  /** Commits what is settled (bounded in time), leaves the group and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    const consumer = this.consumer;
    if (this.started && consumer) {
      // Bounded, and a failure only means redelivery from the last commit (at least once): close goes on.
      await withTimeout(this.committing ?? Promise.resolve(), CLOSE_TIMEOUT_MS).catch(() => undefined);
      await withTimeout(this.commit(), CLOSE_TIMEOUT_MS).catch(() => undefined);
    }
    this.closed = true;
    this.settledWaiter?.();
    clearTimeout(this.commitTimer);
    for (const s of this.partitions.values()) {
      clearTimeout(s.retryTimer);
      s.offsets?.discard();
    }
    this.partitions.clear();
    this.queue = [];
    this.queueHead = 0;
    this.startWaiter?.reject(new Error('closed'));
    // Unacknowledged messages were not committed: the group redelivers them later (at least once).
    // A member that cannot leave in time is dropped by the group after its session timeout (6 s).
    if (consumer) await withTimeout(consumer.disconnect(), CLOSE_TIMEOUT_MS).catch(() => undefined);
  }
}

/** ditto: §11.6 inbound headers — all record headers plus `kafka.topic`, `kafka.key`, `kafka.timestamp`. */
export function headersOf(topic: string, m: KafkaMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value)
      ? value.map((v) => v.toString()).join(',')
      : value.toString();
  }
  headers['kafka.topic'] = topic;
  if (m.key !== null && m.key !== undefined) headers['kafka.key'] = m.key.toString();
  else delete headers['kafka.key'];
  headers['kafka.timestamp'] = m.timestamp;
  return headers;
}

/** Whether `creation-time` (epoch ms) + `ttl` (ms) lies in the past (§11.6). */
export function isExpired(headers: Record<string, string>, now = Date.now()): boolean {
  const created = headers['creation-time'];
  const ttl = headers['ttl'];
  if (created === undefined || ttl === undefined) return false;
  const c = Number(created);
  const t = Number(ttl);
  return Number.isFinite(c) && Number.isFinite(t) && c + t < now;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]);
}
