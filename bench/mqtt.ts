/**
 * End-to-end MQTT benchmark (issue 7): QoS 1 telemetry from a second process through Mosquitto into twin
 * updates (durable writes) and the resulting events out to an MQTT target, next to a raw pass-through in the
 * same run (an MQTT.js subscriber republishing the same messages, no processing). Twinbridge (as `npm start`
 * runs it) and the relay each run in a process of their own; this process only measures. Prints a table.
 *
 *   npm run bench -- mqtt   (or: node --import tsx bench/mqtt.ts [messages=40000] [rate=10000])
 *   BENCH_ONLY=raw|twinbridge limits the run to one path (profiling: SERVICE_CPU_PROF_DIR=<dir>).
 *   BENCH_TRACE=<prefix> writes each phase's `receive time,latency` lines to <prefix>-<phase>.csv.
 *
 * One publisher process serves every phase (warm from the first). After a warm-up of 10,000 messages, two phases per path: `max` (the publisher keeps 1000 QoS 1 publishes in flight: throughput) and `paced`
 * (a steady `rate` msg/s: latency). Latency = receive time at the target subscriber − send time in the
 * payload (same machine, same clock). Target: ≥ 10,000 msg/s end to end with p99 < 50 ms.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { request } from '../test/helpers/app.js';
import { startMosquitto } from '../test/connectivity/mosquitto.js';
import { startServiceProcess, type ServiceProcess } from '../test/helpers/service-process.js';
import { sampleService } from './support/service-cpu.js';

const DEVOPS = 'devops:foobar';
const THINGS = 100;
/** Messages through each path before it is measured (JIT compilation, connection set-up). */
const WARM_UP = 10_000;

/**
 * The bench's own MQTT clients send every packet at once (TCP_NODELAY). With Nagle's algorithm on both ends
 * of the publisher's connection (Node's default and Mosquitto's), a lone PUBLISH and the broker's lone
 * PUBACK can each wait for the other side's delayed ACK: the publisher then sends nothing for 40 ms, and
 * that pause of the load generator showed up as a 35–45 ms gap in the measured latencies (seen in a packet
 * capture of the loopback interface).
 */
async function connectClient(url: string, clientId: string): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 4 });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

interface PublishJob {
  url: string;
  count: number;
  /** msg/s; 0 = as fast as the in-flight window allows */
  rate: number;
  mode: 'raw' | 'twin';
  prefix: string;
}

/**
 * Runs in the second process for the whole run (so its own warm-up is not measured in later phases): each
 * job from the parent publishes `count` QoS 1 messages carrying their send time, on one connection.
 */
async function publisher(url: string): Promise<void> {
  const client = await connectClient(url, `bench-pub-${process.pid}`);
  process.on('message', (job: PublishJob) => void publish(client, job).then(() => process.send?.({ done: true })));
  process.on('disconnect', () => void client.endAsync().then(() => process.exit(0)));
  process.send?.({ ready: true });
}

async function publish(client: mqtt.MqttClient, job: PublishJob): Promise<void> {
  const window = 1000;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const started = Date.now();
  // The measurement starts now, not when the job was sent.
  process.send?.({ started });
  for (let seq = 1; seq <= job.count; seq++) {
    if (job.rate > 0) {
      const due = started + (seq * 1000) / job.rate;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    while (inFlight >= window) await new Promise<void>((r) => (wake = r));
    const thing = `bench:${job.prefix}-${seq % THINGS}`;
    const value = { seq, t: Date.now() };
    const payload =
      job.mode === 'raw'
        ? JSON.stringify(value)
        : JSON.stringify({ topic: `bench/${job.prefix}-${seq % THINGS}/things/twin/commands/modify`, headers: { 'correlation-id': `c-${seq}` }, path: '/attributes/telemetry', value });
    inFlight++;
    void client.publishAsync(`${job.prefix}/${job.mode === 'raw' ? 'raw-in' : 'telemetry'}/${thing}`, payload, { qos: 1 }).then(() => {
      inFlight--;
      wake?.();
      wake = undefined;
    });
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
}

/** Runs in its own process: the raw pass-through, republishing every message unchanged. */
async function relay(url: string): Promise<void> {
  const client = await connectClient(url, 'bench-relay');
  await client.subscribeAsync('raw/raw-in/#', { qos: 1 });
  client.on('message', (topic, payload) => void client.publishAsync(topic.replace('raw-in', 'raw-out'), payload, { qos: 1 }));
  process.send?.('ready');
}

function child(args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), args, { execArgv: ['--import', 'tsx'] });
}

