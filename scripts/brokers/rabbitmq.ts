// RabbitMQ (Debian package `rabbitmq-server`, 3.10 on bookworm) on 127.0.0.1:25673, speaking
// AMQP 0.9.1 and, through the `rabbitmq_amqp1_0` plugin, AMQP 1.0 on the same port (3.x needs the
// plugin; 4.x has AMQP 1.0 built in).
//
// Everything that could meet a system RabbitMQ is moved: node name `twinbridge@localhost`, its own
// epmd port (24369), distribution port (25674), HOME (so the Erlang cookie lives under .brokers/),
// and no management plugin (so no 15672).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addresses, host, ports, serverDir } from './config.js';
import { readPid, run, spawnDetached, stopPid } from './process.js';
import { probeAmqp091, probeAmqp10 } from './ready.js';
import type { LocalServer } from './server.js';

const dir = serverDir('rabbitmq');
const pidFile = path.join(dir, 'rabbitmq.pid');
const logFile = path.join(dir, 'rabbitmq.log');
// The Debian wrapper in /usr/sbin switches to the `rabbitmq` user; the script it wraps does not.
const serverScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';

function environment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: path.join(dir, 'home'),
    RABBITMQ_NODENAME: 'twinbridge@localhost',
    RABBITMQ_NODE_IP_ADDRESS: host,
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.rabbitDist),
    ERL_EPMD_PORT: String(ports.epmd),
    ERL_EPMD_ADDRESS: host,
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_LOGS: '-', // to stdout, i.e. rabbitmq.log
    RABBITMQ_PID_FILE: path.join(dir, 'beam.pid'),
    // Schedulers that do not busy-wait (this machine's two cores are shared), and the distribution
    // port on loopback only.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:
      '+sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}',
  };
}

export const rabbitmq: LocalServer = {
  name: 'rabbitmq',
  aptPackages: ['rabbitmq-server'],
  addresses: [`AMQP 0.9.1  ${addresses.amqp091}`, `AMQP 1.0    ${addresses.amqp10}`],
  logFile,
  startTimeoutMs: 120_000,
  async prepare() {
    for (const sub of ['home', 'mnesia', 'log']) await mkdir(path.join(dir, sub), { recursive: true });
    await writeFile(
      path.join(dir, 'rabbitmq-env.conf'),
      '# intentionally empty: settings come from scripts/brokers/rabbitmq.ts\n',
    );
    await writeFile(
      path.join(dir, 'rabbitmq.conf'),
      'loopback_users.guest = true\nlog.console = true\nlog.file = false\n',
    );
    await writeFile(path.join(dir, 'enabled_plugins'), '[rabbitmq_amqp1_0].\n');
  },
  async start() {
    return spawnDetached(serverScript, [], { logFile, pidFile, cwd: dir, env: environment() });
  },
  async stop() {
    await stopPid(readPid(pidFile), 'SIGTERM');
    // Our epmd outlives the node; stop it too so `brokers:down` leaves nothing behind.
    // `epmd -kill` fails when no epmd listens on that port, which is the state we want anyway.
    await run('epmd', ['-port', String(ports.epmd), '-kill'], { env: environment() }).catch(() => undefined);
  },
  pid: () => readPid(pidFile),
  async probe() {
    await probeAmqp091(addresses.amqp091);
    await probeAmqp10(addresses.amqp10);
  },
};
