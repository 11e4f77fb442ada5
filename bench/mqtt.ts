/**
 * End-to-end MQTT benchmark (issues 7 and 21), measured as a user comparing bridges would: devices publish
 * QoS 1 telemetry, a bridge turns it into a twin update and publishes the event (QoS 1), a backend
 * consumes it. Three contenders in the same run, on the same Mosquitto, each in a process of its own:
 *
 *   raw pass-through   an MQTT.js client republishing every message unchanged (no parsing): the floor
 *   Node-RED 4         mqtt in → function (parse the JSON, build the event) → mqtt out; persists nothing
 *                      (bench/peers/node-red.ts, installed with npm on first use)
 *   Twinbridge         as `npm start` runs it: MQTT connection, Ditto mapper, durable twin, event target
 *
 * Every contender gets the same Ditto Protocol `modify` commands over 100 things from one publisher process
 * (warm from the first phase), on `<prefix>/telemetry/<thing>`, and answers on `<prefix>/events/<thing>`,
 * where this process subscribes. After a warm-up of 10,000 messages per contender, each round runs, the
 * contenders in an order rotated by one per round: `saturated` (the publisher keeps 1000 QoS 1 publishes
 * in flight: throughput), then `paced` at half the raw pass-through's saturated rate of the same round
 * (latency). Latency = receive time here − send time in the payload (same machine, same clock). CPU per
 * message is each contender's process tree from /proc over the phase; so are the broker's cores and the
 * load generator's (publisher and this measuring process: when they near the 2 cores, they set the rate).
 * Every round is printed, then the targets as ratios with ✓/✗ per round and over all rounds.
 *
 *   npm run bench -- mqtt      (or: node --import tsx bench/mqtt.ts [messages=20000] [paced-seconds=5])
 *   BENCH_ROUNDS=3             rounds (default 1); ~30 s per round at 5,000–10,000 msg/s, plus ~15 s start-up
 *                              (and ~15 s to install Node-RED on first use)
 *   BENCH_ONLY=raw,twinbridge  the contenders to run (of raw, node-red, twinbridge; profiling:
 *                              SERVICE_CPU_PROF_DIR=<dir>); ratios need both of their contenders
 *   BENCH_PACED_RATE=<msg/s>   the paced rate when the raw pass-through is not run (default 5000)
 *   BENCH_TRACE=<prefix>       writes each phase's `receive time,latency` lines to <prefix>-<round>-<contender>-<phase>.csv
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { request } from '../test/helpers/app.js';
import { startMosquitto } from '../test/connectivity/mosquitto.js';
import { startServiceProcess } from '../test/helpers/service-process.js';
import { startNodeRed } from './peers/node-red.js';
import { benchRounds, inRoundOrder, markdownTable, Targets, type Target } from './support/report.js';
import {
  childPid,
  cpuWindow,
  ownCpuWindow,
  sampleService,
  type ServiceSample,
} from './support/service-cpu.js';

const DEVOPS = 'devops:foobar';
const THINGS = 100;
/** Messages through each contender before anything is measured (JIT compilation, connection set-up). */
const WARM_UP = 10_000;
/** Publishes the publisher keeps in flight in the saturated phase. */
const WINDOW = 1000;
/** A phase that has not received all its messages by then fails the run (nothing is printed for it as if complete). */
const PHASE_TIMEOUT_MS = 60_000;
/** A pause before each phase, so that the tail of the previous one (GC, store flushes) is not measured in the next contender's. */
const SETTLE_MS = 1000;

/**
 * The bench's own MQTT clients send every packet at once (TCP_NODELAY). With Nagle's algorithm on both ends
 * of the publisher's connection (Node's default and Mosquitto's), a lone PUBLISH and the broker's lone
 * PUBACK can each wait for the other side's delayed ACK: the publisher then sends nothing for 40 ms, and
 * that pause of the load generator showed up as a 35–45 ms gap in the measured latencies (seen in a packet
 * capture of the loopback interface). The contenders keep their own settings (Node-RED's are its defaults).
 */
async function connectClient(url: string, clientId: string): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 4 });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

