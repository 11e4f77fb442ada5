import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import { createPostgresDriver, type PostgresDriver } from '../drivers/postgres.js';
import { startTestService } from '../helpers/app.js';
import { loadConfig } from '../../src/config/config.js';

// TWINBRIDGE_STORE=postgres wires the PostgresStore into the service: what one service instance wrote is
// what the next one (a restart) serves, including search (its index loads from the store).

let driver: PostgresDriver | undefined;
const schemas: string[] = [];

keepBrokersUp('postgres');

const SECRETS_KEY = randomBytes(32).toString('base64');

afterAll(async () => {
  for (const schema of schemas) await driver?.dropSchema(schema);
  await driver?.close();
});

describe('service on the PostgreSQL store', () => {
  it('requires TWINBRIDGE_POSTGRES_URL with TWINBRIDGE_STORE=postgres and never echoes the URL', () => {
    expect(() => loadConfig({ TWINBRIDGE_STORE: 'postgres' })).toThrow(/TWINBRIDGE_POSTGRES_URL must be set/);
    expect(() => loadConfig({ TWINBRIDGE_STORE: 'mongo' })).toThrow(/TWINBRIDGE_STORE/);
    expect(() =>
      loadConfig({ TWINBRIDGE_STORE: 'postgres', TWINBRIDGE_POSTGRES_URL: 'postgres://u:s3cret@h/db' }),
    ).toThrow(/TWINBRIDGE_SECRETS_KEY must be set/);
    const config = loadConfig({
      TWINBRIDGE_STORE: 'postgres',
      TWINBRIDGE_POSTGRES_URL: 'postgres://u:s3cret@h/db',
      TWINBRIDGE_SECRETS_KEY: SECRETS_KEY,
    });
    expect(config).toMatchObject({
      store: 'postgres',
      postgresUrl: 'postgres://u:s3cret@h/db',
      postgresPoolSize: 10,
      postgresSchema: 'twinbridge',
    });
    expect(loadConfig({}).store).toBe('embedded');
  });

  it('serves after a restart what it wrote before, search included', async () => {
    const endpoint = await getBroker('postgres');
    driver = createPostgresDriver(endpoint);
    const schema = `tb_service_${Math.random().toString(36).slice(2, 10)}`;
    schemas.push(schema);
    const env = {
      TWINBRIDGE_STORE: 'postgres',
      TWINBRIDGE_POSTGRES_URL: endpoint.url,
      TWINBRIDGE_POSTGRES_SCHEMA: schema,
      TWINBRIDGE_SECRETS_KEY: SECRETS_KEY,
    };
    let service = await startTestService(env);
    try {
      const put = await service.request('PUT', '/api/2/things/org.pg:one', {
        body: { attributes: { color: 'red' } },
      });
      expect(put.status).toBe(201);
      const patch = await service.request('PATCH', '/api/2/things/org.pg:one/attributes', {
        body: { size: 3 },
      });
      expect(patch.status).toBe(204);
    } finally {
      await service.close();
    }
    const { rows } = await driver.query(
      `select revision, value from ${schema}.entities where kind = 'thing' and id = 'org.pg:one'`,
    );
    expect(rows).toEqual([
      { revision: '2', value: expect.objectContaining({ attributes: { color: 'red', size: 3 } }) },
    ]);
    service = await startTestService(env);
    try {
      const get = await service.request('GET', '/api/2/things/org.pg:one');
      expect(get.status).toBe(200);
      expect(get.json.attributes).toEqual({ color: 'red', size: 3 });
      expect(get.headers.get('etag')).toBe('"rev:2"');
      const found = await service.request(
        'GET',
        `/api/2/search/things?filter=${encodeURIComponent('eq(attributes/size,3)')}`,
      );
      expect(found.json.items.map((t: { thingId: string }) => t.thingId)).toEqual(['org.pg:one']);
    } finally {
      await service.close();
    }
  });

  it('keeps connection secrets sealed in the table, reads them after a restart and seals them again with a rotated key', async () => {
    const endpoint = await getBroker('postgres');
    const pg = (driver ??= createPostgresDriver(endpoint));
    const schema = `tb_secrets_${Math.random().toString(36).slice(2, 10)}`;
    schemas.push(schema);
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const env = {
      TWINBRIDGE_STORE: 'postgres',
      TWINBRIDGE_POSTGRES_URL: endpoint.url,
      TWINBRIDGE_POSTGRES_SCHEMA: schema,
    };
    const body = {
      connectionType: 'mqtt',
      connectionStatus: 'closed',
      uri: `tcp://device:${password}@127.0.0.1:1`,
      sources: [{ addresses: ['s/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
    };
    const stored = async () =>
      JSON.stringify((await pg.query(`select * from ${schema}.entities where kind = 'connection'`)).rows);
    const first = randomBytes(32).toString('base64');
    const second = randomBytes(32).toString('base64');
    let id = '';
    const session = async (
      keys: Record<string, string>,
      check: (service: Awaited<ReturnType<typeof startTestService>>) => Promise<void>,
    ) => {
      const service = await startTestService({ ...env, ...keys });
      try {
        await check(service);
      } finally {
        await service.close();
      }
    };
    await session({ TWINBRIDGE_SECRETS_KEY: first }, async (service) => {
      const created = await service.request('POST', '/api/2/connections', { body, auth: 'devops:foobar' });
      expect(created.status).toBe(201);
      id = created.json.id;
    });
    const sealedWithFirst = await stored();
    expect(sealedWithFirst).toContain('tcp://device:encrypted_');
    expect(sealedWithFirst).not.toContain(password);
    await session({ TWINBRIDGE_SECRETS_KEY: second, TWINBRIDGE_SECRETS_OLD_KEYS: first }, async (service) => {
      expect(
        (await service.request('GET', `/api/2/connections/${id}`, { auth: 'devops:foobar' })).json.uri,
      ).toBe(body.uri);
    });
    const sealedWithSecond = await stored();
    expect(sealedWithSecond).not.toContain(password);
    expect(sealedWithSecond).not.toBe(sealedWithFirst);
    await session({ TWINBRIDGE_SECRETS_KEY: second }, async (service) => {
      expect(
        (await service.request('GET', `/api/2/connections/${id}`, { auth: 'devops:foobar' })).json.uri,
      ).toBe(body.uri);
    });
  });
});
