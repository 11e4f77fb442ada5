/**
 * AMQP 0.9.1 end-to-end benchmark (issue 8): device commands published to a RabbitMQ queue, consumed by a
 * Twinbridge process (`amqp-091` source → durable twin write → twin event → `amqp-091` target with
 * publisher confirms) and read back from the target queue by this (second) process; beside it, in the same
 * run, a raw pass-through: a third process with an amqplib consumer that republishes the same messages
 * (confirmed, then acked; no processing). Both are driven closed-loop with the same window of messages in
 * flight; the table shows messages/s, p50/p99 end-to-end latency and each process tree's CPU per message
 * (/proc). BENCH_ROUNDS rounds (default 1), the two paths in alternating order, every round printed, then
 * the target (Twinbridge ≥ 0.9× the raw pass-through) per round and over all rounds.
 *
 *   npm run bench -- amqp091        (or: node --import tsx bench/amqp091.ts [seconds-per-row=6])
 *   BENCH_ROUNDS=3                  ~16 s per round, plus ~15 s start-up
 *
 * The broker: TWINBRIDGE_TEST_AMQP091_URL, else the project's local RabbitMQ (started if needed).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqplib, { type Channel } from 'amqplib';
import { startServer } from '../scripts/brokers/index.js';
import { fromEnvironment, localEndpoint, localServers } from '../test/brokers/env.js';
import { withBrokerLock } from '../test/brokers/index.js';
import { startServiceProcess } from '../test/helpers/service-process.js';
import { benchRounds, inRoundOrder, markdownTable, Targets } from './support/report.js';
import { cpuWindow, ownCpuWindow } from './support/service-cpu.js';

const self = fileURLToPath(import.meta.url);

/** Relay mode (the raw pass-through process): consume `from`, republish to `to`, ack after the confirm. */
async function relay(url: string, from: string, to: string): Promise<void> {
  const model = await amqplib.connect(url);
  const input = await model.createChannel();
  const output = await model.createConfirmChannel();
  await input.prefetch(1000);
  await input.consume(from, (msg) => {
    if (!msg) return;
    output.publish('', to, msg.content, { ...msg.properties, persistent: true }, (err: unknown) =>
      err ? input.nack(msg, false, true) : input.ack(msg),
    );
  });
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void model.close().finally(() => process.exit(0)));
}

interface Row {
  name: string;
  messages: number;
  rate: number;
  p50: number;
  p99: number;
  /** The path's process tree (the relay, Twinbridge) in the measured window: CPU per message, µs, and cores. */
  cpuUs: number;
  cores: number;
  /** This process's cores meanwhile (it publishes and consumes): near a whole core, it limits the rate. */
  clientCores: number;
}

const WINDOW = 2000;
const THINGS = 1000;
const WARMUP_MS = 1500;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Sequence numbers over the whole run: a late message of an earlier row matches nothing sent in a later one. */
let seq = 0;

/**
 * Closed loop: keeps WINDOW messages in flight, `send(seq)` publishes message `seq`, `onReceive` is wired
 * by the caller to `received(seq)`. Measures after a warm-up for `seconds`; `pid` is the process doing the work.
 */
async function drive(
  name: string,
  seconds: number,
  send: (seq: number) => void,
  hook: (received: (seq: number) => void) => void,
  pid: number | undefined,
): Promise<Row> {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let counted = 0;
  let measuring = false;
  let sending = true;
  const next = () => {
    if (!sending) return;
    seq++;
    sentAt.set(seq, performance.now());
    send(seq);
  };
  hook((s) => {
    const t0 = sentAt.get(s);
    if (t0 === undefined) return;
    sentAt.delete(s);
    if (measuring) {
      counted++;
      latencies.push(performance.now() - t0);
    }
    next();
  });
  for (let i = 0; i < WINDOW; i++) next();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const cpu = cpuWindow(pid);
  const client = ownCpuWindow();
  measuring = true;
  const measureStart = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - measureStart) / 1000;
  const used = cpu.stop(counted);
  const clientCores = client.stop(counted).cores;
  sending = false;
  // Let what is in flight arrive before the next row starts.
  const until = Date.now() + 15_000;
  while (sentAt.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  latencies.sort((a, b) => a - b);
  return {
    name,
    messages: counted,
    rate: Math.round(counted / elapsed),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: used.usPerMessage,
    cores: used.cores,
    clientCores,
  };
}

