/**
 * Runs Twinbridge as a separate process, with the Node.js flags of `npm start`, on a free loopback port,
 * for tests that kill it and benchmarks that load it from another process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../../scripts/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The arguments of `npm start` after `node` (flags, then the built dist/src/main.js): one place decides them. */
export const startArguments: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [node, ...args] = pkg.scripts.start.split(/\s+/);
  if (node !== 'node' || args.at(-1) !== 'dist/src/main.js')
    throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return args;
})();

/**
 * `npm start` runs the build of scripts/build.ts, so service processes do too: built once per process
 * (a benchmark), or once for the whole run by the vitest global setup, which sets TWINBRIDGE_TEST_PREBUILT
 * so that test workers do not rewrite dist/ under each other's services.
 */
let built: Promise<void> | undefined;
function ensureBuilt(): Promise<void> {
  if (process.env.TWINBRIDGE_TEST_PREBUILT === '1') return Promise.resolve();
  return (built ??= build());
}

/**
 * Diagnostics of benchmarks: SERVICE_CPU_PROF_DIR=<dir> writes a CPU profile; SERVICE_INSPECT_PORT=<port>
 * opens the inspector (heap sampling); SERVICE_NODE_FLAGS adds Node.js flags (e.g. `--trace-gc`);
 * SERVICE_OUTPUT_FILE=<file> copies the service's output there.
 */
function profiling(): string[] {
  const dir = process.env.SERVICE_CPU_PROF_DIR;
  const port = process.env.SERVICE_INSPECT_PORT;
  const flags = process.env.SERVICE_NODE_FLAGS?.split(/\s+/).filter((f) => f !== '') ?? [];
  return [
    ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
    ...(port ? [`--inspect=127.0.0.1:${port}`] : []),
    ...flags,
  ];
}

/** The Node.js flags of `npm start` (for benchmarks that host the service in their own process). */
export const serviceNodeFlags: readonly string[] = startArguments.slice(0, -1);

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  await ensureBuilt();
  const child = spawn(process.execPath, [...profiling(), ...startArguments], {
    cwd: root,
    // The address is read from the info-level "ready" log line, so the level stays at info.
    env: {
      ...process.env,
      TWINBRIDGE_HOST: '127.0.0.1',
      TWINBRIDGE_PORT: '0',
      ...env,
      TWINBRIDGE_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const copy = process.env.SERVICE_OUTPUT_FILE;
  if (copy) {
    const file = createWriteStream(copy);
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in time:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /"address":"(http[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