/** The publisher process, started once; `run` resolves with the time a job started publishing, once it is published. */
async function startPublisher(url: string): Promise<{ run: (job: Omit<PublishJob, 'url'>) => Promise<number>; stop: () => void }> {
  const publisherProcess = child(['publisher', url]);
  let listener: ((m: { ready?: true; started?: number; done?: true }) => void) | undefined;
  publisherProcess.on('message', (m: { ready?: true; started?: number; done?: true }) => listener?.(m));
  const exited = new Promise<never>((_, reject) => publisherProcess.once('exit', (code) => reject(new Error(`publisher exited with ${code}`))));
  exited.catch(() => undefined);
  await Promise.race([new Promise<void>((resolve) => (listener = (m) => m.ready && resolve())), exited]);
  return {
    run: (job) => {
      let started = NaN;
      const done = new Promise<number>((resolve) => (listener = (m) => (m.started !== undefined ? (started = m.started) : m.done && resolve(started))));
      publisherProcess.send({ ...job, url });
      return Promise.race([done, exited]);
    },
    stop: () => publisherProcess.disconnect(),
  };
}

interface Result {
  path: string;
  phase: string;
  count: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  /** The service's CPU time per message in µs (Twinbridge rows). */
  cpuUs?: number;
  /** The service's GC pauses during the phase: total ms and how many lasted over 10 ms (Twinbridge rows). */
  gc?: { ms: number; over10ms: number };
  /** The service's longest event-loop delay during the phase, ms. */
  loopMaxMs?: number;
  /** The service's durable store writes (group-commit batches) during the phase that took over 10 ms, of all. */
  storeWrites?: { over10ms: number; all: number };
}

/**
 * The send time a payload carries (`"t":<ms>` in both paths' JSON), read without parsing the whole payload:
 * the measuring process should disturb the run as little as it can (it shares the two cores).
 */
function sendTime(payload: Buffer): number {
  const at = payload.indexOf('"t":');
  if (at < 0) throw new Error(`no send time in ${payload.toString()}`);
  let t = 0;
  for (let i = at + 4; i < payload.length && payload[i] >= 0x30 && payload[i] <= 0x39; i++) t = t * 10 + payload[i] - 0x30;
  return t;
}