async function consume(
  channel: Channel,
  queue: string,
  onMessage: (content: Buffer) => void,
): Promise<string> {
  await channel.prefetch(2000);
  const { consumerTag } = await channel.consume(queue, (msg) => {
    if (!msg) return;
    onMessage(msg.content);
    channel.ack(msg);
  });
  return consumerTag;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 6);
  const rounds = benchRounds();
  const endpoint = fromEnvironment('amqp091') ?? localEndpoint('amqp091');
  if (endpoint.source === 'local') await startServer(localServers.amqp091);
  const url = endpoint.url;
  const id = randomUUID().slice(0, 8);
  const q = {
    in: `bench.${id}.twin.in`,
    out: `bench.${id}.twin.out`,
    rawIn: `bench.${id}.raw.in`,
    rawOut: `bench.${id}.raw.out`,
  };
  const model = await amqplib.connect(url);
  const admin = await model.createChannel();
  for (const name of Object.values(q)) await admin.assertQueue(name, { durable: true });
  const pub = await model.createChannel();
  const sub = await model.createChannel();

  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-amqp091-'));
  const service = await startServiceProcess({
    TWINBRIDGE_DATA_DIR: dataDir,
    TWINBRIDGE_LOG_LEVEL: 'warn',
    TWINBRIDGE_CONNECTION_MAX_IN_FLIGHT: '2000',
  });
  const relayProcess = spawn(process.execPath, ['--import', 'tsx', self, '--relay', url, q.rawIn, q.rawOut], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => relayProcess.stdout!.once('data', () => resolve()));
  const auth = (user: string) => `Basic ${Buffer.from(user).toString('base64')}`;
  try {
    for (let i = 0; i < THINGS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          fetch(`${service.url}/api/2/things/bench:t${i + k}`, {
            method: 'PUT',
            headers: { authorization: auth('ditto:ditto'), 'content-type': 'application/json' },
            body: '{"attributes":{"seq":0}}',
          }).then((r) => {
            if (r.status !== 201) throw new Error(`create failed: ${r.status}`);
          }),
        ),
      );
    }
    const created = await fetch(`${service.url}/api/2/connections`, {
      method: 'POST',
      headers: { authorization: auth('devops:foobar'), 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bench',
        connectionType: 'amqp-091',
        connectionStatus: 'open',
        uri: url,
        specificConfig: { prefetchCount: '2000' },
        sources: [{ addresses: [q.in], authorizationContext: ['nginx:ditto'] }],
        targets: [
          { address: `/${q.out}`, topics: ['_/_/things/twin/events'], authorizationContext: ['nginx:ditto'] },
        ],
      }),
    });
    if (created.status !== 201)
      throw new Error(`connection not created: ${created.status} ${await created.text()}`);
    const connectionId = ((await created.json()) as { id: string }).id;
    for (let i = 0; ; i++) {
      const s = (await (
        await fetch(`${service.url}/api/2/connections/${connectionId}/status`, {
          headers: { authorization: auth('devops:foobar') },
        })
      ).json()) as { liveStatus: string };
      if (s.liveStatus === 'open') break;
      if (i > 100) throw new Error(`connection not open: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // The same Ditto Protocol command for both paths; `value` carries the sequence number.
    const command = (seq: number) =>
      Buffer.from(
        JSON.stringify({
          topic: `bench/t${seq % THINGS}/things/twin/commands/modify`,
          headers: { 'correlation-id': `c${seq}` },
          path: '/attributes/seq',
          value: seq,
        }),
      );
    const seqOf = (content: Buffer) => (JSON.parse(content.toString()) as { value: number }).value;

    const paths = [
      {
        name: 'raw pass-through (amqplib consume → republish, confirmed)',
        input: q.rawIn,
        output: q.rawOut,
        pid: relayProcess.pid,
      },
      {
        name: 'Twinbridge: amqp-091 → twin (durable) → amqp-091',
        input: q.in,
        output: q.out,
        pid: service.child.pid,
      },
    ];
    const targets = new Targets();
    console.log(
      `\nAMQP 0.9.1 end to end, RabbitMQ ${url.replace(/\/\/[^@]*@/, '//')}, ${WINDOW} messages in flight, ${seconds} s per row after ${WARMUP_MS} ms warm-up, ${THINGS} things, this process publishes and consumes`,
    );
    for (let round = 0; round < rounds; round++) {
      const load = loadavg()[0].toFixed(1);
      const rows: Row[] = [];
      for (const p of inRoundOrder(paths, round)) {
        let onReceive: (seq: number) => void = () => undefined;
        const tag = await consume(sub, p.output, (c) => onReceive(seqOf(c)));
        rows.push(
          await drive(
            p.name,
            seconds,
            (s) =>
              pub.sendToQueue(p.input, command(s), { persistent: true, contentType: 'application/json' }),
            (f) => (onReceive = f),
            p.pid,
          ),
        );
        await sub.cancel(tag);
      }
      console.log(`\nRound ${round + 1} of ${rounds} (load average ${load} at its start):\n`);
      console.log(
        markdownTable(
          ['path', 'messages', 'messages/s', 'p50 ms', 'p99 ms', 'CPU µs/msg', 'CPU cores', 'client cores'],
          rows.map((r) => [
            r.name,
            r.messages,
            r.rate,
            r.p50.toFixed(1),
            r.p99.toFixed(1),
            Math.round(r.cpuUs),
            r.cores.toFixed(2),
            r.clientCores.toFixed(2),
          ]),
        ),
      );
      console.log('');
      const tb = rows.find((r) => r.name.startsWith('Twinbridge'))!;
      const raw = rows.find((r) => r.name.startsWith('raw'))!;
      targets.round([
        {
          label: 'Twinbridge / raw pass-through, messages/s',
          value: tb.rate / raw.rate,
          op: '≥',
          bound: 0.9,
          unit: '×',
        },
      ]);
      console.log(`  (CPU/msg Twinbridge ÷ raw pass-through: ${(tb.cpuUs / raw.cpuUs).toFixed(2)}×)`);
    }
    targets.summary();
  } finally {
    relayProcess.kill('SIGTERM');
    await service.stop('SIGTERM');
    for (const name of Object.values(q)) await admin.deleteQueue(name).catch(() => undefined);
    await model.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--relay') {
  await relay(process.argv[3], process.argv[4], process.argv[5]);
} else {
  // Hold the broker's shared usage lock so that no test restarts it underneath the run.
  await withBrokerLock(fromEnvironment('amqp091') ?? localEndpoint('amqp091'), main, 'shared');
}
