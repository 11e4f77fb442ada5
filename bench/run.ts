/**
 * `npm run bench [-- name…]`: runs the benchmarks under bench/ one after another, each in its own process
 * (so one's heap and JIT state do not colour the next), and prints their tables and how long each took.
 * The environment passes through: `BENCH_ROUNDS=3 npm run bench` runs three rounds of each end-to-end one.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceNodeFlags } from '../test/helpers/service-process.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const chosen = wanted.length > 0 ? all.filter((b) => wanted.includes(b)) : all;
if (wanted.length > 0 && chosen.length !== wanted.length) {
  console.error(
    `unknown benchmark(s): ${wanted.filter((w) => !all.includes(w)).join(', ')}; available: ${all.join(', ')}`,
  );
  process.exit(2);
}
const failed: string[] = [];
const began = performance.now();
for (const name of chosen) {
  console.log(`\n=== bench/${name}.ts`);
  const start = performance.now();
  // With the flags of `npm start` (benchmarks that measure code in their own process get the service's heap
  // settings), and tsx for the benchmark's TypeScript.
  const result = spawnSync(
    process.execPath,
    [...serviceNodeFlags, '--import', 'tsx', path.join(dir, `${name}.ts`)],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) failed.push(name);
  console.log(
    `=== bench/${name}.ts ${result.status === 0 ? 'finished' : `FAILED (exit ${result.status ?? result.signal})`} in ${Math.round((performance.now() - start) / 1000)} s`,
  );
}
console.log(
  `\n${chosen.length} benchmark(s) in ${Math.round((performance.now() - began) / 1000)} s${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`,
);
process.exit(failed.length > 0 ? 1 : 0);
