// PostgreSQL (Debian package `postgresql`) on 127.0.0.1:25432, database `twinbridge`, owner
// `twinbridge` (password `twinbridge`). PostgreSQL refuses to run as root, so the cluster under
// .brokers/postgres belongs to the `postgres` system user and the server runs as that user.
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import {
  addresses,
  host,
  ports,
  postgresDatabase,
  postgresPassword,
  postgresUser,
  serverDir,
} from './config.js';
import { readPid, run, spawnDetached, stopPid } from './process.js';
import { probePostgres } from './ready.js';
import type { LocalServer } from './server.js';

const dir = serverDir('postgres');
const dataDir = path.join(dir, 'data');
const socketDir = path.join(dir, 'run');
const pidFile = path.join(dir, 'postgres.pid');
const logFile = path.join(dir, 'postgres.log');
const systemUser = 'postgres';
/** The maintenance database, which exists from initdb on. */
const adminUrl = addresses.postgres.replace(/\/[^/]*$/, '/postgres');

/** The newest PostgreSQL installed under /usr/lib/postgresql. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  const newest = versions.map(Number).sort((a, b) => b - a)[0];
  return path.join(root, String(newest), 'bin');
}

async function systemIds(): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .find((entry) => entry.startsWith(`${systemUser}:`));
  if (!line) throw new Error(`system user ${systemUser} not found (is the postgresql package installed?)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function settings(): string {
  return [
    '',
    '# Added by scripts/brokers/postgres.ts',
    `listen_addresses = '${host}'`,
    `port = ${ports.postgres}`,
    `unix_socket_directories = '${socketDir}'`,
    'shared_buffers = 16MB',
    'max_connections = 60',
    'logging_collector = off',
    '',
  ].join('\n');
}

export const postgres: LocalServer = {
  name: 'postgres',
  aptPackages: ['postgresql'],
  addresses: [`PostgreSQL  ${addresses.postgres}`],
  logFile,
  startTimeoutMs: 60_000,
  async prepare() {
    const ids = await systemIds();
    await mkdir(socketDir, { recursive: true });
    await chown(dir, ids.uid, ids.gid);
    await chown(socketDir, ids.uid, ids.gid);
    try {
      await run('test', ['-w', dir, '-a', '-x', dir], ids);
    } catch (error) {
      throw new Error(
        `the ${systemUser} user cannot reach ${dir}; every parent folder must be searchable (chmod o+x)`,
        { cause: error },
      );
    }
    if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
    const passwordFile = path.join(dir, 'initdb-password');
    await writeFile(passwordFile, `${postgresPassword}\n`);
    await chown(passwordFile, ids.uid, ids.gid);
    await chmod(passwordFile, 0o600);
    try {
      await run(
        path.join(binDir(), 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          postgresUser,
          `--pwfile=${passwordFile}`,
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          '-E',
          'UTF8',
          '--no-locale',
        ],
        { ...ids, cwd: dir },
      );
    } finally {
      await rm(passwordFile, { force: true });
    }
    await appendFile(path.join(dataDir, 'postgresql.conf'), settings());
  },
  async start() {
    const ids = await systemIds();
    return spawnDetached(path.join(binDir(), 'postgres'), ['-D', dataDir], {
      ...ids,
      logFile,
      pidFile,
      cwd: dir,
    });
  },
  async stop() {
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    await stopPid(readPid(pidFile), 'SIGINT');
  },
  pid: () => readPid(pidFile),
  probe: () => probePostgres(adminUrl),
  async afterReady() {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [
        postgresDatabase,
      ]);
      if (rowCount === 0) await client.query(`create database ${postgresDatabase}`);
    } finally {
      await client.end();
    }
  },
};
