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

afterAll(async () => {
  for (const schema of schemas) await driver?.dropSchema(schema);
  await driver?.close();
});

describe('service on the PostgreSQL store', () => {
  it('requires TWINBRIDGE_POSTGRES_URL with TWINBRIDGE_STORE=postgres and never echoes the URL', () => {
    expect(() => loadConfig({ TWINBRIDGE_STORE: 'postgres' })).toThrow(/TWINBRIDGE_POSTGRES_URL must be set/);
    expect(() => loadConfig({ TWINBRIDGE_STORE: 'mongo' })).toThrow(/TWINBRIDGE_STORE/);
    const config = loadConfig({ TWINBRIDGE_STORE: 'postgres', TWINBRIDGE_POSTGRES_URL: 'postgres://u:s3cret@h/db' });
    expect(config).toMatchObject({ store: 'postgres', postgresUrl: 'postgres://u:s3cret@h/db', postgresPoolSize: 10, postgresSchema: 'twinbridge' });
    expect(loadConfig({}).store).toBe('embedded');
  });

  it('serves after a restart what it wrote before, search included', async () => {
    const endpoint = await getBroker('postgres');
    driver = createPostgresDriver(endpoint);
    const schema = `tb_service_${Math.random().toString(36).slice(2, 10)}`;
    schemas.push(schema);
    const env = { TWINBRIDGE_STORE: 'postgres', TWINBRIDGE_POSTGRES_URL: endpoint.url, TWINBRIDGE_POSTGRES_SCHEMA: schema };
    let service = await startTestService(env);
    try {
      const put = await service.request('PUT', '/api/2/things/org.pg:one', { body: { attributes: { color: 'red' } } });
      expect(put.status).toBe(201);
      const patch = await service.request('PATCH', '/api/2/things/org.pg:one/attributes', { body: { size: 3 } });
      expect(patch.status).toBe(204);
    } finally {
      await service.close();
    }
    const { rows } = await driver.query(`select revision, value from ${schema}.entities where kind = 'thing' and id = 'org.pg:one'`);
    expect(rows).toEqual([{ revision: '2', value: expect.objectContaining({ attributes: { color: 'red', size: 3 } }) }]);
    service = await startTestService(env);
    try {
      const get = await service.request('GET', '/api/2/things/org.pg:one');
      expect(get.status).toBe(200);
      expect(get.json.attributes).toEqual({ color: 'red', size: 3 });
      expect(get.headers.get('etag')).toBe('"rev:2"');
      const found = await service.request('GET', `/api/2/search/things?filter=${encodeURIComponent('eq(attributes/size,3)')}`);
      expect(found.json.items.map((t: { thingId: string }) => t.thingId)).toEqual(['org.pg:one']);
    } finally {
      await service.close();
    }
  });
});