/** The device's message `seq` for the contender of topic prefix `prefix`: the same bytes for every contender but the prefix. */
function telemetry(prefix: string, seq: number): { topic: string; payload: string } {
  const thing = `${prefix}-${seq % THINGS}`;
  const payload = JSON.stringify({
    topic: `bench/${thing}/things/twin/commands/modify`,
    headers: { 'correlation-id': `c-${seq}` },
    path: '/attributes/telemetry',
    value: { seq, t: Date.now() },
  });
  return { topic: `${prefix}/telemetry/bench:${thing}`, payload };
}

interface PublishJob {
  count: number;
  /** msg/s; 0 = as fast as the in-flight window allows */
  rate: number;
  prefix: string;
}

/**
 * Runs in the second process for the whole run (so its own warm-up is not measured in later phases): each
 * job from the parent publishes `count` QoS 1 messages carrying their send time, on one connection.
 */
async function publisher(url: string): Promise<void> {
  const client = await connectClient(url, `bench-pub-${process.pid}`);
  process.on(
    'message',
    (job: PublishJob) => void publish(client, job).then(() => process.send?.({ done: true })),
  );
  process.on('disconnect', () => void client.endAsync().then(() => process.exit(0)));
  process.send?.({ ready: true });
}

async function publish(client: mqtt.MqttClient, job: PublishJob): Promise<void> {
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
    while (inFlight >= WINDOW) await new Promise<void>((r) => (wake = r));
    const { topic, payload } = telemetry(job.prefix, seq);
    inFlight++;
    void client.publishAsync(topic, payload, { qos: 1 }).then(() => {
      inFlight--;
      wake?.();
      wake = undefined;
    });
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
}

/** Runs in its own process: the raw pass-through, republishing every message unchanged to its events topic. */
async function relay(url: string): Promise<void> {
  const client = await connectClient(url, 'bench-relay');
  await client.subscribeAsync('raw/telemetry/#', { qos: 1 });
  client.on(
    'message',
    (topic, payload) =>
      void client.publishAsync(topic.replace('/telemetry/', '/events/'), payload, { qos: 1 }),
  );
  process.send?.('ready');
}

function child(args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), args, { execArgv: ['--import', 'tsx'] });
}

