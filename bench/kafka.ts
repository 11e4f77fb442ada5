/**
 * Kafka end-to-end benchmark (issues 8 and 21): a device (this process) produces Ditto Protocol `modify`
 * commands to a source topic; Twinbridge (its own process) applies them durably to 1,000 twins (qos 1:
 * committed only after the twin write is durable) and publishes the events to a target topic
 * (`topic/{{ thing:id }}`), which this process consumes. Beside it, in the same run, the raw relay: a
 * kafkajs consumer in its own process republishing the same records unchanged, no parsing (at least once:
 * the batch is resolved after the produce is acked).
 *
 *   throughput: a backlog of N commands is produced first, then the pipeline starts consuming; messages/s
 *               = records between the first and the last output record / that time (the consumer-group
 *               join before the first record is not counted, for either pipeline);
 *   latency:    commands paced at R/s for S seconds, each carrying its send time; p50/p99 of send → receive;
 *   CPU:        the pipeline's process tree from /proc over the same records and time.
 *
 * Both processes live for the whole run and are warmed up with a backlog of 5,000 first; each round uses
 * fresh topics, the two pipelines in alternating order. Every round is printed, then the target
 * (Twinbridge ≥ 0.85× the raw relay) per round and over all rounds.
 *
 *   npm run bench -- kafka     (or: node --import tsx bench/kafka.ts [backlog=40000] [rate=4000] [seconds=5])
 *   BENCH_ROUNDS=3             rounds (default 1); ~20 s per round, plus ~15 s start-up and warm-up
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin, type Consumer, type Message, type Producer } from 'kafkajs';
import { startServer } from '../scripts/brokers/index.js';
import { fromEnvironment, localEndpoint } from '../test/brokers/env.js';
import { withBrokerLock } from '../test/brokers/index.js';
import { request } from '../test/helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../test/helpers/service-process.js';
import { benchRounds, inRoundOrder, markdownTable, Targets } from './support/report.js';
import { cpuWindow, ownCpuWindow } from './support/service-cpu.js';

const THINGS = 1000;
const PARTITIONS = 4;
const WARM_UP = 5000;
/** A phase that has not seen all its records by then fails the run. */
const PHASE_TIMEOUT_MS = 60_000;
const DEVOPS = 'devops:foobar';

interface Row {
  name: string;
  /** From the start of the pipeline (connection created, relay told to consume) to its first output record: not part of the throughput. */
  startMs: number;
  throughput: number;
  cpuUs: number;
  cores: number;
  /** This process's cores meanwhile (the consumer reading the output). */
  clientCores: number;
  p50: number;
  p99: number;
}

const thingId = (k: number) => `bench.kafka:t${k}`;

function command(k: number, seq: number): Message {
  const id = thingId(k);
  const value = JSON.stringify({
    topic: `bench.kafka/t${k}/things/twin/commands/modify`,
    headers: {},
    path: '/attributes/load',
    value: { seq, t: Date.now() },
  });
  return { key: id, value };
}

interface Sink {
  consumer: Consumer;
  count: () => number;
  latencies: number[];
  /** When the first batch arrived, and how many records it held. */
  firstAt: () => number;
  firstBatch: () => number;
  lastAt: () => number;
}

/** Consumes a topic and records every record's embedded send time and arrival time. */
async function sink(kafka: Kafka, topic: string, onFirst: () => void = () => undefined): Promise<Sink> {
  const consumer = kafka.consumer({ groupId: `bench-sink-${randomUUID()}`, maxWaitTimeInMs: 50 });
  let count = 0;
  let firstAt = 0;
  let firstBatch = 0;
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
      if (count === 0) {
        firstAt = now;
        firstBatch = batch.messages.length;
        onFirst();
      }
      count += batch.messages.length;
      lastAt = now;
    },
  });
  await joined;
  return {
    consumer,
    count: () => count,
    latencies,
    firstAt: () => firstAt,
    firstBatch: () => firstBatch,
    lastAt: () => lastAt,
  };
}

async function produceBacklog(producer: Producer, topic: string, n: number): Promise<void> {
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    const messages = Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
      command((i + j) % THINGS, i + j),
    );
    await producer.send({ topic, acks: -1, messages });
  }
}

