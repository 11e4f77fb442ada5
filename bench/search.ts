// Search index micro-benchmark (ditto-interfaces.md §2.7). Run:
//   node --expose-gc --import tsx bench/search.ts [things=100000]
// Builds an in-memory SearchIndex over the things of support/search-things.ts and prints latency
// percentiles of typical queries, build time and memory per thing (bench/search-http.ts: the same
// through the HTTP API).
// Target: p50 under 20 ms for each query. Bounded: a few seconds at 100,000 things.
import type * as RqlParser from '../src/search/rql/parser.js';
import type * as RqlOptions from '../src/search/rql/options.js';
import type * as Index from '../src/search/search-index.js';
import { built } from './support/built.js';
import { MANUFACTURERS, thingMaker } from './support/search-things.js';

const { parseRql } = await built<typeof RqlParser>('src/search/rql/parser.ts');
const { parseSearchOptions } = await built<typeof RqlOptions>('src/search/rql/options.ts');
const { SearchIndex } = await built<typeof Index>('src/search/search-index.ts');

const COUNT = Number(process.argv[2] ?? 100_000);
const ITERATIONS = 200;
const gc = (globalThis as { gc?: () => void }).gc;

const { makeThing, int } = thingMaker(2026);

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function measure(name: string, run: (i: number) => unknown, rows: string[][]): void {
  run(0); // warm-up (also builds the lazy path indexes, reported separately)
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    run(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  rows.push([
    name,
    percentile(times, 50).toFixed(2),
    percentile(times, 99).toFixed(2),
    times[times.length - 1].toFixed(2),
  ]);
}

const heap0 = heapUsed();
const things = Array.from({ length: COUNT }, (_, i) => makeThing(i));
const heapThings = heapUsed();

const index = new SearchIndex();
let t0 = performance.now();
for (const thing of things) index.upsert(thing);
const upsertMs = performance.now() - t0;
const heapIndexed = heapUsed();

const eqFilters = MANUFACTURERS.map((m) => parseRql(`eq(attributes/manufacturer,"${m}")`));
const andFilters = MANUFACTURERS.map((m) =>
  parseRql(`and(eq(attributes/manufacturer,"${m}"),gt(features/battery/properties/level,50))`),
);
const sortDesc = parseSearchOptions('sort(-_modified),size(25)');

// First use of each path builds its index (lazily, once).
t0 = performance.now();
index.count({ filter: eqFilters[0] });
const buildManufacturerMs = performance.now() - t0;
t0 = performance.now();
index.count({ filter: andFilters[0] });
const buildLevelMs = performance.now() - t0;
const heapWithPaths = heapUsed();

const rows: string[][] = [];
measure(
  'eq(attributes/manufacturer,…) size(25)',
  (i) => index.query({ filter: eqFilters[i % eqFilters.length], size: 25 }),
  rows,
);
measure(
  'count eq(attributes/manufacturer,…)',
  (i) => index.count({ filter: eqFilters[i % eqFilters.length] }),
  rows,
);
measure(
  'and(eq(manufacturer),gt(battery level,50)) sort(-_modified) size(25)',
  (i) => index.query({ filter: andFilters[i % andFilters.length], sort: sortDesc.sort, size: sortDesc.size }),
  rows,
);
measure(
  'count with a caller view (every other namespace)',
  (i) =>
    index.count({
      filter: eqFilters[i % eqFilters.length],
      view: (t) => ((t.thingId as string).charCodeAt(9) % 2 === 0 ? t : undefined),
    }),
  rows,
);
measure('no filter, default sort, size(25)', () => index.query({ size: 25 }), rows);
const neFilter = parseRql('ne(attributes/model,"M-1")');
measure('count ne(attributes/model,…) (present minus equal)', () => index.count({ filter: neFilter }), rows);
const scanFilter = parseRql('empty(attributes/owner/nickname)');
measure(
  'count empty(attributes/owner/nickname) (full scan)',
  () => index.count({ filter: scanFilter }),
  rows,
);

// Write path: telemetry-style updates of one feature property while 3 path indexes are maintained.
const UPDATES = 10_000;
t0 = performance.now();
for (let i = 0; i < UPDATES; i++) {
  const old = things[int(COUNT)];
  const features = old.features as Record<string, { properties: Record<string, unknown> }>;
  const next = {
    ...old,
    features: { ...features, battery: { properties: { ...features.battery.properties, level: int(101) } } },
    _revision: (old._revision as number) + 1,
  };
  index.upsert(next);
}
const updateMs = performance.now() - t0;

const perThing = (bytes: number) => `${(bytes / COUNT).toFixed(0)} B`;
console.log(
  `\nSearch index benchmark: ${COUNT} things, ${ITERATIONS} runs per query${gc ? '' : ' (run with --expose-gc for exact memory numbers)'}\n`,
);
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`${'query'.padEnd(width)}  p50 ms  p99 ms  max ms`);
for (const [name, p50, p99, max] of rows)
  console.log(`${name.padEnd(width)}  ${p50.padStart(6)}  ${p99.padStart(6)}  ${max.padStart(6)}`);
console.log('');
console.log(`upsert ${COUNT} things (core maps):          ${upsertMs.toFixed(0)} ms`);
console.log(
  `upsert of a changed battery level (3 indexes): ${((updateMs / UPDATES) * 1000).toFixed(1)} µs each (${UPDATES} updates)`,
);
console.log(`lazy index build attributes/manufacturer:     ${buildManufacturerMs.toFixed(0)} ms`);
console.log(`lazy index build battery level (+ query):     ${buildLevelMs.toFixed(0)} ms`);
console.log(`heap per thing, the thing JSON itself:        ${perThing(heapThings - heap0)}`);
console.log(`heap per thing, index core (+ thingId order):  ${perThing(heapIndexed - heapThings)}`);
console.log(`heap per thing, 2 path indexes:               ${perThing(heapWithPaths - heapIndexed)}`);
console.log(
  `heap per thing, after the queries (all paths): ${perThing(heapUsed() - heapThings)} (indexed paths: ${index.indexedPaths().join(', ')})`,
);