/** The publisher process, started once; `run` resolves with the time a job started publishing, once it is published. */
async function startPublisher(
  url: string,
): Promise<{ pid: number | undefined; run: (job: PublishJob) => Promise<number>; stop: () => void }> {
  const publisherProcess = child(['publisher', url]);
  let listener: ((m: { ready?: true; started?: number; done?: true }) => void) | undefined;
  publisherProcess.on('message', (m: { ready?: true; started?: number; done?: true }) => listener?.(m));
  const exited = new Promise<never>((_, reject) =>
    publisherProcess.once('exit', (code) => reject(new Error(`publisher exited with ${code}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([new Promise<void>((resolve) => (listener = (m) => m.ready && resolve())), exited]);
  return {
    pid: publisherProcess.pid,
    run: (job) => {
      let started = NaN;
      const done = new Promise<number>(
        (resolve) =>
          (listener = (m) => (m.started !== undefined ? (started = m.started) : m.done && resolve(started))),
      );
      publisherProcess.send(job);
      return Promise.race([done, exited]);
    },
    stop: () => publisherProcess.disconnect(),
  };
}

type Key = 'raw' | 'node-red' | 'twinbridge';

interface Contender {
  key: Key;
  name: string;
  /** Topic prefix of its input and output. */
  prefix: string;
  /** Its process (CPU from /proc, and whether it still runs). */
  child: ChildProcess;
  /** What it printed, for errors. */
  output(): string;
  /** Twinbridge's own figures. */
  sample?: () => Promise<ServiceSample>;
  stop(): Promise<void>;
}

interface Phase {
  contender: Contender;
  phase: string;
  count: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  /** The contender's CPU (process tree, /proc) per message, µs, and in cores over the phase. */
  cpuUs: number;
  cores: number;
  brokerCores: number;
  /** The publisher's and this measuring process's cores together: near 2 of the 2 cores, the load generator limits the rate. */
  loadGenCores: number;
  /** Twinbridge only: GC pauses (total ms, how many over 10 ms), the longest event-loop delay, store writes over 10 ms of all. */
  gc?: { ms: number; over10ms: number };
  loopMaxMs?: number;
  storeWrites?: { over10ms: number; all: number };
}

/**
 * The send time a payload carries (`"t":<ms>` in every contender's JSON), read without parsing the whole
 * payload: the measuring process should disturb the run as little as it can (it shares the two cores).
 */
function sendTime(payload: Buffer): number {
  const at = payload.indexOf('"t":');
  if (at < 0) throw new Error(`no send time in ${payload.toString()}`);
  let t = 0;
  for (let i = at + 4; i < payload.length && payload[i] >= 0x30 && payload[i] <= 0x39; i++)
    t = t * 10 + payload[i] - 0x30;
  return t;
}

function alive(c: Contender): void {
  if (c.child.exitCode !== null || c.child.signalCode !== null)
    throw new Error(`${c.name} exited (${c.child.exitCode ?? c.child.signalCode}):\n${c.output()}`);
}

/** Waits until a message sent to the contender comes out of it (its subscription is in place). */
async function awaitFlowing(url: string, c: Contender): Promise<void> {
  const client = await connectClient(url, `bench-probe-${c.key}`);
  try {
    let arrived = false;
    client.on('message', () => (arrived = true));
    await client.subscribeAsync(`${c.prefix}/events/#`, { qos: 1 });
    const until = Date.now() + 60_000;
    while (!arrived) {
      alive(c);
      if (Date.now() > until) throw new Error(`${c.name} passed no message on within 60 s:\n${c.output()}`);
      const { topic, payload } = telemetry(c.prefix, 0);
      await client.publishAsync(topic, payload, { qos: 1 });
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.endAsync();
  }
}

/** One phase: subscribes to the contender's events, has the publisher send `count` messages at `rate` (0 = saturated), waits for all of them. */
async function measure(
  url: string,
  pub: Awaited<ReturnType<typeof startPublisher>>,
  brokerPid: number | undefined,
  c: Contender,
  count: number,
  rate: number,
  phase: string,
  trace?: string,
): Promise<Phase> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const sub = await connectClient(url, `bench-sub-${c.key}`);
  await sub.subscribeAsync(`${c.prefix}/events/#`, { qos: 1 });
  // Preallocated: no array growth or per-message objects in the measuring process while it measures.
  const latencies = new Float64Array(count);
  const received = new Float64Array(count);
  let n = 0;
  // Late messages of an earlier phase (or of the probe) were sent before this one began: not counted.
  const notBefore = Date.now();
  let lastAt = 0;
  const done = new Promise<void>((resolve) => {
    sub.on('message', (_topic, payload) => {
      const sent = sendTime(payload);
      if (n === count || sent < notBefore) return;
      const now = Date.now();
      received[n] = now;
      latencies[n++] = now - sent;
      if (n === count) {
        lastAt = now;
        resolve();
      }
    });
  });
  const before = await c.sample?.();
  const cpu = cpuWindow(c.child.pid);
  const brokerCpu = cpuWindow(brokerPid);
  const loadGenCpu = [cpuWindow(pub.pid), ownCpuWindow()];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`${c.name}, ${phase}: ${n} of ${count} messages arrived in ${PHASE_TIMEOUT_MS / 1000} s`),
        ),
      PHASE_TIMEOUT_MS,
    );
  });
  let began: number;
  try {
    [began] = await Promise.race([Promise.all([pub.run({ count, rate, prefix: c.prefix }), done]), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const used = cpu.stop(count);
  const brokerCores = brokerCpu.stop(count).cores;
  const loadGenCores = loadGenCpu.reduce((sum, w) => sum + w.stop(count).cores, 0);
  const after = await c.sample?.();
  await sub.endAsync();
  alive(c);
  if (trace)
    await writeFile(
      `${trace}-${c.key}-${phase.replace(/\W/g, '')}.csv`,
      Array.from({ length: n }, (_, i) => `${received[i]},${latencies[i]}`).join('\n') + '\n',
    );
  const sorted = latencies.sort();
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))];
  const seconds = (lastAt - began) / 1000;
  return {
    contender: c,
    phase,
    count,
    seconds,
    rate: count / seconds,
    p50: q(0.5),
    p99: q(0.99),
    max: sorted[n - 1],
    cpuUs: used.usPerMessage,
    cores: used.cores,
    brokerCores,
    loadGenCores,
    ...(before && after
      ? {
          gc: {
            ms: (after.gcSeconds - before.gcSeconds) * 1000,
            over10ms: after.gcOver10ms - before.gcOver10ms,
          },
          loopMaxMs: after.loopDelayMaxMs,
          storeWrites: {
            over10ms: after.storeWritesOver10ms - before.storeWritesOver10ms,
            all: after.storeWrites - before.storeWrites,
          },
        }
      : {}),
  };
}

