/**
 * `npm run fuzz`: schemathesis (PyPI) generates requests from Ditto's OpenAPI document
 * (test/fuzz/ditto-api-2.yml) against a Twinbridge started here on a free loopback port with a fresh data
 * directory and the default users; the criterion is `not_a_server_error`: no answer may be a 5xx.
 *
 *   npm run fuzz                          every operation, 50 examples each (several minutes)
 *   npm run fuzz -- --max-examples 5      a short run (what test/fuzz/schemathesis.test.ts runs in CI)
 *   npm run fuzz -- --seed 42             reproduce a run (schemathesis prints its seed)
 *
 * schemathesis is installed on first use into .fuzz/ (a Python venv, git-ignored). Exit codes: 0 no server
 * error, 1 server errors found (the failures and the service's log lines of them are printed), 3 Python or
 * pip is not available (nothing was run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import type { ConnectionManager } from '../src/connectivity/index.js';
import { createServices } from '../src/services.js';
import { connectors } from '../connectors/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMATHESIS = 'schemathesis==4.32.5';
const venv = path.join(root, '.fuzz');
const schemathesis = path.join(venv, 'bin', 'schemathesis');
const spec = path.join(root, 'test', 'fuzz', 'ditto-api-2.yml');
const settings = path.join(root, 'test', 'fuzz', 'schemathesis.toml');

/**
 * Operations of Ditto's document that Twinbridge deliberately does not implement (docs/security.md lists
 * them); every other operation is fuzzed.
 */
export const NOT_IMPLEMENTED = [
  '^/api/2/cloudevents$',
  '^/api/2/things/\\{thingId\\}/migrateDefinition$',
  '^/api/2/policies/\\{policyId\\}(/entries/\\{label\\})?/actions/',
  '^/api/2/policies/\\{policyId\\}/entries/\\{label\\}/(allowedAdditions|references)$',
  '^/api/2/policies/\\{policyId\\}/imports/\\{importedPolicyId\\}/transitiveImports$',
  '^/devops/(logging|config|wot)',
  '^/devops/piggyback$',
  '^/\\.well-known/wot$',
];

/** Operations only the devops user may call; the second run fuzzes the implemented ones with its credentials. */
const DEVOPS_ONLY = '^/(api/2/connections|devops/)';
const DEVOPS_IMPLEMENTED = '^/(api/2/connections|devops/piggyback/\\{serviceName\\})';

/**
 * A Python 3.9+ with venv and ensurepip, newest first (CPython 3.11.7 crashes in hypothesis' source
 * inspection on schemathesis' larger modules, so 3.12+ is preferred), including pyenv's versions.
 */
function findPython(): string | undefined {
  const candidates = ['python3.13', 'python3.12'];
  const pyenv = spawnSync('pyenv', ['versions', '--bare'], { encoding: 'utf8' });
  if (pyenv.status === 0) {
    const versions = pyenv.stdout
      .split('\n')
      .filter((v) => /^3\.(1[2-9])\.\d+$/.test(v.trim()))
      .sort()
      .reverse();
    for (const v of versions) {
      const prefix = spawnSync('pyenv', ['prefix', v.trim()], { encoding: 'utf8' });
      if (prefix.status === 0) candidates.push(path.join(prefix.stdout.trim(), 'bin', 'python3'));
    }
  }
  candidates.push('python3', 'python');
  const check = 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)';
  return candidates.find((p) => spawnSync(p, ['-c', check], { stdio: 'ignore' }).status === 0);
}

function ensureSchemathesis(): boolean {
  if (existsSync(schemathesis)) return true;
  const python = findPython();
  if (!python) return false;
  process.stderr.write(`fuzz: installing ${SCHEMATHESIS} into .fuzz/ (first run)\n`);
  if (spawnSync(python, ['-m', 'venv', venv], { stdio: 'inherit' }).status !== 0) return false;
  const pip = spawnSync(
    path.join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', SCHEMATHESIS],
    { stdio: 'inherit' },
  );
  if (pip.status !== 0) {
    rmSync(venv, { recursive: true, force: true });
    return false;
  }
  return true;
}

