/**
 * Connection metrics in Ditto's format (§11.8): per connection, per source address and per target address,
 * counters of each inbound/outbound type, split in success and failure, over sliding windows PT1M, PT1H and
 * PT24H with the time of the last message. Fed by the `message` instrumentation events.
 */
import type { InboundType, MessageEvent, OutboundType } from './events.js';

const INBOUND: readonly InboundType[] = [
  'consumed',
  'mapped',
  'dropped',
  'enforced',
  'acknowledged',
  'throttled',
];
const OUTBOUND: readonly OutboundType[] = [
  'dispatched',
  'filtered',
  'mapped',
  'dropped',
  'published',
  'acknowledged',
];

/** Buckets: 60 × 1 s (PT1M), 60 × 1 min (PT1H), 24 × 1 h (PT24H). */
const WINDOWS = [
  { name: 'PT1M', bucketMs: 1000, buckets: 60 },
  { name: 'PT1H', bucketMs: 60_000, buckets: 60 },
  { name: 'PT24H', bucketMs: 3_600_000, buckets: 24 },
] as const;

class WindowCounter {
  private readonly counts = WINDOWS.map((w) => new Float64Array(w.buckets));
  private readonly slots = WINDOWS.map(() => -1);
  /** Until this instant every window stays in its current bucket, so `add` only counts. */
  private sameBucketsUntil = -Infinity;
  lastAt: number | undefined;

  /** Several times per message: within the current buckets (nearly always) three increments. */
  add(at: number): void {
    if (at < this.sameBucketsUntil && at >= this.sameBucketsUntil - WINDOWS[0].bucketMs) {
      for (let i = 0; i < WINDOWS.length; i++) this.counts[i][this.slots[i] % WINDOWS[i].buckets]++;
    } else {
      for (let i = 0; i < WINDOWS.length; i++) {
        const slot = this.advance(i, at);
        this.counts[i][slot % WINDOWS[i].buckets]++;
      }
      // The smallest bucket ends first; the larger ones end on the same boundaries.
      this.sameBucketsUntil = (Math.floor(at / WINDOWS[0].bucketMs) + 1) * WINDOWS[0].bucketMs;
    }
    if (this.lastAt === undefined || at > this.lastAt) this.lastAt = at;
  }

  /** Clears buckets that fell out of the window; returns the current slot number. */
  private advance(i: number, at: number): number {
    const w = WINDOWS[i];
    const slot = Math.floor(at / w.bucketMs);
    const last = this.slots[i];
    if (slot > last) {
      const clear = Math.min(slot - last, w.buckets);
      for (let k = 1; k <= clear; k++) this.counts[i][(slot - clear + k) % w.buckets] = 0;
      if (last < 0) this.counts[i].fill(0);
      this.slots[i] = slot;
    }
    return slot;
  }

  render(now: number): Record<string, number | string | null> {
    // advance() may move the buckets on to `now`: the next add takes the full path again.
    this.sameBucketsUntil = -Infinity;
    const out: Record<string, number | string | null> = {};
    for (let i = 0; i < WINDOWS.length; i++) {
      this.advance(i, now);
      let sum = 0;
      for (const c of this.counts[i]) sum += c;
      out[WINDOWS[i].name] = sum;
    }
    out.lastMessageAt = this.lastAt === undefined ? null : new Date(this.lastAt).toISOString();
    return out;
  }
}

type Direction = 'inbound' | 'outbound';
/** counters[direction][type][success|failure] */
type CounterSet = Map<string, WindowCounter>;

function key(direction: Direction, type: string, success: boolean): string {
  return `${direction}|${type}|${success ? 'success' : 'failure'}`;
}

function renderSet(set: CounterSet, direction: Direction, now: number): Record<string, unknown> {
  const types = direction === 'inbound' ? INBOUND : OUTBOUND;
  const out: Record<string, unknown> = {};
  const empty = new WindowCounter();
  for (const type of types) {
    out[type] = {
      success: (set.get(key(direction, type, true)) ?? empty).render(now),
      failure: (set.get(key(direction, type, false)) ?? empty).render(now),
    };
  }
  return out;
}

/** The metrics of one connection. */
export class ConnectionMetrics {
  private connection: CounterSet = new Map();
  private readonly sources = new Map<string, CounterSet>();
  private readonly targets = new Map<string, CounterSet>();
  private anyFailure = false;

  /** On every message event (several per message): no allocation once the counters exist. */
  record(e: MessageEvent): void {
    const perAddress = e.direction === 'inbound' ? this.sources : this.targets;
    let set = perAddress.get(e.address);
    if (!set) perAddress.set(e.address, (set = new Map()));
    let counters = (e.success ? this.successes : this.failures).get(set)?.get(e.type);
    if (!counters) counters = this.countersOf(set, e);
    counters[0].add(e.at);
    counters[1].add(e.at);
    if (!e.success) this.anyFailure = true;
  }

  /** Counters of one type and outcome per address set: [the connection's, the address's]. */
  private readonly successes = new Map<CounterSet, Map<string, [WindowCounter, WindowCounter]>>();
  private readonly failures = new Map<CounterSet, Map<string, [WindowCounter, WindowCounter]>>();

  private countersOf(set: CounterSet, e: MessageEvent): [WindowCounter, WindowCounter] {
    const k = key(e.direction, e.type, e.success);
    const counter = (s: CounterSet) => s.get(k) ?? s.set(k, new WindowCounter()).get(k)!;
    const pair: [WindowCounter, WindowCounter] = [counter(this.connection), counter(set)];
    const byOutcome = e.success ? this.successes : this.failures;
    let byType = byOutcome.get(set);
    if (!byType) byOutcome.set(set, (byType = new Map()));
    byType.set(e.type, pair);
    return pair;
  }

  reset(): void {
    this.connection = new Map();
    this.sources.clear();
    this.targets.clear();
    this.successes.clear();
    this.failures.clear();
    this.anyFailure = false;
  }

  /** The JSON of `GET /connections/{id}/metrics` (§11.8). */
  toJSON(
    connectionId: string,
    sourceAddresses: readonly string[],
    targetAddresses: readonly string[],
    now = Date.now(),
  ): Record<string, unknown> {
    const addressMetrics = (
      map: Map<string, CounterSet>,
      addresses: readonly string[],
      direction: Direction,
    ) => {
      const out: Record<string, unknown> = {};
      for (const a of new Set([...addresses, ...map.keys()]))
        out[a] = { [direction]: renderSet(map.get(a) ?? new Map(), direction, now) };
      return out;
    };
    return {
      connectionId,
      containsFailures: this.anyFailure,
      connectionMetrics: {
        inbound: renderSet(this.connection, 'inbound', now),
        outbound: renderSet(this.connection, 'outbound', now),
      },
      sourceMetrics: { addressMetrics: addressMetrics(this.sources, sourceAddresses, 'inbound') },
      targetMetrics: { addressMetrics: addressMetrics(this.targets, targetAddresses, 'outbound') },
    };
  }
}
