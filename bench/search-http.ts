/**
 * Search through the HTTP API (issue 21: `and(eq(…),gt(…))` with `sort(-_modified),size(25)`, p50 < 20 ms
 * on 100,000 things). A Twinbridge process started as `npm start` runs it (dist/, its Node.js flags, the
 * embedded store) is loaded with the things of support/search-things.ts by durable HTTP PUTs (64 at a
 * time), then one keep-alive client sends one query at a time and times each until its body is read.
 *
 *   npm run bench -- search-http      (or: node --import tsx bench/search-http.ts [things=100000] [runs=100])
 *
 * Policies: the things of org.fleet0…7 share their namespace's policy, those of org.fleet8 and 9 have one
 * each (as Ditto's default policy per thing). Every policy lets `nginx:full` READ all of `thing:/` and
 * `nginx:partial` READ `thing:/` except attributes/serial, attributes/owner, the battery's voltage and
 * the connectivity feature's ip (so the views the filter and sort see, and the items, are pruned).
 *
 * BENCH_SEARCH_DATA_DIR=<dir> keeps the loaded data directory and starts on it the next time instead of
 * loading again (the service indexes the store at start, as after a restart). With SERVICE_CPU_PROF_DIR
 * the profile covers the start and the queries, not the loading (a service started for it alone).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServiceProcess, type ServiceProcess } from '../test/helpers/service-process.js';
import { MANUFACTURERS, NAMESPACES, thingMaker } from './support/search-things.js';
import { sampleService } from './support/service-cpu.js';

const COUNT = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 100);
const TARGET_P50_MS = 20;
const LOAD_CONCURRENCY = 64;
/** Namespaces at or above this index give each thing a policy of its own. */
const OWN_POLICY_FROM = 8;
const USERS = { owner: 'ditto:ditto', full: 'full:full', partial: 'partial:partial' } as const;
const env = { TWINBRIDGE_USERS: Object.values(USERS).join(','), TWINBRIDGE_LOG_LEVEL: 'warn' };

const basic = (user: string) => `Basic ${Buffer.from(user).toString('base64')}`;
const READ = { grant: ['READ'], revoke: [] };
const HIDDEN = { grant: [], revoke: ['READ'] };
const entries = {
  owner: {
    subjects: { 'nginx:ditto': { type: 'bench' } },
    resources: {
      'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
      'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
      'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
    },
  },
  full: { subjects: { 'nginx:full': { type: 'bench' } }, resources: { 'thing:/': READ } },
  partial: {
    subjects: { 'nginx:partial': { type: 'bench' } },
    resources: {
      'thing:/': READ,
      'thing:/attributes/serial': HIDDEN,
      'thing:/attributes/owner': HIDDEN,
      'thing:/features/battery/properties/voltage': HIDDEN,
      'thing:/features/connectivity/properties/ip': HIDDEN,
    },
  },
};

/** Keep-alive connections: 64 while loading; the queries go one after another on one of them. */
const agent = new http.Agent({ keepAlive: true, maxSockets: LOAD_CONCURRENCY });