/** The entities test/fuzz/schemathesis.toml names, so generated requests also reach existing ones. */
async function seed(
  url: string,
  user: { user: string; password: string },
  connections: ConnectionManager,
): Promise<void> {
  const basic = (u: { user: string; password: string }) =>
    `Basic ${Buffer.from(`${u.user}:${u.password}`).toString('base64')}`;
  const put = async (p: string, body: unknown) => {
    const res = await fetch(url + p, {
      method: 'PUT',
      headers: { authorization: basic(user), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`seeding ${p}: ${res.status} ${await res.text()}`);
  };
  const all = { grant: ['READ', 'WRITE'], revoke: [] };
  await put('/api/2/things/org.eclipse.ditto:fuzz-thing', {
    attributes: { a: 1, nested: { b: [1, 2] } },
    features: { lamp: { properties: { on: true }, desiredProperties: { on: false } } },
  });
  await put('/api/2/policies/org.eclipse.ditto:fuzz-policy', {
    entries: {
      OWNER: {
        subjects: { [`nginx:${user.user}`]: { type: 'fuzz' } },
        resources: { 'thing:/': all, 'policy:/': all, 'message:/': all },
      },
    },
  });
  await connections.create(
    {
      name: 'fuzz',
      connectionType: 'mqtt',
      connectionStatus: 'closed',
      uri: 'tcp://fuzz:secret@127.0.0.1:1',
      sources: [{ addresses: ['fuzz/#'], qos: 1, authorizationContext: [`nginx:${user.user}`] }],
    },
    'fuzz-connection',
  );
}

/**
 * A device online for the fuzzed messages (WebSocket, Ditto Protocol): it answers every message sent to
 * or from a thing at once with status 200, so message requests complete instead of waiting their timeout.
 */
async function respondToMessages(url: string, user: { user: string; password: string }): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws') + '/ws/2', {
    headers: { authorization: `Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}` },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('message', (data) => {
    const text = data.toString();
    if (!text.startsWith('{')) return;
    const message = JSON.parse(text) as {
      topic?: string;
      path?: string;
      status?: number;
      headers?: Record<string, unknown>;
    };
    if (
      !message.topic?.includes('/things/live/messages/') ||
      message.status !== undefined ||
      message.headers?.['response-required'] === false
    )
      return;
    const path = String(message.path ?? '').replace('/inbox/', '/outbox/');
    socket.send(
      JSON.stringify({
        topic: message.topic,
        headers: { 'correlation-id': message.headers?.['correlation-id'], 'content-type': 'text/plain' },
        path,
        value: 'ok',
        status: 200,
      }),
    );
  });
  socket.send('START-SEND-MESSAGES');
  return socket;
}

function run(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesis, args, {
      stdio: 'inherit',
      env: { ...process.env, SCHEMATHESIS_HOOKS: '' },
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const passed = process.argv.slice(2);
  if (!ensureSchemathesis()) {
    process.stderr.write(
      'fuzz: Python 3 with venv and pip (and access to PyPI) is needed to install schemathesis; nothing was run\n',
    );
    return 3;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tb-fuzz-'));
  const serverErrors: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.includes('"level":50')) serverErrors.push(line);
      done();
    },
  });
  const config = loadConfig({
    ...process.env,
    TWINBRIDGE_DATA_DIR: dataDir,
    TWINBRIDGE_PORT: '0',
    TWINBRIDGE_LOG_LEVEL: 'error',
  });
  const services = await createServices(config, pino({ level: 'error' }, sink), { connectors });
  const app = await buildApp(services);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stderr.write(`fuzz: Twinbridge on ${url} (data ${dataDir})\n`);
  await seed(url, config.users[0], services.connections);
  const device = await respondToMessages(url, config.users[0]);
  const common = [
    '--config-file',
    settings,
    'run',
    spec,
    '--url',
    url,
    '--checks',
    'not_a_server_error',
    '--no-color',
    '--suppress-health-check',
    'all',
    '--request-timeout',
    '30',
    '--workers',
    '2',
    ...NOT_IMPLEMENTED.flatMap((p) => ['--exclude-path-regex', p]),
  ];
  const defaults =
    passed.includes('--max-examples') || passed.some((a) => a.startsWith('--max-examples='))
      ? []
      : ['--max-examples', '50'];
  try {
    const [user] = config.users;
    const [devops] = config.devopsUsers;
    const api = await run([
      ...common,
      '--exclude-path-regex',
      DEVOPS_ONLY,
      '--auth',
      `${user.user}:${user.password}`,
      ...defaults,
      ...passed,
    ]);
    const ops = await run([
      ...common,
      '--include-path-regex',
      DEVOPS_IMPLEMENTED,
      '--auth',
      `${devops.user}:${devops.password}`,
      ...defaults,
      ...passed,
    ]);
    if (serverErrors.length > 0)
      process.stderr.write(
        `fuzz: the service logged ${serverErrors.length} server error(s):\n${serverErrors.slice(0, 20).join('\n')}\n`,
      );
    return api === 0 && ops === 0 && serverErrors.length === 0 ? 0 : 1;
  } finally {
    device.close();
    await app.close();
    await services.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
