/**
 * Kafka end-to-end benchmark (issue 8): a device (this process) produces Ditto Protocol `modify` commands
 * to a source topic; Twinbridge (its own process) applies them durably to 1,000 twins (qos 1: committed
 * only after the twin write is durable) and publishes the events to a target topic (`topic/{{ thing:id }}`),
 * which this process consumes. Beside it, in the same run, a raw pass-through: a kafkajs consumer in its own
 * process republishing the same records unchanged (at least once: commit after the produce is acked).
 *
 *   throughput: a backlog of N commands is produced first, then consumption starts; messages/s = N / time
 *               until the last output record arrived;
 *   latency:    commands paced at R/s for S seconds, each carrying its send time; p50/p99 of send → receive.
 *
 *   npm run bench -- kafka       (or: node --import tsx bench/kafka.ts [backlog=60000] [rate=4000] [seconds=8])
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Consumer, type Message, type Producer } from 'kafkajs';
import { startServer, withLock } from '../scripts/brokers/index.js';
import { fromEnvironment, localEndpoint } from '../test/brokers/env.js';
import { request } from '../test/helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../test/helpers/service-process.js';

const THINGS = 1000;
const PARTITIONS = 4;
const PHASE_TIMEOUT_MS = 40_000;
const DEVOPS = 'devops:foobar';

interface Row {
  name: string;
  throughput: number;
  /** CPU time of the pipeline's process per wall-clock time during the backlog phase (1.0 = one core). */
  cpu: number;
  p50: number;
  p99: number;
  note: string;
}

const thingId = (k: number) => `bench.kafka:t${k}`;

function command(k: number, seq: number): Message {
  const id = thingId(k);
  const value = JSON.stringify({ topic: `bench.kafka/t${k}/things/twin/commands/modify`, headers: {}, path: '/attributes/load', value: { seq, t: Date.now() } });
  return { key: id, value };
}

/** Consumes a topic and reports every record's embedded send time and arrival time. */
async function sink(kafka: Kafka, topic: string): Promise<{ consumer: Consumer; count: () => number; latencies: number[]; lastAt: () => number }> {
  const consumer = kafka.consumer({ groupId: `bench-sink-${randomUUID()}`, maxWaitTimeInMs: 50 });
  let count = 0;
  let lastAt = 0;
  const latencies: number[] = [];
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        // Output of Twinbridge: an event whose value is the command's value; of the relay: the command.
        const json = JSON.parse(m.value!.toString()) as { value: { t: number } };
        latencies.push(now - json.value.t);
      }
      count += batch.messages.length;
      lastAt = now;
    },
  });
  await joined;
  return { consumer, count: () => count, latencies, lastAt: () => lastAt };
}

async function produceBacklog(producer: Producer, topic: string, n: number): Promise<void> {
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    const messages = Array.from({ length: Math.min(batch, n - i) }, (_, j) => command((i + j) % THINGS, i + j));
    await producer.send({ topic, acks: -1, messages });
  }
}

/** Produces `rate` commands per second for `seconds`, in 20 ms ticks. */
async function producePaced(producer: Producer, topic: string, rate: number, seconds: number, offset: number): Promise<number> {
  const perTick = Math.max(1, Math.round(rate / 50));
  const start = Date.now();
  let sent = 0;
  const inFlight: Array<Promise<unknown>> = [];
  while (Date.now() - start < seconds * 1000) {
    const messages = Array.from({ length: perTick }, (_, j) => command((offset + sent + j) % THINGS, offset + sent + j));
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    sent += perTick;
    const next = start + (sent / rate) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await Promise.all(inFlight);
  return sent;
}

async function waitCount(count: () => number, n: number): Promise<boolean> {
  const until = Date.now() + PHASE_TIMEOUT_MS;
  while (count() < n) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** User + system CPU seconds of a process so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

interface Pipeline {
  name: string;
  /** The process doing the work (for its CPU time). */
  pid(): number | undefined;
  /** Starts consuming the input topic (after the backlog is there). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function measure(kafka: Kafka, producer: Producer, pipeline: Pipeline, input: string, output: string, backlog: number, rate: number, seconds: number): Promise<Row> {
  await produceBacklog(producer, input, backlog);
  const out = await sink(kafka, output);
  const started = Date.now();
  await pipeline.start();
  const cpuBefore = cpuSeconds(pipeline.pid());
  const complete = await waitCount(out.count, backlog);
  const throughput = Math.round(out.count() / ((out.lastAt() - started) / 1000));
  const cpu = (cpuSeconds(pipeline.pid()) - cpuBefore) / ((Date.now() - started) / 1000);
  out.latencies.length = 0;
  const sent = await producePaced(producer, input, rate, seconds, backlog);
  const paced = await waitCount(out.count, backlog + sent);
  const row: Row = {
    name: pipeline.name,
    throughput,
    cpu,
    p50: percentile(out.latencies, 50),
    p99: percentile(out.latencies, 99),
    note: `${complete ? '' : `backlog incomplete (${out.count()}/${backlog}) `}${paced ? '' : 'paced phase incomplete'}`.trim(),
  };
  await out.consumer.disconnect();
  await pipeline.stop();
  return row;
}

/** The raw pass-through, run as `bench/kafka.ts --relay <brokers> <in> <out>` in a child process. */
async function relay(brokers: string[], input: string, output: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-relay', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `bench-relay-${randomUUID()}`, maxWaitTimeInMs: 50 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: input, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      await producer.send({ topic: output, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
    },
  });
  await joined;
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void Promise.all([consumer.disconnect(), producer.disconnect()]).finally(() => process.exit(0)));
}

