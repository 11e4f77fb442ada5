/**
 * HTTP benchmark (issue 2): loads the things API of a Twinbridge process from this (second) process with
 * autocannon and reports requests/s and p50/p99 latency for GET thing and durable PUT feature property,
 * beside a bare fastify route returning the same JSON, in the same run.
 *
 *   npm run bench -- http        (or: node --import tsx bench/http.ts [seconds])
 *
 * BENCH_ONLY=bare|get|put limits the run to one row (profiling: SERVICE_CPU_PROF_DIR=<dir>).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startServiceProcess } from '../test/helpers/service-process.js';

const seconds = Number(process.argv[2] ?? 8);
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
}

async function load(name: string, url: string, requests: autocannon.Request[]): Promise<Row> {
  const result = await autocannon({ url, connections, duration: seconds, requests, headers: { authorization: auth } });
  const errors = result.errors + result.timeouts + result.non2xx;
  return { name, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, errors };
}

async function startBare(thing: unknown): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'support', 'bare-server.ts'), JSON.stringify(thing)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).address)));
  return { url, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-http-'));
  const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  try {
    for (let i = 0; i < THINGS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          fetch(`${service.url}/api/2/things/bench:t${i + k}`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(thingBody) }).then((r) => {
            if (r.status !== 201) throw new Error(`create failed: ${r.status}`);
          }),
        ),
      );
    }
    const thing = await (await fetch(`${service.url}/api/2/things/bench:t0`, { headers: { authorization: auth } })).json();
    const bare = await startBare(thing);
    let p = 0;
    const rows: Row[] = [];
    const only = process.env.BENCH_ONLY || undefined;
    const wanted = (row: string): boolean => only === undefined || only === row;
    try {
      // Both GET rows send the same prebuilt requests, one per thing in turn: autocannon does the same (least)
      // work for both, so the ratio compares the servers. (A setupRequest per request would make autocannon
      // rebuild every request, which on 2 cores takes CPU from the server it measures.)
      const gets = Array.from({ length: THINGS }, (_, i) => ({ method: 'GET' as const, path: `/api/2/things/bench:t${i}` }));
      if (wanted('bare')) rows.push(await load('bare fastify GET (same JSON)', bare.url, gets));
      if (wanted('get')) rows.push(await load('GET thing', service.url, gets));
      if (wanted('put')) {
        rows.push(
          await load('PUT feature property (durable)', service.url, [
            {
              method: 'PUT',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => ({ ...req, path: `/api/2/things/bench:t${p % THINGS}/features/env/properties/temperature`, body: String(20 + (p++ % 100) / 10) }),
            },
          ]),
        );
      }
    } finally {
      bare.stop();
    }
    console.log(`\nHTTP API, ${connections} connections, ${seconds} s per row, ${THINGS} things, autocannon in a second process`);
    console.log('| benchmark | requests/s | p50 ms | p99 ms | errors |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`);
    if (rows.length === 3) {
      const ratio = rows[1].rps / rows[0].rps;
      console.log(`\nGET thing / bare route: ${ratio.toFixed(2)} (target >= 0.50); durable PUT: ${rows[2].rps} req/s, p99 ${rows[2].p99} ms (target >= 8000 req/s, p99 < 20 ms)`);
    }
  } finally {
    await service.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
