/**
 * The short fuzz run of CI: `npm run fuzz` (scripts/fuzz.ts) with a few examples per operation and a
 * fixed seed — schemathesis against Ditto's OpenAPI document, no answer may be a 5xx. The long run is
 * `npm run fuzz` by hand. Skipped, saying so, only when Python with venv/pip is not there to install
 * schemathesis (exit code 3 of the script).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('finds no server error in a short schemathesis run over the HTTP API', async (context) => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--no-node-snapshot', '--import', 'tsx', 'scripts/fuzz.ts', '--max-examples', '3', '--seed', '19'],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' } },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (exitCode) => resolve({ code: exitCode, output }));
  });
  if (code === 3)
    context.skip(
      `schemathesis cannot be installed here (no Python 3 with venv and pip, or no PyPI): ${output.trim().split('\n').at(-1)}`,
    );
  expect(code, output.slice(-6000)).toBe(0);
}, 600_000);