/** Produces `rate` commands per second for `seconds`, in 20 ms ticks. */
async function producePaced(
  producer: Producer,
  topic: string,
  rate: number,
  seconds: number,
  offset: number,
): Promise<number> {
  const perTick = Math.max(1, Math.round(rate / 50));
  const start = Date.now();
  let sent = 0;
  const inFlight: Array<Promise<unknown>> = [];
  while (Date.now() - start < seconds * 1000) {
    const messages = Array.from({ length: perTick }, (_, j) =>
      command((offset + sent + j) % THINGS, offset + sent + j),
    );
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    sent += perTick;
    const next = start + (sent / rate) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await Promise.all(inFlight);
  return sent;
}

async function waitCount(what: string, count: () => number, n: number): Promise<void> {
  const until = Date.now() + PHASE_TIMEOUT_MS;
  while (count() < n) {
    if (Date.now() > until)
      throw new Error(`${what}: ${count()} of ${n} records arrived in ${PHASE_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Pipeline {
  name: string;
  /** The process doing the work (for its CPU time). */
  pid(): number | undefined;
  /** Starts consuming `input` (after the backlog is there) and producing to `output`. */
  start(input: string, output: string): Promise<void>;
  stop(): Promise<void>;
  /** Ends its process, if it is the pipeline's own. */
  close(): Promise<void>;
}

interface Topics {
  input: string;
  output: string;
}

/** One pipeline through fresh topics: the backlog (throughput and CPU), then `rate`/s for `seconds` (latency). */
async function measure(
  kafka: Kafka,
  producer: Producer,
  pipeline: Pipeline,
  topics: Topics,
  backlog: number,
  paced?: { rate: number; seconds: number },
): Promise<Row> {
  await produceBacklog(producer, topics.input, backlog);
  // Throughput and CPU count the records after the first output batch, from its arrival to the last one's.
  let cpu: ReturnType<typeof cpuWindow> | undefined;
  let client: ReturnType<typeof cpuWindow> | undefined;
  const out = await sink(kafka, topics.output, () => {
    cpu = cpuWindow(pipeline.pid());
    client = ownCpuWindow();
  });
  try {
    const t0 = Date.now();
    await pipeline.start(topics.input, topics.output);
    await waitCount(`${pipeline.name}, backlog`, out.count, backlog);
    const used = cpu!.stop(backlog - out.firstBatch());
    const clientCores = client!.stop(backlog - out.firstBatch()).cores;
    const throughput = Math.round((backlog - out.firstBatch()) / ((out.lastAt() - out.firstAt()) / 1000));
    out.latencies.length = 0;
    if (paced) {
      const sent = await producePaced(producer, topics.input, paced.rate, paced.seconds, backlog);
      await waitCount(`${pipeline.name}, paced`, out.count, backlog + sent);
    }
    return {
      name: pipeline.name,
      startMs: out.firstAt() - t0,
      throughput,
      cpuUs: used.usPerMessage,
      cores: used.cores,
      clientCores,
      p50: percentile(out.latencies, 50),
      p99: percentile(out.latencies, 99),
    };
  } finally {
    await out.consumer.disconnect();
    await pipeline.stop();
  }
}

/**
 * The raw relay, run as `bench/kafka.ts --relay <brokers>` in a child process for the whole run: for each
 * `{ relay: topics }` from the parent it consumes `input` from the beginning and republishes every batch
 * to `output`, answering `{ joined }` once its group is joined; `{ stop }` ends that consumer.
 */
async function relay(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-relay', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let consumer: Consumer | undefined;
  process.on('message', (m: { relay?: Topics; stop?: true }) => {
    void (async () => {
      if (m.relay) {
        const { input, output } = m.relay;
        const c = (consumer = kafka.consumer({
          groupId: `bench-relay-${randomUUID()}`,
          maxWaitTimeInMs: 50,
        }));
        const joined = new Promise<void>((resolve) => c.on(c.events.GROUP_JOIN, () => resolve()));
        await c.connect();
        await c.subscribe({ topic: input, fromBeginning: true });
        await c.run({
          eachBatch: async ({ batch }) => {
            await producer.send({
              topic: output,
              acks: -1,
              messages: batch.messages.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
            });
          },
        });
        await joined;
        process.send?.({ joined: true });
      } else if (m.stop) {
        await consumer?.disconnect();
        consumer = undefined;
        process.send?.({ stopped: true });
      }
    })().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
  process.on('disconnect', () => void producer.disconnect().finally(() => process.exit(0)));
  process.send?.({ ready: true });
}

async function startRelay(brokers: string[]): Promise<Pipeline> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--relay', brokers.join(',')], {
    execArgv: ['--import', 'tsx'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`))),
  );
  exited.catch(() => undefined);
  const reply = (key: 'ready' | 'joined' | 'stopped') =>
    Promise.race([
      new Promise<void>((resolve) => child.once('message', (m: Record<string, true>) => m[key] && resolve())),
      exited,
    ]);
  await reply('ready');
  return {
    name: 'raw relay (kafkajs consume → produce)',
    pid: () => child.pid,
    async start(input, output) {
      const joined = reply('joined');
      child.send({ relay: { input, output } });
      await joined;
    },
    async stop() {
      const stopped = reply('stopped');
      child.send({ stop: true });
      await stopped;
    },
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await gone;
    },
  };
}

