/**
 * A private Mosquitto for tests that need their own broker configuration (a TLS listener with a test CA,
 * large session queues) or stop the broker: started from the test on a free loopback port, with its own
 * config and persistence under a temp directory, stopped and restarted by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface MosquittoOptions {
  /** TLS listener files (PEM paths); `requireCertificate` demands client certificates. */
  tls?: { ca: string; cert: string; key: string; requireCertificate?: boolean };
  /** Extra configuration lines. */
  config?: string[];
}

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tb-mosquitto-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'user root',
    'persistence true',
    `persistence_location ${dir}/`,
    // Sessions of stopped consumers keep everything (the defaults drop beyond 1000 queued messages).
    'max_queued_messages 0',
    'max_inflight_messages 0',
    'log_dest none',
  ];
  if (options.tls) {
    lines.push(`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`);
    if (options.tls.requireCertificate) lines.push('require_certificate true');
  }
  lines.push(...(options.config ?? []));
  const configFile = path.join(dir, 'mosquitto.conf');
  await writeFile(configFile, lines.join('\n') + '\n');
  let child: ChildProcess | undefined;
  const broker: Mosquitto = {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn('/usr/sbin/mosquitto', ['-c', configFile], { stdio: 'ignore' });
      await waitForPort(port, 10_000);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
  };
  await broker.start();
  return broker;
}
