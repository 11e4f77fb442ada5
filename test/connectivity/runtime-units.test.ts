/** Small pure parts of the runtime: back-off, metric windows, bounded logs, schema-generated docs. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mqtt, mqtt5 } from '../../connectors/mqtt/index.js';
import { Backoff } from '../../src/connectivity/backoff.js';
import { connectorReadme } from '../../src/connectivity/docs.js';
import { connectorReadmes } from '../../scripts/connectors-doc.js';
import type { MessageEvent } from '../../src/connectivity/events.js';
import { ConnectionLogs } from '../../src/connectivity/logs.js';
import { ConnectionMetrics } from '../../src/connectivity/metrics.js';

const event = (at: number, type: MessageEvent['type'] = 'consumed', success = true): MessageEvent => ({
  connectionId: 'c',
  address: 'a/#',
  direction: 'inbound',
  type,
  success,
  at,
});

describe('back-off', () => {
  it('doubles up to the maximum with jitter between half and the full delay', () => {
    const low = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0 });
    const high = new Backoff({ minMs: 100, maxMs: 1000, random: () => 1 });
    expect([1, 2, 3, 4, 5].map(() => low.next())).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1000]);
    high.reset();
    expect(high.next()).toBe(100);
  });
});

describe('connection metrics', () => {
  it('counts per window and forgets what left the window', () => {
    const m = new ConnectionMetrics();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    m.record(event(t0));
    m.record(event(t0 + 30_000));
    m.record(event(t0 + 30_000, 'dropped', false));
    const at = (now: number) => (m.toJSON('c', ['a/#'], [], now) as any).connectionMetrics.inbound;
    expect(at(t0 + 31_000).consumed.success).toMatchObject({
      PT1M: 2,
      PT1H: 2,
      PT24H: 2,
      lastMessageAt: new Date(t0 + 30_000).toISOString(),
    });
    expect(at(t0 + 31_000).dropped.failure.PT1M).toBe(1);
    expect(at(t0 + 75_000).consumed.success).toMatchObject({ PT1M: 1, PT1H: 2 });
    expect(at(t0 + 2 * 3600_000).consumed.success).toMatchObject({ PT1M: 0, PT1H: 0, PT24H: 2 });
    expect(at(t0 + 25 * 3600_000).consumed.success).toMatchObject({ PT24H: 0 });
    expect((m.toJSON('c', ['a/#'], [], t0) as any).containsFailures).toBe(true);
    m.reset();
    expect(at(t0 + 31_000).consumed.success.PT1M).toBe(0);
  });
});

describe('connection metrics within one bucket', () => {
  it('counts events of the same second, the next second and after a read alike', () => {
    const m = new ConnectionMetrics();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    const at = (now: number) =>
      (m.toJSON('c', ['a/#'], [], now) as any).connectionMetrics.inbound.consumed.success;
    for (const dt of [0, 10, 999, 1000, 1500]) m.record(event(t0 + dt));
    expect(at(t0 + 1600)).toMatchObject({ PT1M: 5, PT1H: 5, PT24H: 5 });
    m.record(event(t0 + 1700));
    m.record(event(t0 + 61_100));
    m.record(event(t0 + 59_999));
    // At t0+61.2 s the minute holds the buckets of seconds 2 to 61: the events of seconds 0 and 1 left it.
    expect(at(t0 + 61_200)).toMatchObject({ PT1M: 2, PT1H: 8, PT24H: 8 });
  });
});

describe('connection logs', () => {
  it('keep the newest entries per category and level, only while enabled', () => {
    const logs = new ConnectionLogs(3);
    const t0 = Date.now();
    logs.recordMessage(event(t0));
    expect((logs.toJSON('c') as any).connectionLogs).toEqual([]);
    logs.enable(t0);
    for (let i = 1; i <= 5; i++) logs.recordMessage({ ...event(t0 + i), message: `m${i}` });
    logs.recordMessage({ ...event(t0 + 6, 'dropped', false), message: 'bad' });
    const json = logs.toJSON('c') as any;
    expect(json.connectionLogs.map((l: any) => l.message)).toEqual(['m3', 'm4', 'm5', 'bad']);
    expect(json.connectionLogs[3]).toMatchObject({
      category: 'source',
      type: 'dropped',
      level: 'failure',
      address: 'a/#',
    });
    expect(Date.parse(json.enabledUntil) - Date.parse(json.enabledSince)).toBe(24 * 3600_000);
  });
});

describe('connector docs', () => {
  it('every connector folder has a README generated from its connector schema (npm run docs:connectors)', () => {
    const readmes = connectorReadmes();
    expect(readmes.size).toBe(5);
    for (const [file, text] of readmes) expect(readFileSync(file, 'utf8'), file).toBe(text);
    expect(connectorReadme([mqtt, mqtt5], 'x')).toContain('`mqtt-5`');
  });
});
