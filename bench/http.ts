/**
 * HTTP benchmark (issues 2 and 21): loads the things API of a Twinbridge process from this (second)
 * process with autocannon, beside bare fastify routes in a third process (bench/support/bare-server.ts),
 * in the same run: GET thing against a bare GET returning the same JSON, and a durable PUT of a feature
 * property against a bare PUT that parses the body and keeps nothing. Each pair sends the very same
 * requests, so the client does the same work for both and the ratio compares the servers. Requests/s,
 * p50/p99 latency, the server's CPU per request (its process tree, from /proc) and the client's cores.
 *
 * BENCH_ROUNDS rounds (default 1); in each, the bare route and Twinbridge alternate which goes first.
 * Every round is printed, then the targets per round and over all rounds: GET ≥ 0.8× the bare GET,
 * durable PUT ≥ 0.6× the bare PUT with p99 < 20 ms.
 *
 *   npm run bench -- http        (or: node --import tsx bench/http.ts [seconds-per-row=6])
 *   BENCH_ROUNDS=3               ~25 s per round, plus ~10 s start-up
 *   BENCH_ONLY=get|put           one pair of rows (profiling: SERVICE_CPU_PROF_DIR=<dir>)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startServiceProcess } from '../test/helpers/service-process.js';
import { benchRounds, inRoundOrder, markdownTable, Targets, type Target } from './support/report.js';
import { cpuWindow, ownCpuWindow } from './support/service-cpu.js';

const seconds = Number(process.argv[2] ?? 6);
const connections = 64;
const THINGS = 1000;
const auth = `Basic ${Buffer.from('ditto:ditto').toString('base64')}`;
const thingBody = {
  attributes: { manufacturer: 'ACME', serial: 'SN-0001', location: { lat: 52.52, lon: 13.405 } },
  features: {
    env: { properties: { temperature: 21.5, humidity: 40, pressure: 1013 } },
    lamp: { properties: { on: false, brightness: 80 } },
  },
};

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUs: number;
  cores: number;
  /** autocannon's (this process's) cores: near a whole core, the client limits the rate. */
  clientCores: number;
}

interface Server {
  name: string;
  url: string;
  pid: number | undefined;
}

async function load(name: string, server: Server, requests: autocannon.Request[]): Promise<Row> {
  const cpu = cpuWindow(server.pid);
  const client = ownCpuWindow();
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests,
    headers: { authorization: auth },
  });
  const used = cpu.stop(result.requests.total);
  const clientCores = client.stop(result.requests.total).cores;
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    cpuUs: used.usPerMessage,
    cores: used.cores,
    clientCores,
  };
}

async function startBare(thing: unknown): Promise<{ url: string; child: ChildProcess }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'bare-server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(thing)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).address));
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { url, child };
}

async function main(): Promise<void> {
  const rounds = benchRounds();
  const only = process.env.BENCH_ONLY || undefined;
  if (only !== undefined && only !== 'get' && only !== 'put')
    throw new Error(`BENCH_ONLY must be get or put, not ${only}`);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-http-'));
  const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    for (let i = 0; i < THINGS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          fetch(`${service.url}/api/2/things/bench:t${i + k}`, {
            method: 'PUT',
            headers: { authorization: auth, 'content-type': 'application/json' },
            body: JSON.stringify(thingBody),
          }).then((r) => {
            if (r.status !== 201) throw new Error(`create failed: ${r.status}`);
          }),
        ),
      );
    }
    const thing = await (
      await fetch(`${service.url}/api/2/things/bench:t0`, { headers: { authorization: auth } })
    ).json();
    bare = await startBare(thing);
    const servers: Server[] = [
      { name: 'bare fastify', url: bare.url, pid: bare.child.pid },
      { name: 'Twinbridge', url: service.url, pid: service.child.pid },
    ];
    // The same prebuilt GET requests for both servers, one per thing in turn. (A setupRequest per request
    // would make autocannon rebuild every request, which on 2 cores takes CPU from the server it measures.)
    const gets = Array.from({ length: THINGS }, (_, i) => ({
      method: 'GET' as const,
      path: `/api/2/things/bench:t${i}`,
    }));
    let p = 0;
    const puts: autocannon.Request[] = [
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          path: `/api/2/things/bench:t${p % THINGS}/features/env/properties/temperature`,
          body: String(20 + (p++ % 100) / 10),
        }),
      },
    ];
    const targets = new Targets();
    console.log(
      `\nHTTP API, ${connections} connections, ${seconds} s per row, ${THINGS} things, autocannon in this process, each server in a process of its own`,
    );
    for (let round = 0; round < rounds; round++) {
      const load0 = loadavg()[0].toFixed(1);
      const order = inRoundOrder(servers, round);
      const rows: Row[] = [];
      if (only !== 'put')
        for (const s of order)
          rows.push(await load(s === servers[0] ? 'bare fastify GET (same JSON)' : 'GET thing', s, gets));
      if (only !== 'get')
        for (const s of order)
          rows.push(
            await load(
              s === servers[0] ? 'bare fastify PUT (parse, keep nothing)' : 'PUT feature property (durable)',
              s,
              puts,
            ),
          );
      console.log(
        `\nRound ${round + 1} of ${rounds} (order: ${order.map((s) => s.name).join(', ')}; load average ${load0} at its start):\n`,
      );
      console.log(
        markdownTable(
          [
            'row',
            'requests/s',
            'p50 ms',
            'p99 ms',
            'errors',
            'server CPU µs/req',
            'server cores',
            'client cores',
          ],
          rows.map((r) => [
            r.name,
            r.rps,
            r.p50,
            r.p99,
            r.errors,
            Math.round(r.cpuUs),
            r.cores.toFixed(2),
            r.clientCores.toFixed(2),
          ]),
        ),
      );
      console.log('');
      // A row with errors (a refused request or a non-2xx answer) measured something else: its targets are n/a.
      const row = (name: string) => rows.find((r) => r.name.startsWith(name));
      const clean = (...r: Row[]) => (r.some((x) => x.errors > 0) ? NaN : 1);
      const [bareGet, get, barePut, put] = [
        row('bare fastify GET'),
        row('GET thing'),
        row('bare fastify PUT'),
        row('PUT feature'),
      ];
      const list: Target[] = [];
      if (get && bareGet)
        list.push({
          label: 'GET thing / bare GET, requests/s',
          value: (get.rps / bareGet.rps) * clean(get, bareGet),
          op: '≥',
          bound: 0.8,
          unit: '×',
        });
      if (put && barePut) {
        list.push({
          label: 'durable PUT / bare PUT, requests/s',
          value: (put.rps / barePut.rps) * clean(put, barePut),
          op: '≥',
          bound: 0.6,
          unit: '×',
        });
        list.push({ label: 'durable PUT p99', value: put.p99 * clean(put), op: '<', bound: 20, unit: ' ms' });
      }
      targets.round(list);
    }
    targets.summary();
  } finally {
    bare?.child.kill('SIGTERM');
    await service.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
