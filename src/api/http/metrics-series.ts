/**
 * The recent past of the service's own metrics, for the console's charts (`GET /devops/metrics/series`,
 * src/api/http/metrics.ts): per connection the inbound consumed, mapped and dropped and the outbound
 * published messages, and the durable store writes with their latency, per step of `stepMs` over the last
 * `slots` steps (default 5 s × 180 = 15 minutes).
 *
 * Nothing on the message path: `sample` is given the running totals that /metrics keeps anyway (by a timer
 * and before each read) and adds what changed since the previous sample to the current step. Bounded: one
 * fixed ring per series, at most `maxConnections` connections (a new one takes the place of one without
 * traffic in the window; when there is none, it is left out and `truncated` says so).
 */

/** The message types charted per connection, as `direction|type` of the connection message totals. */
export const SERIES_TYPES = [
  'inbound|consumed',
  'inbound|mapped',
  'inbound|dropped',
  'outbound|published',
] as const;

/** Cumulative counts of a histogram: `counts[i]` observations were at most `bounds[i]`; `total` all of them. */
export interface HistogramTotals {
  bounds: readonly number[];
  counts: readonly number[];
  total: number;
}

export interface SeriesOptions {
  stepMs?: number;
  slots?: number;
  maxConnections?: number;
}

interface Tracked {
  /** Totals at the previous sample, in SERIES_TYPES order. */
  last: number[];
  /** One ring per type: the messages of each step. */
  rings: Float64Array[];
  /** The first step it was sampled in (earlier steps are unknown: null). */
  since: number;
  /** The last step with traffic; a connection idle for a whole window is not shown and may be replaced. */
  active: number;
}

type Values = Array<number | null>;

export interface SeriesJson {
  stepMs: number;
  /** How far back the series go at most: stepMs × slots. */
  windowMs: number;
  /** Start of each step (ms since the epoch), oldest first; the last step is the current one, not over yet. */
  timestamps: number[];
  now: number;
  connections: Array<{
    id: string;
    inbound: { consumed: Values; mapped: Values; dropped: Values };
    outbound: { published: Values };
  }>;
  /** Durable store writes per step, and their estimated median and 99th percentile in seconds (null without writes). */
  storeWrites: { count: Values; p50Seconds: Values; p99Seconds: Values };
  /** More connections had traffic than are kept. */
  truncated: boolean;
}

export class MetricsSeries {
  readonly stepMs: number;
  readonly slots: number;
  private readonly maxConnections: number;
  private readonly connections = new Map<string, Tracked>();
  /** The last step in which a connection was left out for want of room. */
  private leftOut = -Infinity;
  /** The step of the latest sample; -1 before the first. */
  private step = -1;
  private since = -1;
  private storeLast: number[] | undefined;
  private storeBounds: readonly number[] = [];
  /** Per step, cumulative counts of that step's writes per bucket, the last one +Inf. */
  private readonly storeSteps: Float64Array[];

  constructor(options: SeriesOptions = {}) {
    this.stepMs = options.stepMs ?? 5000;
    this.slots = options.slots ?? 180;
    this.maxConnections = options.maxConnections ?? 100;
    this.storeSteps = new Array(this.slots);
  }

