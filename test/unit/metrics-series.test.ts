import { describe, expect, it } from 'vitest';
import { histogramQuantile, MetricsSeries, type HistogramTotals } from '../../src/api/http/metrics-series.js';

const BOUNDS = [0.001, 0.01, 0.1];
const noWrites: HistogramTotals = { bounds: BOUNDS, counts: [0, 0, 0], total: 0 };
const STEP = 5000;
const T0 = 1_000_000 * STEP;

describe('MetricsSeries', () => {
  it('counts what changed per step, from the totals it is given', () => {
    const series = new MetricsSeries({ stepMs: STEP, slots: 4 });
    series.sample(T0, new Map([['c1', [10, 10, 0, 5]]]), noWrites);
    series.sample(T0 + 1000, new Map([['c1', [13, 12, 1, 5]]]), noWrites);
    series.sample(T0 + STEP, new Map([['c1', [20, 19, 1, 9]]]), noWrites);
    const json = series.toJSON(T0 + STEP);
    expect(json.timestamps).toEqual([T0, T0 + STEP]);
    expect(json.connections).toEqual([
      {
        id: 'c1',
        inbound: { consumed: [3, 7], mapped: [2, 7], dropped: [1, 0] },
        outbound: { published: [0, 4] },
      },
    ]);
  });

  it('keeps only the last `slots` steps and zeroes steps without a sample', () => {
    const series = new MetricsSeries({ stepMs: STEP, slots: 3 });
    series.sample(T0, new Map([['c1', [0, 0, 0, 0]]]), noWrites);
    series.sample(T0 + STEP, new Map([['c1', [4, 0, 0, 0]]]), noWrites);
    series.sample(T0 + 4 * STEP, new Map([['c1', [6, 0, 0, 0]]]), noWrites);
    const json = series.toJSON(T0 + 4 * STEP);
    expect(json.timestamps).toEqual([T0 + 2 * STEP, T0 + 3 * STEP, T0 + 4 * STEP]);
    expect(json.connections[0].inbound.consumed).toEqual([0, 0, 2]);
  });

  it('shows null before a connection was first seen', () => {
    const series = new MetricsSeries({ stepMs: STEP, slots: 4 });
    series.sample(T0, new Map(), noWrites);
    series.sample(T0 + STEP, new Map([['late', [5, 0, 0, 0]]]), noWrites);
    series.sample(T0 + 2 * STEP, new Map([['late', [8, 0, 0, 0]]]), noWrites);
    expect(series.toJSON(T0 + 2 * STEP).connections[0].inbound.consumed).toEqual([null, 0, 3]);
  });

  it('is bounded: connections beyond the cap are left out and reported, idle ones drop out of the window', () => {
    const series = new MetricsSeries({ stepMs: STEP, slots: 2, maxConnections: 2 });
    const three = new Map([
      ['a', [1, 0, 0, 0]],
      ['b', [1, 0, 0, 0]],
      ['c', [1, 0, 0, 0]],
    ]);
    series.sample(T0, three, noWrites);
    let json = series.toJSON(T0);
    expect(json.connections.map((c) => c.id)).toEqual(['a', 'b']);
    expect(json.truncated).toBe(true);
    // a and b stay idle for a whole window: they make room for c.
    series.sample(T0 + 3 * STEP, three, noWrites);
    series.sample(T0 + 3 * STEP + 1, new Map([['c', [2, 0, 0, 0]]]), noWrites);
    json = series.toJSON(T0 + 3 * STEP + 1);
    expect(json.connections.map((c) => c.id)).toEqual(['c']);
    expect(json.truncated).toBe(false);
  });

  it('derives the store write count and latency quantiles per step from the histogram', () => {
    const series = new MetricsSeries({ stepMs: STEP, slots: 3 });
    series.sample(T0, new Map(), { bounds: BOUNDS, counts: [10, 10, 10], total: 10 });
    // 100 writes in this step: 50 under 1 ms, 49 under 10 ms, 1 under 100 ms.
    series.sample(T0 + 1, new Map(), { bounds: BOUNDS, counts: [60, 109, 110], total: 110 });
    const { storeWrites } = series.toJSON(T0 + 1);
    expect(storeWrites.count).toEqual([100]);
    expect(storeWrites.p50Seconds[0]).toBeCloseTo(0.001);
    expect(storeWrites.p99Seconds[0]).toBeCloseTo(0.01);
  });
});

describe('histogramQuantile', () => {
  it('interpolates within the bucket, as Prometheus does', () => {
    expect(histogramQuantile(0.5, [1, 2], [0, 10, 10])).toBeCloseTo(1.5);
    expect(histogramQuantile(0.9, [1, 2], [5, 5, 10])).toBe(2);
    expect(histogramQuantile(0.5, [1, 2], [0, 0, 0])).toBeNull();
  });
});
