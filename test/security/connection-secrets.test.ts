/**
 * Issue 19 item 15, embedded store: connection secrets (URI password, client key) are sealed at rest with
 * AES-256-GCM, the data directory is 0700 and its files 0600, the devops API still returns the secrets
 * in clear (as Ditto does), they appear in no log line, status or connection log, and key rotation
 * (TWINBRIDGE_SECRETS_KEY with TWINBRIDGE_SECRETS_OLD_KEYS) seals them again with the new key on start.
 * The PostgreSQL side: test/store/postgres-service.test.ts; the store level: test/conformance/store.suite.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVOPS, waitFor } from '../connectivity/helpers.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { loadConfig } from '../../src/config/config.js';

const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const CLIENT_KEY = `-----BEGIN PRIVATE KEY-----\n${randomBytes(16).toString('base64')}\n-----END PRIVATE KEY-----`;
const key = () => randomBytes(32).toString('base64');

let dir: string;
const lines: string[] = [];
const logger = () =>
  pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
let svc: TestService | undefined;
const start = async (env: Record<string, string> = {}) => {
  await svc?.close();
  svc = await startTestService({ TWINBRIDGE_DATA_DIR: dir, ...env }, { logger: logger() });
  return svc;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tb-secrets-'));
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every file of the data directory as text. */
const onDisk = async () =>
  (await Promise.all((await readdir(dir)).map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n');

const connection = {
  name: 'with secrets',
  connectionType: 'mqtt',
  connectionStatus: 'open',
  // Nothing listens there: the client fails and retries, writing status details and logs.
  uri: `ssl://device:${PASSWORD}@127.0.0.1:1`,
  validateCertificates: false,
  credentials: {
    type: 'client-cert',
    cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    key: CLIENT_KEY,
  },
  sources: [{ addresses: ['secrets/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
};
let id: string;

const readBack = async () => (await svc!.request('GET', `/api/2/connections/${id}`, { auth: DEVOPS })).json;

describe('connection secrets at rest (embedded store)', () => {
  it('are sealed on disk, in clear over the devops API, and in no log', async () => {
    await start();
    const created = await svc!.request('POST', '/api/2/connections', { body: connection, auth: DEVOPS });
    expect(created.status).toBe(201);
    id = created.json.id;
    expect(created.json.uri).toBe(connection.uri);
    expect((await readBack()).credentials.key).toBe(CLIENT_KEY);

    const disk = await onDisk();
    expect(disk).toContain('ssl://device:encrypted_');
    expect(disk).toContain('@127.0.0.1:1');
    expect(disk).not.toContain(PASSWORD);
    expect(disk).not.toContain(CLIENT_KEY.split('\n')[1]);

    // The failing client reports through status, connection logs and the service log: never the secrets.
    const status = await waitFor(async () => {
      const s = (await svc!.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json;
      return s.clientStatus?.[0]?.statusDetails ? s : undefined;
    }, 'a client status detail');
    const logs = (await svc!.request('GET', `/api/2/connections/${id}/logs`, { auth: DEVOPS })).text;
    const invalid = await svc!.request('POST', '/api/2/connections', {
      body: { ...connection, uri: `ssl://device:${PASSWORD}@127.0.0.1:port` },
      auth: DEVOPS,
    });
    expect(invalid.status).toBe(400);
    for (const text of [JSON.stringify(status), logs, invalid.text, lines.join('')]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CLIENT_KEY.split('\n')[1]);
    }
  });

  it('keeps the data directory 0700 and every file in it 0600, the generated key included', async () => {
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = await readdir(dir);
    expect(files).toContain('secrets.key');
    for (const f of files) expect((await stat(path.join(dir, f))).mode & 0o777, f).toBe(0o600);
  });

  it('seals them again with a configured key on start (the generated one still opens), then with a rotated one', async () => {
    const first = key();
    await start({ TWINBRIDGE_SECRETS_KEY: first });
    expect((await readBack()).uri).toBe(connection.uri);
    // The generated key is no longer needed: what is stored opens with the configured key alone.
    await svc!.close();
    svc = undefined;
    await rm(path.join(dir, 'secrets.key'));
    await start({ TWINBRIDGE_SECRETS_KEY: first });
    expect((await readBack()).credentials.key).toBe(CLIENT_KEY);
    expect(await readdir(dir)).not.toContain('secrets.key');

    const second = key();
    await start({ TWINBRIDGE_SECRETS_KEY: second, TWINBRIDGE_SECRETS_OLD_KEYS: `${key()},${first}` });
    expect((await readBack()).uri).toBe(connection.uri);
    await start({ TWINBRIDGE_SECRETS_KEY: second });
    const json = await readBack();
    expect(json.uri).toBe(connection.uri);
    expect(json.credentials.key).toBe(CLIENT_KEY);
    expect(await onDisk()).not.toContain(PASSWORD);
  });

  it('with a key that opens nothing, loads the connection as misconfigured and shows no secret', async () => {
    await start({ TWINBRIDGE_SECRETS_KEY: key() });
    const status = (await svc!.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json;
    expect(status.liveStatus).toBe('misconfigured');
    expect(status.statusDetails).toMatch(/secrets do not open with TWINBRIDGE_SECRETS_KEY/);
    const read = await svc!.request('GET', `/api/2/connections/${id}`, { auth: DEVOPS });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(PASSWORD);
  });
});

describe('the secrets key configuration', () => {
  it('is required with the PostgreSQL store and must be 32 bytes of base64', () => {
    const pg = { TWINBRIDGE_STORE: 'postgres', TWINBRIDGE_POSTGRES_URL: 'postgres://u:p@h/db' };
    expect(() => loadConfig(pg)).toThrow(
      /TWINBRIDGE_SECRETS_KEY must be set when TWINBRIDGE_STORE is postgres/,
    );
    expect(loadConfig({ ...pg, TWINBRIDGE_SECRETS_KEY: key() }).store).toBe('postgres');
    const short = randomBytes(16).toString('base64');
    expect(() => loadConfig({ TWINBRIDGE_SECRETS_KEY: short })).toThrow(
      /TWINBRIDGE_SECRETS_KEY: must be 32 bytes/,
    );
    expect(() =>
      loadConfig({ TWINBRIDGE_SECRETS_KEY: key(), TWINBRIDGE_SECRETS_OLD_KEYS: 'not-a-key' }),
    ).toThrow(/TWINBRIDGE_SECRETS_OLD_KEYS: must be 32 bytes/);
    expect(() => loadConfig({ TWINBRIDGE_SECRETS_KEY: short })).not.toThrow(
      new RegExp(short.replace(/[+/=]/g, '.')),
    );
  });
});