  /**
   * Records the totals at `now`: `messages` maps a connection ID to its running totals in SERIES_TYPES
   * order, `store` the store write histogram. What changed since the previous sample counts for the step of
   * `now`, so the caller samples often (every second) to keep the steps sharp.
   */
  sample(now: number, messages: ReadonlyMap<string, readonly number[]>, store: HistogramTotals): void {
    const step = Math.floor(now / this.stepMs);
    if (step < this.step) return; // the clock went back: wait for it
    if (this.since < 0) this.since = step;
    if (step > this.step) this.advance(step);
    const slot = step % this.slots;
    for (const [id, totals] of messages) {
      let tracked = this.connections.get(id);
      if (!tracked) {
        if (this.connections.size >= this.maxConnections && !this.replaceIdle(step)) {
          this.leftOut = step;
          continue;
        }
        // What it counted before its first sample is not in the window.
        tracked = {
          last: [...totals],
          rings: SERIES_TYPES.map(() => new Float64Array(this.slots)),
          since: step,
          active: step,
        };
        this.connections.set(id, tracked);
        continue;
      }
      for (let t = 0; t < SERIES_TYPES.length; t++) {
        const delta = totals[t] - tracked.last[t];
        if (delta > 0) {
          tracked.rings[t][slot] += delta;
          tracked.active = step;
        }
        tracked.last[t] = totals[t];
      }
    }
    const cumulative = [...store.counts, store.total];
    this.storeBounds = store.bounds;
    if (this.storeLast && this.storeLast.length === cumulative.length) {
      const counts = (this.storeSteps[slot] ??= new Float64Array(cumulative.length));
      for (let b = 0; b < cumulative.length; b++) counts[b] += Math.max(0, cumulative[b] - this.storeLast[b]);
    }
    this.storeLast = cumulative;
  }

  /** Drops a connection without traffic in the window to make room; false when every one had traffic. */
  private replaceIdle(step: number): boolean {
    for (const [id, tracked] of this.connections) {
      if (this.idle(tracked, step)) {
        this.connections.delete(id);
        return true;
      }
    }
    return false;
  }

  private idle(tracked: Tracked, step: number): boolean {
    return tracked.active <= step - this.slots;
  }

  /** Clears the slots of the steps from the previous sample's to `step`. */
  private advance(step: number): void {
    const first = this.step < 0 ? step : Math.max(this.step + 1, step - this.slots + 1);
    for (let s = first; s <= step; s++) {
      const slot = s % this.slots;
      for (const tracked of this.connections.values()) for (const ring of tracked.rings) ring[slot] = 0;
      this.storeSteps[slot]?.fill(0);
    }
    this.step = step;
  }

  /** The window up to the latest sample (sample first to include `now`). */
  toJSON(now: number): SeriesJson {
    const steps: number[] = [];
    if (this.step >= 0)
      for (let s = Math.max(this.since, this.step - this.slots + 1); s <= this.step; s++) steps.push(s);
    const read = (ring: Float64Array, since: number): Values =>
      steps.map((s) => (s < since ? null : ring[s % this.slots]));
    const connections = [...this.connections]
      .filter(([, tracked]) => !this.idle(tracked, this.step))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, { rings, since }]) => ({
        id,
        inbound: {
          consumed: read(rings[0], since),
          mapped: read(rings[1], since),
          dropped: read(rings[2], since),
        },
        outbound: { published: read(rings[3], since) },
      }));
    const store = steps.map((s) => this.storeSteps[s % this.slots]);
    return {
      stepMs: this.stepMs,
      windowMs: this.stepMs * this.slots,
      timestamps: steps.map((s) => s * this.stepMs),
      now,
      connections,
      storeWrites: {
        count: store.map((counts) => (counts ? counts[counts.length - 1] : 0)),
        p50Seconds: store.map((counts) => (counts ? histogramQuantile(0.5, this.storeBounds, counts) : null)),
        p99Seconds: store.map((counts) =>
          counts ? histogramQuantile(0.99, this.storeBounds, counts) : null,
        ),
      },
      truncated: this.leftOut > this.step - this.slots,
    };
  }
}

/**
 * The q-quantile from cumulative bucket counts (the last one +Inf), interpolated linearly within its bucket
 * as Prometheus' histogram_quantile does; null without observations; above the last bound, the last bound.
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  cumulative: ArrayLike<number>,
): number | null {
  const total = cumulative[cumulative.length - 1];
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let b = 0; b < bounds.length; b++) {
    if (cumulative[b] >= rank) {
      const lower = b === 0 ? 0 : bounds[b - 1];
      const below = b === 0 ? 0 : cumulative[b - 1];
      return lower + ((bounds[b] - lower) * (rank - below)) / (cumulative[b] - below);
    }
  }
  return bounds[bounds.length - 1];
}
