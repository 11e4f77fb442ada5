/**
 * Node-RED as a peer of the MQTT benchmark (issue 21): the flow a user would build for the same bridge
 * (`node-red/flows.json`: mqtt in → function that parses the JSON telemetry and builds the outgoing
 * message → mqtt out, QoS 1, persisting nothing), run by Node-RED 4 in a process of its own, headless
 * (`node-red/settings.cjs`), with a temporary user directory, against the benchmark's broker on loopback.
 *
 * Node-RED is not a dependency of Twinbridge: the first use installs the pinned version with npm into
 * bench/peers/.node-red/ (ignored by git; delete it to reinstall), without install scripts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The latest Node-RED 4.x on the npm registry when the peer was added (issue 21 names Node-RED 4). */
export const NODE_RED_VERSION = '4.1.15';

const here = path.dirname(fileURLToPath(import.meta.url));
const home = path.join(here, '.node-red');
const packageDir = path.join(home, 'node_modules', 'node-red');

/** Installs the pinned Node-RED unless it is there already; returns its entry point (red.js). */
function ensureInstalled(): string {
  const installed = (): string | undefined => {
    const file = path.join(packageDir, 'package.json');
    return existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
      : undefined;
  };
  if (installed() !== NODE_RED_VERSION) {
    console.log(
      `installing node-red@${NODE_RED_VERSION} into ${path.relative(process.cwd(), home)}/ (first use) …`,
    );
    const npm = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        home,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--omit=dev',
        '--loglevel=error',
        `node-red@${NODE_RED_VERSION}`,
      ],
      { stdio: 'inherit' },
    );
    if (npm.status !== 0 || installed() !== NODE_RED_VERSION)
      throw new Error(`npm could not install node-red@${NODE_RED_VERSION} into ${home} (exit ${npm.status})`);
  }
  return path.join(packageDir, 'red.js');
}

export interface NodeRedPeer {
  child: ChildProcess;
  version: string;
  /** What Node-RED printed (warnings and errors only). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Node-RED with the benchmark's flow against `brokerUrl` (mqtt://127.0.0.1:<port>). */
export async function startNodeRed(brokerUrl: string): Promise<NodeRedPeer> {
  const red = ensureInstalled();
  const { hostname, port } = new URL(brokerUrl);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost')
    throw new Error(`the Node-RED peer connects on loopback only, not to ${hostname}`);
  const userDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-node-red-'));
  await copyFile(path.join(here, 'node-red', 'flows.json'), path.join(userDir, 'flows.json'));
  // As `node-red` runs it: plain node on red.js, no extra flags.
  const child = spawn(
    process.execPath,
    [red, '--settings', path.join(here, 'node-red', 'settings.cjs'), '--userDir', userDir],
    {
      env: { ...process.env, BENCH_MQTT_HOST: hostname, BENCH_MQTT_PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return {
    child,
    version: NODE_RED_VERSION,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(userDir, { recursive: true, force: true });
    },
  };
}
