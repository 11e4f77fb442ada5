/**
 * `GET /metrics`: Prometheus text format for the whole service (prom-client): Node.js process metrics and
 * connection message counters fed by the connectivity instrumentation events (STYLE lesson 12), and how long
 * durable store writes take.
 * Unauthenticated (`realm: 'none'`) like most scrape endpoints: it exposes counts and connection IDs only,
 * never payloads or credentials. Put it behind the proxy's access rules if connection IDs are sensitive.
 * `GET /devops/metrics/series` (devops users): the last 15 minutes of the same totals as JSON for the web
 * console's charts (src/api/http/metrics-series.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectivityEvents } from '../../connectivity/index.js';
import { MetricsSeries, SERIES_TYPES, type HistogramTotals } from './metrics-series.js';

export interface MetricsRoutesOptions {
  events: ConnectivityEvents;
  /** Connection IDs with their live status, sampled on scrape. */
  connectionStates: () => Array<{ id: string; liveStatus: string }>;
  /** Signals and unconfirmed writes in flight per connection target (its outbound window), sampled on scrape. */
  outboundInFlight: () => Array<{ id: string; target: string; inFlight: number }>;
  /** Subscribes to the duration of each durable store write (services.onStoreWrite). */
  onStoreWrite: (listener: (seconds: number) => void) => () => void;
}

export async function metricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'twinbridge_' });
  // The hot path only bumps a number in a Map; prom-client sees the totals when scraped.
  const messageCounts = new Map<string, { labels: Record<string, string>; n: number }>();
  const lifecycleCounts = new Map<string, { labels: Record<string, string>; n: number }>();
  const bump = (map: typeof messageCounts, key: string, labels: () => Record<string, string>) => {
    const entry = map.get(key);
    if (entry) entry.n++;
    else map.set(key, { labels: labels(), n: 1 });
  };
  const fromCounts = (map: typeof messageCounts) =>
    function (this: Counter<string>) {
      this.reset();
      for (const { labels, n } of map.values()) this.inc(labels, n);
    };
  new Counter({
    name: 'twinbridge_connection_messages_total',
    help: 'Connection messages by connection, direction (inbound|outbound), type (consumed, mapped, dropped, published, …) and outcome',
    labelNames: ['connection', 'direction', 'type', 'outcome'],
    registers: [registry],
    collect: fromCounts(messageCounts),
  });
  new Counter({
    name: 'twinbridge_connection_client_events_total',
    help: 'Connection client life-cycle events (connected, disconnected, failed, closed)',
    labelNames: ['connection', 'kind'],
    registers: [registry],
    collect: fromCounts(lifecycleCounts),
  });
  new Gauge({
    name: 'twinbridge_connection_open',
    help: '1 when every client of the connection is open, else 0',
    labelNames: ['connection'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of options.connectionStates())
        this.set({ connection: c.id }, c.liveStatus === 'open' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'twinbridge_connection_outbound_in_flight',
    help: 'Signals a connection target holds at once: waiting for an asynchronous mapper, or written and not yet confirmed by the broker (at its window size, further signals are dropped)',
    labelNames: ['connection', 'target'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of options.outboundInFlight())
        this.set({ connection: t.id, target: t.target }, t.inFlight);
    },
  });
  // Several events per message: the entry is found through the event's own strings, without building a key.
  const byEvent = new Map<
    string,
    Map<string, Map<string, { labels: Record<string, string>; n: number }[]>>
  >();
  const offMessage = options.events.on('message', (e) => {
    let byDirection = byEvent.get(e.connectionId);
    if (!byDirection) byEvent.set(e.connectionId, (byDirection = new Map()));
    let byType = byDirection.get(e.direction);
    if (!byType) byDirection.set(e.direction, (byType = new Map()));
    let outcomes = byType.get(e.type);
    if (!outcomes) byType.set(e.type, (outcomes = []));
    const i = e.success ? 0 : 1;
    let entry = outcomes[i];
    if (!entry) {
      const labels = {
        connection: e.connectionId,
        direction: e.direction,
        type: e.type,
        outcome: e.success ? 'success' : 'failure',
      };
      messageCounts.set(Object.values(labels).join('|'), (entry = outcomes[i] = { labels, n: 0 }));
    }
    entry.n++;
  });
  // A group-commit batch at a time (hundreds per second at most), so observed directly. A slow disk shows
  // here first: every write of a batch, and every acknowledgement behind it, waits for it.
  const storeWrites = new Histogram({
    name: 'twinbridge_store_write_seconds',
    help: 'Durable store writes (one group-commit batch each: a journal append, or a PostgreSQL transaction), from start until the service has seen them durable (so including any wait for its event loop)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const offStoreWrite = options.onStoreWrite((seconds) => storeWrites.observe(seconds));
  const offLifecycle = options.events.on('lifecycle', (e) =>
    bump(lifecycleCounts, `${e.connectionId}|${e.kind}`, () => ({
      connection: e.connectionId,
      kind: e.kind,
    })),
  );

  const series = new MetricsSeries();
  const sampleSeries = async () => {
    const totals = new Map<string, number[]>();
    for (const { labels, n } of messageCounts.values()) {
      const t = SERIES_TYPES.indexOf(`${labels.direction}|${labels.type}` as (typeof SERIES_TYPES)[number]);
      if (t < 0) continue;
      let row = totals.get(labels.connection);
      if (!row) totals.set(labels.connection, (row = SERIES_TYPES.map(() => 0)));
      row[t] += n;
    }
    series.sample(Date.now(), totals, histogramTotals(await storeWrites.get()));
  };
  // Now (the baseline: nothing counted yet), then every second, so that a step's messages land in that
  // step (the series has 5 s steps).
  await sampleSeries();
  const sampler = setInterval(
    () =>
      void sampleSeries().catch((err: unknown) =>
        app.log.error({ err }, 'sampling the metrics series failed'),
      ),
    1000,
  );
  sampler.unref();
  app.addHook('onClose', async () => {
    clearInterval(sampler);
    offMessage();
    offLifecycle();
    offStoreWrite();
  });
  app.get('/devops/metrics/series', { config: { realm: 'devops' } }, async (_request, reply) => {
    await sampleSeries();
    return reply.header('cache-control', 'no-store').send(series.toJSON(Date.now()));
  });
  app.get('/metrics', { config: { realm: 'none' } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** The cumulative buckets of a prom-client histogram without labels. */
function histogramTotals(metric: Awaited<ReturnType<Histogram['get']>>): HistogramTotals {
  const bounds: number[] = [];
  const counts: number[] = [];
  let total = 0;
  for (const v of metric.values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    if (v.labels.le === '+Inf') total = v.value;
    else {
      bounds.push(Number(v.labels.le));
      counts.push(v.value);
    }
  }
  return { bounds, counts, total };
}