async function startRelay(url: string): Promise<Contender> {
  const relayProcess = child(['relay', url]);
  await new Promise<void>((resolve, reject) => {
    relayProcess.once('message', () => resolve());
    relayProcess.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  return {
    key: 'raw',
    name: 'raw pass-through (MQTT.js)',
    prefix: 'raw',
    child: relayProcess,
    output: () => '',
    async stop() {
      const exited = new Promise((r) => relayProcess.once('exit', r));
      if (relayProcess.exitCode === null) relayProcess.kill('SIGTERM');
      await exited;
    },
  };
}

async function startNodeRedContender(url: string): Promise<Contender> {
  const peer = await startNodeRed(url);
  return {
    key: 'node-red',
    name: `Node-RED ${peer.version}`,
    prefix: 'nr',
    child: peer.child,
    output: peer.output,
    stop: peer.stop,
  };
}

async function startTwinbridge(url: string, dataDir: string): Promise<Contender> {
  const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  const api = (method: string, p: string, o: Parameters<typeof request>[3] = {}) =>
    request(service.url, method, p, o);
  for (let k = 0; k < THINGS; k++) {
    const res = await api('PUT', `/api/2/things/bench:tb-${k}`, { body: { attributes: {} } });
    if (res.status !== 201) throw new Error(`thing: ${res.status} ${res.text}`);
  }
  const connection = {
    connectionType: 'mqtt',
    connectionStatus: 'open',
    uri: url.replace('mqtt:', 'tcp:'),
    specificConfig: { clientId: 'bench-twinbridge', cleanSession: 'true' },
    sources: [{ addresses: ['tb/telemetry/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
    targets: [
      {
        address: 'tb/events/{{ thing:id }}',
        topics: ['_/_/things/twin/events'],
        qos: 1,
        authorizationContext: ['nginx:ditto'],
      },
    ],
  };
  const created = await api('POST', '/api/2/connections', { auth: DEVOPS, body: connection });
  if (created.status !== 201) throw new Error(`connection: ${created.status} ${created.text}`);
  const id = created.json.id as string;
  return {
    key: 'twinbridge',
    name: 'Twinbridge (durable twin)',
    prefix: 'tb',
    child: service.child,
    output: service.output,
    sample: () => sampleService(service.url),
    async stop() {
      try {
        // What the connection counted: every message consumed and published, none dropped.
        const metrics = (await api('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
        const inbound = metrics.connectionMetrics.inbound;
        console.log(
          `Twinbridge connection metrics: consumed ${inbound.consumed.success.PT1H}, dropped ${inbound.dropped.failure.PT1H}, published ${metrics.connectionMetrics.outbound.published.success.PT1H}`,
        );
      } finally {
        await service.stop('SIGTERM');
      }
    },
  };
}

const round0 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : Math.round(x));
const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '');

function printRound(phases: Phase[]): void {
  console.log(
    markdownTable(
      [
        'contender',
        'phase',
        'messages',
        'msg/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'CPU µs/msg',
        'CPU cores',
        'broker cores',
        'load generator cores',
        'GC ms (> 10 ms)',
        'loop delay max ms',
        'store writes > 10 ms',
      ],
      phases.map((p) => [
        p.contender.name,
        p.phase,
        p.count,
        round0(p.rate),
        p.p50,
        p.p99,
        p.max,
        round0(p.cpuUs),
        fixed(p.cores, 2),
        fixed(p.brokerCores, 2),
        fixed(p.loadGenCores, 2),
        p.gc ? `${Math.round(p.gc.ms)} (${p.gc.over10ms})` : '',
        round0(p.loopMaxMs),
        p.storeWrites ? `${p.storeWrites.over10ms} of ${p.storeWrites.all}` : '',
      ]),
      2,
    ),
  );
}

/** Issue 21's MQTT targets, for the contenders that ran. */
function roundTargets(phases: Phase[]): Target[] {
  const at = (key: Key, phase: 'saturated' | 'paced') =>
    phases.find((p) => p.contender.key === key && p.phase.startsWith(phase));
  const targets: Target[] = [];
  const tb = { saturated: at('twinbridge', 'saturated'), paced: at('twinbridge', 'paced') };
  const raw = { saturated: at('raw', 'saturated'), paced: at('raw', 'paced') };
  const nodeRed = at('node-red', 'saturated');
  if (tb.saturated && raw.saturated)
    targets.push({
      label: 'Twinbridge / raw pass-through, saturated msg/s',
      value: tb.saturated.rate / raw.saturated.rate,
      op: '≥',
      bound: 0.85,
      unit: '×',
    });
  if (tb.saturated && nodeRed)
    targets.push({
      label: 'Twinbridge / Node-RED, saturated msg/s',
      value: tb.saturated.rate / nodeRed.rate,
      op: '≥',
      bound: 1.0,
      unit: '×',
    });
  if (tb.paced && raw.paced)
    targets.push({
      label: 'Twinbridge p99 / raw pass-through p99, paced at half its saturated rate',
      value: tb.paced.p99 / raw.paced.p99,
      op: '≤',
      bound: 2,
      unit: '×',
    });
  for (const phase of ['saturated', 'paced'] as const) {
    const t = tb[phase];
    const r = raw[phase];
    if (t && r)
      targets.push({
        label: `Twinbridge CPU/msg ÷ raw pass-through CPU/msg, ${phase}`,
        value: t.cpuUs / r.cpuUs,
        op: '≤',
        bound: 3,
        unit: '×',
      });
  }
  return targets;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 20_000);
  const pacedSeconds = Number(process.argv[3] ?? 5);
  const rounds = benchRounds();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const wanted = (key: Key) => only === undefined || only.includes(key);
  const broker = await startMosquitto();
  const brokerPid = childPid('mosquitto');
  const pub = await startPublisher(broker.url);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'twinbridge-bench-mqtt-'));
  const contenders: Contender[] = [];
  const targets = new Targets();
  try {
    if (wanted('raw')) contenders.push(await startRelay(broker.url));
    if (wanted('node-red')) contenders.push(await startNodeRedContender(broker.url));
    if (wanted('twinbridge')) contenders.push(await startTwinbridge(broker.url, dataDir));
    if (contenders.length === 0)
      throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY} names none of raw, node-red, twinbridge`);
    for (const c of contenders) {
      await awaitFlowing(broker.url, c);
      await measure(broker.url, pub, brokerPid, c, WARM_UP, 0, 'warm-up');
    }
    console.log(
      `\nMQTT QoS 1 end to end: ${count} messages per saturated phase (${WINDOW} in flight), ${pacedSeconds} s per paced phase, ${THINGS} things; each contender and the publisher in a process of their own; after a warm-up of ${WARM_UP} per contender`,
    );
    for (let round = 0; round < rounds; round++) {
      const order = inRoundOrder(contenders, round);
      const phases: Phase[] = [];
      const load = loadavg()[0].toFixed(1);
      for (const c of order)
        phases.push(await measure(broker.url, pub, brokerPid, c, count, 0, 'saturated', trace(round)));
      const raw = phases.find((p) => p.contender.key === 'raw');
      const pacedRate = raw ? Math.round(raw.rate / 2) : Number(process.env.BENCH_PACED_RATE ?? 5000);
      for (const c of order)
        phases.push(
          await measure(
            broker.url,
            pub,
            brokerPid,
            c,
            Math.round(pacedRate * pacedSeconds),
            pacedRate,
            `paced ${pacedRate}/s`,
            trace(round),
          ),
        );
      console.log(
        `\nRound ${round + 1} of ${rounds} (order: ${order.map((c) => c.key).join(', ')}; load average ${load} at its start):\n`,
      );
      printRound(phases);
      console.log('');
      targets.round(roundTargets(phases));
    }
    targets.summary();
    console.log('');
  } finally {
    pub.stop();
    // Every process this run started goes, whatever failed.
    for (const c of contenders)
      await c.stop().catch((err: unknown) => console.error(`stopping ${c.name}:`, err));
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function trace(round: number): string | undefined {
  return process.env.BENCH_TRACE ? `${process.env.BENCH_TRACE}-${round + 1}` : undefined;
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
