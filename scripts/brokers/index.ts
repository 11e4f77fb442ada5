// The local test brokers: install on first use, start, stop and report them.
//
// `up` is idempotent: when every broker already answers its handshake it only probes them (well under
// a second per broker) and changes nothing. Starting and stopping hold a per-server exclusive lock so
// that concurrent callers (vitest workers, several test runs, the CLI) never start a server twice.
import { mkdir } from 'node:fs/promises';
import { brokersDir, serverNames, type ServerName } from './config.js';
import { ensureAptPackages } from './install.js';
import { withLock } from './lock.js';
import { isAlive, tail } from './process.js';
import { assertPortsFree } from './ports.js';
import { waitUntilReady } from './ready.js';
import type { LocalServer } from './server.js';
import { mosquitto } from './mosquitto.js';
import { rabbitmq } from './rabbitmq.js';
import { kafka } from './kafka.js';
import { postgres } from './postgres.js';

export {
  addresses,
  envVariables,
  localServers,
  ports,
  serverNames,
  type BrokerKind,
  type ServerName,
} from './config.js';
export { withLock, type LockMode, type LockOptions } from './lock.js';

const servers: Record<ServerName, LocalServer> = { mosquitto, rabbitmq, kafka, postgres };

export type UpResult = 'already running' | 'started';

export interface ServerStatus {
  name: ServerName;
  pid: number | undefined;
  ready: boolean;
  addresses: readonly string[];
  /** The handshake error when not ready. */
  error?: string;
}

function pick(names?: readonly ServerName[]): LocalServer[] {
  return (names && names.length > 0 ? names : serverNames).map((name) => servers[name]);
}

async function answers(server: LocalServer): Promise<boolean> {
  try {
    await server.probe();
    return true;
  } catch {
    return false; // not listening or not ready yet: the caller decides what to do
  }
}

/**
 * Installs (first time only), starts and waits for the given servers (default: all). Servers that
 * already answer their handshake are left alone. Resolves once every one is ready.
 */
export async function up(names?: readonly ServerName[]): Promise<Record<string, UpResult>> {
  const chosen = pick(names);
  await mkdir(brokersDir, { recursive: true });
  const probed = await Promise.all(chosen.map(async (server) => ({ server, ok: await answers(server) })));
  const down = probed.filter((entry) => !entry.ok).map((entry) => entry.server);
  const result: Record<string, UpResult> = {};
  for (const { server, ok } of probed) if (ok) result[server.name] = 'already running';
  if (down.length > 0) {
    await withLock('install', () => ensureAptPackages(down.flatMap((server) => server.aptPackages)));
    await Promise.all(
      down.map(async (server) => {
        result[server.name] = await startServer(server.name);
      }),
    );
  }
  // Cheap and idempotent (e.g. makes sure the test database exists).
  await Promise.all(
    chosen
      .filter((server) => result[server.name] === 'already running')
      .map((server) => server.afterReady?.()),
  );
  return result;
}

/**
 * Starts one server unless it already answers (installing it if needed), and waits until it does. A running
 * server that does not answer because its configuration predates this script's (configChanged) is
 * restarted, holding the exclusive usage lock that tests take around broker restarts
 * (test/brokers/index.ts, withBrokerLock).
 */
export async function startServer(name: ServerName): Promise<UpResult> {
  const server = servers[name];
  return withLock(`server-${name}`, async () => {
    if (await answers(server)) return 'already running';
    await mkdir(brokersDir, { recursive: true });
    const pid = server.pid();
    if (isAlive(pid) && (await server.configChanged?.())) {
      console.log(`brokers: restarting ${name} to take its new configuration`);
      await withLock(`use-${name}`, async () => {
        await server.stop();
        await launch(server, undefined);
      });
    } else await launch(server, pid);
    return 'started';
  });
}

/** Starts `server` unless `pid` (its process) is alive, and waits until it answers. */
async function launch(server: LocalServer, pid: number | undefined): Promise<void> {
  if (!isAlive(pid)) {
    await assertPortsFree(server.name);
    await withLock('install', () => ensureAptPackages(server.aptPackages));
    await server.prepare();
    pid = await server.start();
  }
  const started = pid;
  await waitUntilReady(server.name, () => server.probe(), {
    timeoutMs: server.startTimeoutMs,
    check: async () => {
      if (!isAlive(started))
        throw new Error(
          `${server.name} exited during start-up; last lines of ${server.logFile}:\n${await tail(server.logFile)}`,
        );
    },
  });
  await server.afterReady?.();
}

/** Stops one server gracefully and waits until its process has exited. */
export async function stopServer(name: ServerName): Promise<void> {
  await withLock(`server-${name}`, () => servers[name].stop());
}

/** Stops the given servers (default: all). Data stays under .brokers/ for the next start. */
export async function down(names?: readonly ServerName[]): Promise<void> {
  await Promise.all(pick(names).map((server) => stopServer(server.name)));
}

export async function status(names?: readonly ServerName[]): Promise<ServerStatus[]> {
  return Promise.all(
    pick(names).map(async (server) => {
      const pid = server.pid();
      const base = { name: server.name, pid: isAlive(pid) ? pid : undefined, addresses: server.addresses };
      try {
        await server.probe();
        return { ...base, ready: true };
      } catch (error) {
        return { ...base, ready: false, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

export function serverAddresses(name: ServerName): readonly string[] {
  return servers[name].addresses;
}
