// RabbitMQ (Debian package `rabbitmq-server`, 3.10 on bookworm) on 127.0.0.1:25673, speaking
// AMQP 0.9.1 and, through the `rabbitmq_amqp1_0` plugin, AMQP 1.0 on the same port (3.x needs the
// plugin; 4.x has AMQP 1.0 built in).
//
// Everything that could meet a system RabbitMQ is moved: node name `twinbridge@localhost`, its own
// epmd port (24369), distribution port (25674), HOME (so the Erlang cookie lives under .brokers/),
// and no management plugin (so no 15672).
//
// TLS: a second listener on 127.0.0.1:25671 (AMQP 0.9.1 and 1.0 over TLS) with the test PKI of
// .brokers/rabbitmq/tls/ (scripts/brokers/tls.ts). Client certificates are asked for, verified against the
// test CA when presented, and not required (verify_peer, fail_if_no_peer_cert = false). Over TLS the
// broker also offers SASL EXTERNAL (plugin rabbitmq_auth_mechanism_ssl), which logs a client certificate in
// as the user named by its CN: the user `twinbridge-client` (no password, so it cannot log in otherwise)
// has the vhost `twinbridge-tls` to itself, so a connection to that vhost needs the client certificate.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addresses, host, ports, serverDir, tlsDir } from './config.js';
import { readPid, run, spawnDetached, stopPid } from './process.js';
import { probeAmqp091, probeAmqp10 } from './ready.js';
import type { LocalServer } from './server.js';
import { clientCommonName, ensureTestPki } from './tls.js';

const dir = serverDir('rabbitmq');
const pidFile = path.join(dir, 'rabbitmq.pid');
const logFile = path.join(dir, 'rabbitmq.log');
// The Debian wrapper in /usr/sbin switches to the `rabbitmq` user; the script it wraps does not.
const serverScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const pkiDir = tlsDir('rabbitmq');

/** The vhost only the client certificate's user may use (see the module comment). */
export const tlsVhost = 'twinbridge-tls';

/**
 * rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)). A fixed salt keeps the
 * definitions file the same from one run to the next (its content decides whether a restart is due).
 */
function passwordHash(password: string): string {
  const salt = Buffer.from('7462e1d2', 'hex');
  return Buffer.concat([salt, createHash('sha256').update(salt).update(password).digest()]).toString(
    'base64',
  );
}

/** Loaded at every boot; guest is listed too so that a fresh node has it whatever RabbitMQ seeds. */
function definitions(): string {
  const all = { configure: '.*', write: '.*', read: '.*' };
  const hashing = 'rabbit_password_hashing_sha256';
  return `${JSON.stringify(
    {
      users: [
        {
          name: 'guest',
          password_hash: passwordHash('guest'),
          hashing_algorithm: hashing,
          tags: ['administrator'],
        },
        { name: clientCommonName, password_hash: '', hashing_algorithm: hashing, tags: [] },
      ],
      vhosts: [{ name: '/' }, { name: tlsVhost }],
      permissions: [
        { user: 'guest', vhost: '/', ...all },
        { user: clientCommonName, vhost: tlsVhost, ...all },
      ],
    },
    null,
    2,
  )}\n`;
}

function config(): string {
  return [
    '# Written by scripts/brokers/rabbitmq.ts; changes are overwritten.',
    'loopback_users.guest = true',
    'log.console = true',
    'log.file = false',
    `listeners.ssl.loopback = ${host}:${ports.amqpTls}`,
    `ssl_options.cacertfile = ${path.join(pkiDir, 'ca.pem')}`,
    `ssl_options.certfile = ${path.join(pkiDir, 'server.pem')}`,
    `ssl_options.keyfile = ${path.join(pkiDir, 'server.key')}`,
    'ssl_options.verify = verify_peer',
    'ssl_options.fail_if_no_peer_cert = false',
    // EXTERNAL is offered on TLS connections only; plaintext ones see PLAIN and AMQPLAIN as before.
    'auth_mechanisms.1 = PLAIN',
    'auth_mechanisms.2 = AMQPLAIN',
    'auth_mechanisms.3 = EXTERNAL',
    'ssl_cert_login_from = common_name',
    `load_definitions = ${path.join(dir, 'definitions.json')}`,
    '',
  ].join('\n');
}

/** Every file prepare() writes, with its content. */
function configFiles(): Record<string, string> {
  return {
    [path.join(dir, 'rabbitmq-env.conf')]:
      '# intentionally empty: settings come from scripts/brokers/rabbitmq.ts\n',
    [path.join(dir, 'rabbitmq.conf')]: config(),
    [path.join(dir, 'definitions.json')]: definitions(),
    [path.join(dir, 'enabled_plugins')]: '[rabbitmq_amqp1_0,rabbitmq_auth_mechanism_ssl].\n',
  };
}

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
  addresses: [
    `AMQP 0.9.1  ${addresses.amqp091}`,
    `AMQP 1.0    ${addresses.amqp10}`,
    `AMQP (TLS)  ${addresses.amqpTls} (CA ${path.join(pkiDir, 'ca.pem')})`,
  ],
  logFile,
  startTimeoutMs: 120_000,
  async prepare() {
    for (const sub of ['home', 'mnesia', 'log']) await mkdir(path.join(dir, sub), { recursive: true });
    await ensureTestPki(pkiDir);
    for (const [file, content] of Object.entries(configFiles())) await writeFile(file, content);
  },
  async configChanged() {
    // Certificates made anew (none yet, or the old ones expire) are read at the next start only.
    const caFile = path.join(pkiDir, 'ca.pem');
    const ca = existsSync(caFile) ? await readFile(caFile, 'utf8') : undefined;
    if ((await ensureTestPki(pkiDir)).ca !== ca) return true;
    for (const [file, content] of Object.entries(configFiles())) {
      if (!existsSync(file) || (await readFile(file, 'utf8')) !== content) return true;
    }
    return false;
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
    // The TLS listener with a certificate the test CA signed (a broker started before it existed fails).
    await probeAmqp091(addresses.amqpTls, { ca: await readFile(path.join(pkiDir, 'ca.pem'), 'utf8') });
  },
};