function startRelay(brokers: string[], input: string, output: string): Pipeline {
  let child: ChildProcess | undefined;
  return {
    name: 'raw pass-through (kafkajs relay)',
    pid: () => child?.pid,
    async start() {
      child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--relay', brokers.join(','), input, output], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.once('data', () => resolve());
        child!.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
      });
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
  };
}

function twinbridgePipeline(service: ServiceProcess, brokers: string[], input: string, output: string): Pipeline {
  let id: string | undefined;
  return {
    name: 'Twinbridge (Kafka → durable twin → Kafka)',
    pid: () => service.child.pid,
    async start() {
      const res = await request(service.url, 'POST', '/api/2/connections', {
        auth: DEVOPS,
        body: {
          name: 'bench',
          connectionType: 'kafka',
          connectionStatus: 'open',
          uri: `tcp://${brokers[0]}`,
          specificConfig: { bootstrapServers: brokers.join(','), consumerOffsetReset: 'earliest' },
          sources: [{ addresses: [input], qos: 1, authorizationContext: ['nginx:ditto'] }],
          targets: [{ address: `${output}/{{ thing:id }}`, topics: ['_/_/things/twin/events'], authorizationContext: ['nginx:ditto'] }],
        },
      });
      if (res.status !== 201) throw new Error(`creating the connection failed: ${res.status} ${res.text}`);
      id = res.json.id as string;
    },
    async stop() {
      if (id) await request(service.url, 'DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
    },
  };
}

async function main(): Promise<void> {
  const backlog = Number(process.argv[2] ?? 60_000);
  const rate = Number(process.argv[3] ?? 4_000);
  const seconds = Number(process.argv[4] ?? 8);
  const endpoint = fromEnvironment('kafka') ?? localEndpoint('kafka');
  if (endpoint.source === 'local') await startServer('kafka');
  const brokers = endpoint.brokers;
  const run = randomUUID().slice(0, 8);
  const topics = { tbIn: `bench-${run}.tb-in`, tbOut: `bench-${run}.tb-out`, rawIn: `bench-${run}.raw-in`, rawOut: `bench-${run}.raw-out` };
  const kafka = new Kafka({ clientId: 'bench-device', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-kafka-'));
  const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  const rows: Row[] = [];
  try {
    for (let k = 0; k < THINGS; k += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, THINGS - k) }, (_, j) => request(service.url, 'PUT', `/api/2/things/${thingId(k + j)}`, { body: { attributes: { load: null } } })),
      );
    }
    rows.push(await measure(kafka, producer, twinbridgePipeline(service, brokers, topics.tbIn, topics.tbOut), topics.tbIn, topics.tbOut, backlog, rate, seconds));
    rows.push(await measure(kafka, producer, startRelay(brokers, topics.rawIn, topics.rawOut), topics.rawIn, topics.rawOut, backlog, rate, seconds));
  } finally {
    await service.stop('SIGTERM');
    await producer.disconnect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log(`Kafka end to end: backlog ${backlog} commands over ${THINGS} things, then ${rate}/s for ${seconds} s (latency); ${PARTITIONS} partitions`);
  console.log('| pipeline | messages/s | CPU (cores) | p50 ms | p99 ms | note |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.throughput} | ${r.cpu.toFixed(2)} | ${r.p50} | ${r.p99} | ${r.note} |`);
  const [tb, raw] = rows;
  console.log(`ratio Twinbridge / raw: ${(tb.throughput / raw.throughput).toFixed(2)} (throughput), ${(tb.p50 / raw.p50).toFixed(1)}x (p50 latency)`);
}

if (process.argv[2] === '--relay') {
  await relay(process.argv[3].split(','), process.argv[4], process.argv[5]);
} else {
  // Hold the broker's shared usage lock so that no test restarts it underneath the run.
  const endpoint = fromEnvironment('kafka') ?? localEndpoint('kafka');
  const lockName = endpoint.source === 'local' ? 'use-kafka' : `${endpoint.source}-${endpoint.url.replace(/[^a-zA-Z0-9]+/g, '_')}`;
  await withLock(lockName, main, { mode: 'shared' });
  process.exit(0);
}
