/**
 * Scale-out benchmark (issue 10, docs/scale-out.md): the durable write path — HTTP PUT of a feature property,
 * answered once the write is durable — on the embedded store, on PostgreSQL with one instance and on
 * PostgreSQL with two instances sharing the load (autocannon from this process, half the connections per
 * instance), in the same run; plus the delay until a change made on one instance reaches a WebSocket on
 * the other (NOTIFY → journal read → local bus).
 *
 *   npm run bench -- cluster        (or: node --import tsx bench/cluster.ts [seconds-per-row])
 *
 * PostgreSQL: TWINBRIDGE_TEST_POSTGRES_URL, else the project's local PostgreSQL (started if needed). Each
 * row uses a fresh schema, dropped afterwards. Bounded: ~3 × (seconds + start-up) + ~10 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import WebSocket from 'ws';
import { startServer } from '../scripts/brokers/index.js';
import { fromEnvironment, localEndpoint, localServers } from '../test/brokers/env.js';
import { startServiceProcess, type ServiceProcess } from '../test/helpers/service-process.js';

const seconds = Number(process.argv[2] ?? 8);
const CONNECTIONS = 64;
const THINGS = 1000;
const auth = `Basic ${Buffer.from('ditto:ditto').toString('base64')}`;

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function postgresUrl(): Promise<string> {
  const given = fromEnvironment('postgres');
  if (given) return given.url;
  await startServer(localServers.postgres);
  return localEndpoint('postgres').url;
}

async function createThings(url: string): Promise<void> {
  const body = JSON.stringify({ features: { env: { properties: { temperature: 20 } } } });
  for (let i = 0; i < THINGS; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, THINGS - i) }, async (_, k) => {
        const res = await fetch(`${url}/api/2/things/bench.cluster:t${i + k}`, {
          method: 'PUT',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body,
        });
        if (res.status !== 201 && res.status !== 204)
          throw new Error(`creating a thing failed: ${res.status}`);
      }),
    );
  }
}

/** Loads every instance at once (connections split evenly) and sums their throughput. */
async function load(name: string, urls: string[]): Promise<Row> {
  const results = await Promise.all(
    urls.map((url) => {
      let n = 0;
      return autocannon({
        url,
        connections: CONNECTIONS / urls.length,
        duration: seconds,
        headers: { authorization: auth, 'content-type': 'application/json' },
        requests: [
          {
            method: 'PUT',
            setupRequest: (req) => ({
              ...req,
              path: `/api/2/things/bench.cluster:t${n++ % THINGS}/features/env/properties/temperature`,
              body: String(20 + (n % 100) / 10),
            }),
          },
        ],
      });
    }),
  );
  return {
    name,
    rps: Math.round(results.reduce((s, r) => s + r.requests.average, 0)),
    // Latency percentiles of the busier instance (autocannon does not merge histograms).
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((s, r) => s + r.errors + r.timeouts + r.non2xx, 0),
  };
}

/** Sequential PUTs on instance A; the time until each event arrives on a WebSocket of instance B. */
async function remoteEventDelay(a: string, b: string, count = 200): Promise<{ p50: number; p99: number }> {
  const socket = new WebSocket(b.replace(/^http/, 'ws') + '/ws/2', { headers: { authorization: auth } });
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
  const waiting = new Map<number, (at: number) => void>();
  const acked = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const text = data.toString();
      if (text === 'START-SEND-EVENTS:ACK') return resolve();
      const event = JSON.parse(text) as { value?: unknown };
      waiting.get(Number(event.value))?.(performance.now());
    });
  });
  socket.send('START-SEND-EVENTS');
  await acked;
  const delays: number[] = [];
  for (let i = 0; i < count; i++) {
    const value = 100_000 + i;
    const arrived = new Promise<number>((resolve) => waiting.set(value, resolve));
    const res = await fetch(`${a}/api/2/things/bench.cluster:t0/features/env/properties/temperature`, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: String(value),
    });
    const answered = performance.now();
    if (res.status !== 204) throw new Error(`PUT failed: ${res.status}`);
    delays.push((await arrived) - answered);
  }
  socket.close();
  delays.sort((x, y) => x - y);
  return { p50: delays[Math.floor(delays.length / 2)], p99: delays[Math.floor(delays.length * 0.99)] };
}

async function withInstances<T>(
  env: Record<string, string>[],
  fn: (urls: string[]) => Promise<T>,
): Promise<T> {
  const started: ServiceProcess[] = [];
  try {
    for (const e of env)
      started.push(await startServiceProcess({ ...e, TWINBRIDGE_LOG_LEVEL: 'warn' }, 60_000));
    return await fn(started.map((s) => s.url));
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  let delay: { p50: number; p99: number } | undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-cluster-'));
  try {
    await withInstances([{ TWINBRIDGE_DATA_DIR: dataDir }], async ([url]) => {
      await createThings(url);
      rows.push(await load('embedded, 1 instance', [url]));
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  const pgUrl = await postgresUrl();
  const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
  for (const count of [1, 2]) {
    const schema = `tb_bench_${randomBytes(4).toString('hex')}`;
    const secretsKey = randomBytes(32).toString('base64');
    const env = Array.from({ length: count }, (_, i) => ({
      TWINBRIDGE_STORE: 'postgres',
      TWINBRIDGE_POSTGRES_URL: pgUrl,
      TWINBRIDGE_POSTGRES_SCHEMA: schema,
      TWINBRIDGE_SECRETS_KEY: secretsKey,
      TWINBRIDGE_INSTANCE_ID: `bench-${i + 1}`,
    }));
    try {
      await withInstances(env, async (urls) => {
        await createThings(urls[0]);
        rows.push(await load(`postgres, ${count} instance${count > 1 ? 's' : ''}`, urls));
        if (count === 2) delay = await remoteEventDelay(urls[0], urls[1]);
      });
    } finally {
      await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    }
  }
  await admin.end();

  console.log(
    `\nDurable PUT feature property, ${CONNECTIONS} connections, ${seconds} s per row, ${THINGS} things (one 2-core machine: load generator, instances and PostgreSQL share it)\n`,
  );
  console.log('| store, instances | requests/s | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`);
  if (delay)
    console.log(
      `\nChange on instance 1 → event on a WebSocket of instance 2, after the PUT's answer: p50 ${delay.p50.toFixed(1)} ms, p99 ${delay.p99.toFixed(1)} ms (200 sequential changes)`,
    );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