function twinbridgePipeline(service: ServiceProcess, brokers: string[]): Pipeline {
  let id: string | undefined;
  return {
    name: 'Twinbridge (Kafka → durable twin → Kafka)',
    pid: () => service.child.pid,
    async start(input, output) {
      const res = await request(service.url, 'POST', '/api/2/connections', {
        auth: DEVOPS,
        body: {
          name: 'bench',
          connectionType: 'kafka',
          connectionStatus: 'open',
          uri: `tcp://${brokers[0]}`,
          specificConfig: { bootstrapServers: brokers.join(','), consumerOffsetReset: 'earliest' },
          sources: [{ addresses: [input], qos: 1, authorizationContext: ['nginx:ditto'] }],
          targets: [
            {
              address: `${output}/{{ thing:id }}`,
              topics: ['_/_/things/twin/events'],
              authorizationContext: ['nginx:ditto'],
            },
          ],
        },
      });
      if (res.status !== 201) throw new Error(`creating the connection failed: ${res.status} ${res.text}`);
      id = res.json.id as string;
    },
    async stop() {
      if (id) await request(service.url, 'DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
      id = undefined;
    },
    close: () => service.stop('SIGTERM'),
  };
}

/** Fresh topics for one pipeline of one round (a pipeline consumes its input from the beginning). */
async function freshTopics(admin: Admin, run: string, label: string): Promise<Topics> {
  const topics = { input: `bench-${run}.${label}-in`, output: `bench-${run}.${label}-out` };
  await admin.createTopics({
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })),
    waitForLeaders: true,
  });
  return topics;
}

async function main(): Promise<void> {
  const backlog = Number(process.argv[2] ?? 40_000);
  const rate = Number(process.argv[3] ?? 4_000);
  const seconds = Number(process.argv[4] ?? 5);
  const rounds = benchRounds();
  const endpoint = fromEnvironment('kafka') ?? localEndpoint('kafka');
  if (endpoint.source === 'local') await startServer('kafka');
  const brokers = endpoint.brokers;
  const run = randomUUID().slice(0, 8);
  const kafka = new Kafka({ clientId: 'bench-device', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-kafka-'));
  const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  const pipelines: Pipeline[] = [twinbridgePipeline(service, brokers)];
  const created: string[] = [];
  const topicsFor = async (label: string) => {
    const t = await freshTopics(admin, run, label);
    created.push(t.input, t.output);
    return t;
  };
  const targets = new Targets();
  try {
    pipelines.push(await startRelay(brokers));
    for (let k = 0; k < THINGS; k += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, THINGS - k) }, (_, j) =>
          request(service.url, 'PUT', `/api/2/things/${thingId(k + j)}`, {
            body: { attributes: { load: null } },
          }),
        ),
      );
    }
    for (const [i, p] of pipelines.entries())
      await measure(kafka, producer, p, await topicsFor(`warm-${i}`), WARM_UP);
    console.log(
      `\nKafka end to end: backlog ${backlog} commands over ${THINGS} things, then ${rate}/s for ${seconds} s (latency); ${PARTITIONS} partitions; after a warm-up of ${WARM_UP} per pipeline`,
    );
    for (let round = 0; round < rounds; round++) {
      const load = loadavg()[0].toFixed(1);
      const order = inRoundOrder(pipelines, round);
      const rows: Row[] = [];
      for (const [i, p] of order.entries())
        rows.push(
          await measure(kafka, producer, p, await topicsFor(`r${round}-${i}`), backlog, { rate, seconds }),
        );
      console.log(`\nRound ${round + 1} of ${rounds} (load average ${load} at its start):\n`);
      console.log(
        markdownTable(
          [
            'pipeline',
            'first record after ms',
            'messages/s',
            'CPU µs/msg',
            'CPU cores',
            'client cores',
            `p50 ms at ${rate}/s`,
            `p99 ms at ${rate}/s`,
          ],
          rows.map((r) => [
            r.name,
            r.startMs,
            r.throughput,
            Math.round(r.cpuUs),
            r.cores.toFixed(2),
            r.clientCores.toFixed(2),
            r.p50,
            r.p99,
          ]),
        ),
      );
      console.log('');
      const tb = rows.find((r) => r.name.startsWith('Twinbridge'))!;
      const raw = rows.find((r) => r.name.startsWith('raw'))!;
      targets.round([
        {
          label: 'Twinbridge / raw relay, messages/s',
          value: tb.throughput / raw.throughput,
          op: '≥',
          bound: 0.85,
          unit: '×',
        },
      ]);
      console.log(`  (CPU/msg Twinbridge ÷ raw relay: ${(tb.cpuUs / raw.cpuUs).toFixed(2)}×)`);
    }
    targets.summary();
  } finally {
    for (const p of pipelines)
      await p.close().catch((err: unknown) => console.error(`stopping ${p.name}:`, err));
    await producer.disconnect();
    await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--relay') {
  await relay(process.argv[3].split(','));
} else {
  // Hold the broker's shared usage lock so that no test restarts it underneath the run.
  await withBrokerLock(fromEnvironment('kafka') ?? localEndpoint('kafka'), main, 'shared');
  process.exit(0);
}