function send(
  base: string,
  method: string,
  p: string,
  auth: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(p, base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: auth };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function expectStatus(
  base: string,
  method: string,
  p: string,
  auth: string,
  body: string | undefined,
  ok: number[],
): Promise<string> {
  const res = await send(base, method, p, auth, body);
  if (!ok.includes(res.status)) throw new Error(`${method} ${p}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.text;
}

/** Loads policies and things through the API; every PUT is durable when it answers. */
async function load(service: ServiceProcess): Promise<number> {
  const owner = basic(USERS.owner);
  const t0 = performance.now();
  for (let ns = 0; ns < OWN_POLICY_FROM; ns++) {
    await expectStatus(
      service.url,
      'PUT',
      `/api/2/policies/org.fleet${ns}:policy`,
      owner,
      JSON.stringify({ entries }),
      [201],
    );
  }
  const { makeThing } = thingMaker(2026);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < COUNT; i = next++) {
      const thing = makeThing(i);
      const thingId = thing.thingId as string;
      // The service sets thingId, the revision and the timestamps; a thing of its own gets an inline policy.
      for (const key of ['thingId', '_revision', '_created', '_modified']) delete thing[key];
      if (i % NAMESPACES >= OWN_POLICY_FROM) {
        delete thing.policyId;
        thing._policy = { entries };
      }
      await expectStatus(service.url, 'PUT', `/api/2/things/${thingId}`, owner, JSON.stringify(thing), [201]);
    }
  };
  await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker));
  return performance.now() - t0;
}

interface Query {
  name: string;
  /** The request path of run `i` (rotating over manufacturers). */
  path: (i: number, user: keyof typeof USERS) => string;
}

const enc = encodeURIComponent;
const issueFilter = (i: number) =>
  `and(eq(attributes/manufacturer,"${MANUFACTURERS[i % MANUFACTURERS.length]}"),gt(features/battery/properties/level,50))`;
const issuePath = (i: number) =>
  `/api/2/search/things?filter=${enc(issueFilter(i))}&option=${enc('sort(-_modified),size(25)')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(
  base: string,
  query: Query,
  user: keyof typeof USERS,
): Promise<{ p50: number; p95: number; p99: number; cpuMs: number; items: number }> {
  const auth = basic(USERS[user]);
  for (let i = 0; i < 5; i++) await expectStatus(base, 'GET', query.path(i, user), auth, undefined, [200]); // warm-up, lazy path indexes
  const times: number[] = [];
  let items = 0;
  const cpu0 = (await sampleService(base)).cpuSeconds;
  for (let i = 0; i < RUNS; i++) {
    const p = query.path(i, user);
    const t0 = performance.now();
    const text = await expectStatus(base, 'GET', p, auth, undefined, [200]);
    times.push(performance.now() - t0);
    items += text.startsWith('{') ? (JSON.parse(text) as { items: unknown[] }).items.length : Number(text);
  }
  const cpuMs = (((await sampleService(base)).cpuSeconds - cpu0) * 1000) / RUNS;
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    cpuMs,
    items: items / RUNS,
  };
}

async function main(): Promise<void> {
  const keep = process.env.BENCH_SEARCH_DATA_DIR;
  const dataDir = keep ? path.resolve(keep) : await mkdtemp(path.join(tmpdir(), 'tb-bench-search-'));
  const marker = path.join(dataDir, 'bench-search-http.json');
  const loaded =
    existsSync(marker) && (JSON.parse(await readFile(marker, 'utf8')) as { count: number }).count === COUNT;
  try {
    let loadMs: number | undefined;
    if (!loaded) {
      // Loading is not what is profiled: the service that loads runs without the profiling flags.
      const profileDir = process.env.SERVICE_CPU_PROF_DIR;
      delete process.env.SERVICE_CPU_PROF_DIR;
      const loader = await startServiceProcess({ ...env, TWINBRIDGE_DATA_DIR: dataDir });
      try {
        loadMs = await load(loader);
      } finally {
        await loader.stop('SIGTERM');
        if (profileDir !== undefined) process.env.SERVICE_CPU_PROF_DIR = profileDir;
      }
      await writeFile(marker, JSON.stringify({ count: COUNT }));
    }
    const t0 = performance.now();
    const service = await startServiceProcess({ ...env, TWINBRIDGE_DATA_DIR: dataDir }, 300_000);
    const startMs = performance.now() - t0;
    try {
      const total = await expectStatus(
        service.url,
        'GET',
        '/api/2/search/things/count',
        basic(USERS.full),
        undefined,
        [200],
      );
      if (Number(total) !== COUNT) throw new Error(`the service indexed ${total} things, expected ${COUNT}`);
      // Page 2 of the issue's query: the cursor of page 1, fetched per caller (a cursor is bound to its caller).
      const cursors = new Map<string, string>();
      const page2 = async (i: number, user: keyof typeof USERS) => {
        const key = `${user} ${i % MANUFACTURERS.length}`;
        let cursor = cursors.get(key);
        if (cursor === undefined) {
          const first = JSON.parse(
            await expectStatus(service.url, 'GET', issuePath(i), basic(USERS[user]), undefined, [200]),
          ) as { cursor?: string };
          if (first.cursor === undefined)
            throw new Error(`page 1 has no cursor: fewer than 26 matches in ${COUNT} things`);
          cursors.set(key, (cursor = first.cursor));
        }
        return `/api/2/search/things?filter=${enc(issueFilter(i))}&option=${enc(`sort(-_modified),size(25),cursor(${cursor})`)}`;
      };
      for (const user of ['full', 'partial'] as const)
        for (let i = 0; i < MANUFACTURERS.length; i++) await page2(i, user);
      const queries: Query[] = [
        { name: 'and(eq(manufacturer),gt(battery level,50)) sort(-_modified),size(25)', path: issuePath },
        {
          name: 'the same, page 2 (cursor)',
          path: (i, user) =>
            `/api/2/search/things?filter=${enc(issueFilter(i))}&option=${enc(`sort(-_modified),size(25),cursor(${cursors.get(`${user} ${i % MANUFACTURERS.length}`)})`)}`,
        },
        {
          name: 'count and(eq(manufacturer),gt(battery level,50))',
          path: (i) => `/api/2/search/things/count?filter=${enc(issueFilter(i))}`,
        },
        {
          name: 'namespaces=org.fleet3 eq(temperature status,"alarm") sort(-_modified)',
          path: () =>
            `/api/2/search/things?namespaces=org.fleet3&filter=${enc('eq(features/temperature/properties/status,"alarm")')}&option=${enc('sort(-_modified),size(25)')}`,
        },
        {
          name: 'eq(manufacturer) sort(-battery level),size(25) (key on the view)',
          path: (i) =>
            `/api/2/search/things?filter=${enc(`eq(attributes/manufacturer,"${MANUFACTURERS[i % MANUFACTURERS.length]}")`)}&option=${enc('sort(-features/battery/properties/level),size(25)')}`,
        },
        {
          name: 'no filter, size(25) (thingId order)',
          path: () => `/api/2/search/things?option=${enc('size(25)')}`,
        },
        {
          name: 'no filter, sort(-_modified),size(25) (every thing a candidate)',
          path: () => `/api/2/search/things?option=${enc('sort(-_modified),size(25)')}`,
        },
      ];
      const rows: string[][] = [];
      for (const query of queries) {
        for (const user of ['full', 'partial'] as const) {
          const r = await measure(service.url, query, user);
          rows.push([
            query.name,
            user,
            r.p50.toFixed(1),
            r.p95.toFixed(1),
            r.p99.toFixed(1),
            r.cpuMs.toFixed(1),
            r.items.toFixed(0),
            r.p50 < TARGET_P50_MS ? '✓' : '✗',
          ]);
        }
      }
      console.log(
        `\nSearch over HTTP: ${COUNT} things (embedded store), ${RUNS} requests per row, one keep-alive client, one request at a time`,
      );
      if (loadMs !== undefined)
        console.log(
          `loaded by HTTP PUT (${LOAD_CONCURRENCY} at a time): ${((COUNT / loadMs) * 1000).toFixed(0)} things/s`,
        );
      console.log(`service start on the loaded store (indexing): ${(startMs / 1000).toFixed(1)} s`);
      console.log(
        `\n| query | caller | p50 ms | p95 ms | p99 ms | service CPU ms/request | items/count | p50 < ${TARGET_P50_MS} ms |`,
      );
      console.log('|---|---|---:|---:|---:|---:|---:|:---:|');
      for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    } finally {
      await service.stop('SIGTERM');
    }
  } finally {
    agent.destroy();
    if (!keep) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