/** Subscribes to `filter`, waits for `count` messages, returns throughput and latency. */
async function measure(url: string, filter: string, count: number, start: () => Promise<number>, label: [string, string]): Promise<Result> {
  const sub = await connectClient(url, `bench-sub-${label.join('-')}`);
  await sub.subscribeAsync(filter, { qos: 1 });
  // Preallocated: no array growth or per-message objects in the measuring process while it measures.
  const latencies = new Float64Array(count);
  const received = new Float64Array(count);
  let n = 0;
  const done = new Promise<void>((resolve) => {
    sub.on('message', (_topic, payload) => {
      if (n === count) return;
      const now = Date.now();
      received[n] = now;
      latencies[n++] = now - sendTime(payload);
      if (n === count) resolve();
    });
  });
  const began = await start();
  await Promise.race([done, new Promise((r) => setTimeout(r, 120_000))]);
  await sub.endAsync();
  if (process.env.BENCH_TRACE) {
    const lines = Array.from({ length: n }, (_, i) => `${received[i]},${latencies[i]}`);
    await writeFile(`${process.env.BENCH_TRACE}-${label[1].replace(/\W/g, '')}.csv`, lines.join('\n') + '\n');
  }
  const sorted = latencies.subarray(0, n).sort();
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))] ?? NaN;
  const seconds = ((n > 0 ? received[n - 1] : began) - began) / 1000;
  return { path: label[0], phase: label[1], count: n, seconds, rate: n / seconds, p50: q(0.5), p99: q(0.99), max: sorted[n - 1] ?? NaN };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 40_000);
  const rate = Number(process.argv[3] ?? 10_000);
  const broker = await startMosquitto();
  const pub = await startPublisher(broker.url);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'twinbridge-bench-mqtt-'));
  let service: ServiceProcess | undefined;
  const results: Result[] = [];
  try {
    const only = process.env.BENCH_ONLY;
    if (only !== 'twinbridge') await rawPhases();
    if (only !== 'raw') await twinbridgePhases();
  } finally {
    pub.stop();
    await service?.stop('SIGTERM');
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  async function rawPhases(): Promise<void> {
    const relayProcess = child(['relay', broker.url]);
    await new Promise<void>((resolve, reject) => {
      relayProcess.once('message', () => resolve());
      relayProcess.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    });
    try {
      await measure(broker.url, 'raw/raw-out/#', WARM_UP, () => pub.run({ count: WARM_UP, rate: 0, mode: 'raw', prefix: 'raw' }), ['raw', 'warm-up']);
      results.push(await measure(broker.url, 'raw/raw-out/#', count, () => pub.run({ count, rate: 0, mode: 'raw', prefix: 'raw' }), ['raw pass-through', 'max']));
      results.push(await measure(broker.url, 'raw/raw-out/#', count, () => pub.run({ count, rate, mode: 'raw', prefix: 'raw' }), ['raw pass-through', `paced ${rate}/s`]));
    } finally {
      relayProcess.kill('SIGTERM');
    }
  }

  async function twinbridgePhases(): Promise<void> {
    service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
    const url = service.url;
    const api = (method: string, p: string, o: Parameters<typeof request>[3] = {}) => request(url, method, p, o);
    for (let k = 0; k < THINGS; k++) {
      const res = await api('PUT', `/api/2/things/bench:tb-${k}`, { body: { attributes: {} } });
      if (res.status !== 201) throw new Error(`thing: ${res.status} ${res.text}`);
    }
    const connection = {
      connectionType: 'mqtt',
      connectionStatus: 'open',
      uri: broker.url.replace('mqtt:', 'tcp:'),
      specificConfig: { clientId: 'bench-twinbridge', cleanSession: 'true' },
      sources: [{ addresses: ['tb/telemetry/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
      targets: [{ address: 'tb/events/{{ thing:id }}', topics: ['_/_/things/twin/events'], qos: 1, authorizationContext: ['nginx:ditto'] }],
    };
    const created = await api('POST', '/api/2/connections', { auth: DEVOPS, body: connection });
    if (created.status !== 201) throw new Error(`connection: ${created.status} ${created.text}`);
    const id = created.json.id;
    for (let i = 0; i < 100; i++) {
      if ((await api('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json.liveStatus === 'open') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await measure(broker.url, 'tb/events/#', WARM_UP, () => pub.run({ count: WARM_UP, rate: 0, mode: 'twin', prefix: 'tb' }), ['twinbridge', 'warm-up']);
    const withCpu = async (run: () => Promise<Result>): Promise<Result> => {
      const before = await sampleService(url);
      const result = await run();
      const after = await sampleService(url);
      return {
        ...result,
        cpuUs: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / result.count,
        gc: { ms: (after.gcSeconds - before.gcSeconds) * 1000, over10ms: after.gcOver10ms - before.gcOver10ms },
        loopMaxMs: after.loopDelayMaxMs,
        storeWrites: { over10ms: after.storeWritesOver10ms - before.storeWritesOver10ms, all: after.storeWrites - before.storeWrites },
      };
    };
    results.push(await withCpu(() => measure(broker.url, 'tb/events/#', count, () => pub.run({ count, rate: 0, mode: 'twin', prefix: 'tb' }), ['twinbridge (durable)', 'max'])));
    results.push(await withCpu(() => measure(broker.url, 'tb/events/#', count, () => pub.run({ count, rate, mode: 'twin', prefix: 'tb' }), ['twinbridge (durable)', `paced ${rate}/s`])));
    const metrics = (await api('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
    const inbound = metrics.connectionMetrics.inbound;
    console.log(`twinbridge metrics: consumed ${inbound.consumed.success.PT1H}, dropped ${inbound.dropped.failure.PT1H}, published ${metrics.connectionMetrics.outbound.published.success.PT1H}`);
  }
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  console.log(`\nMQTT end to end, ${count} QoS 1 messages per phase, Twinbridge and the relay in processes of their own, 2-core machine\n`);
  console.log(`${pad('path', 22)}${pad('phase', 16)}${pad('received', 10)}${pad('msg/s', 10)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('max ms', 8)}${pad('service CPU µs/msg', 20)}${pad('service GC ms (pauses > 10 ms)', 32)}${pad('service loop delay max ms', 27)}store writes > 10 ms`);
  for (const r of results) console.log(`${pad(r.path, 22)}${pad(r.phase, 16)}${pad(r.count, 10)}${pad(Math.round(r.rate), 10)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.max, 8)}${pad(r.cpuUs === undefined ? '' : Math.round(r.cpuUs), 20)}${pad(r.gc === undefined ? '' : `${Math.round(r.gc.ms)} (${r.gc.over10ms})`, 32)}${pad(r.loopMaxMs === undefined ? '' : Math.round(r.loopMaxMs), 27)}${r.storeWrites === undefined ? '' : `${r.storeWrites.over10ms} of ${r.storeWrites.all}`}`);
  const raw = results.find((r) => r.path.startsWith('raw') && r.phase === 'max');
  const tb = results.find((r) => r.path.startsWith('twin') && r.phase === 'max');
  if (raw && tb) console.log(`\nthroughput ratio twinbridge / raw pass-through: ${(tb.rate / raw.rate).toFixed(2)}`);
}

if (process.argv[2] === 'publisher') {
  publisher(process.argv[3]).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if (process.argv[2] === 'relay') {
  relay(process.argv[3]).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
