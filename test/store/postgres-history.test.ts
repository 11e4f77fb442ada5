/**
 * History on the PostgreSQL store through the running service (ditto: basic-history): historical reads over
 * HTTP, the SSE stream and the WebSocket streaming subscription, after a restart too; retention compacts the
 * journal rows without touching current states, and seqs go on after it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, keepBrokersUp, type BrokerEndpoint } from '../brokers/index.js';
import { createPostgresDriver, type PostgresDriver } from '../drivers/postgres.js';
import { startTestService } from '../helpers/app.js';
import { connectWs } from '../ws/client.js';

const SECRETS_KEY = randomBytes(32).toString('base64');

let endpoint: BrokerEndpoint;
let driver: PostgresDriver;
const schemas: string[] = [];

keepBrokersUp('postgres');

beforeAll(async () => {
  endpoint = await getBroker('postgres');
  driver = createPostgresDriver(endpoint);
});
afterAll(async () => {
  for (const schema of schemas) await driver.dropSchema(schema);
  await driver.close();
});

function pgEnv(extra: Record<string, string> = {}): Record<string, string> {
  const schema = `tb_history_${Math.random().toString(36).slice(2, 10)}`;
  schemas.push(schema);
  return {
    TWINBRIDGE_STORE: 'postgres',
    TWINBRIDGE_POSTGRES_URL: endpoint.url,
    TWINBRIDGE_POSTGRES_SCHEMA: schema,
    TWINBRIDGE_SECRETS_KEY: SECRETS_KEY,
    ...extra,
  };
}

describe('history on PostgreSQL', () => {
  it('serves historical reads and both streams, across a restart', async () => {
    const env = pgEnv({ TWINBRIDGE_HISTORICAL_HEADERS_TO_PERSIST: 'correlation-id' });
    const id = 'org.pg:history';
    let service = await startTestService(env);
    try {
      expect(
        (await service.request('PUT', `/api/2/things/${id}`, { body: { attributes: { n: 1 } } })).status,
      ).toBe(201);
      for (let r = 2; r <= 4; r++)
        expect(
          (
            await service.request('PUT', `/api/2/things/${id}/attributes/n`, {
              body: r,
              headers: { 'correlation-id': `pg-${r}` },
            })
          ).status,
        ).toBe(204);
    } finally {
      await service.close();
    }
    service = await startTestService(env);
    try {
      const at = await service.request('GET', `/api/2/things/${id}/attributes/n`, {
        headers: { 'at-historical-revision': '2' },
      });
      expect(at.json).toBe(2);
      expect(JSON.parse(at.headers.get('historical-headers')!)).toEqual({ 'correlation-id': 'pg-2' });
      const modified = (
        await service.request('GET', `/api/2/things/${id}?fields=_modified&at-historical-revision=3`)
      ).json._modified;
      expect(
        (
          await service.request('GET', `/api/2/things/${id}/attributes/n`, {
            headers: { 'at-historical-timestamp': new Date(Date.parse(modified) + 1).toISOString() },
          })
        ).json,
      ).toBe(3);
      expect((await service.request('GET', `/api/2/things/${id}?at-historical-revision=5`)).json.error).toBe(
        'things:thing.history.notfound',
      );
      expect(
        (await service.request('GET', `/api/2/policies/${id}?at-historical-revision=1`)).json.policyId,
      ).toBe(id);

      const sse = await fetch(
        `${service.url}/api/2/things/${id}?from-historical-revision=-3&fields=_revision,attributes`,
        {
          headers: {
            accept: 'text/event-stream',
            authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}`,
          },
        },
      );
      const lines = (await sse.text()).split('\n').filter((l) => l.startsWith('data:'));
      expect(lines.map((l) => JSON.parse(l.slice(5)))).toEqual(
        [2, 3, 4].map((r) => ({ attributes: { n: r }, _revision: r })),
      );

      const ws = await connectWs(service.url, 'ditto');
      try {
        ws.send({
          topic: 'org.pg/history/things/twin/streaming/subscribeForPersistedEvents',
          headers: {},
          path: '/',
          value: { toHistoricalRevision: -2 },
        });
        const created = (await ws.nextTopic('/streaming/created')) as Record<string, any>;
        ws.send({
          topic: 'org.pg/history/things/twin/streaming/request',
          headers: {},
          path: '/',
          value: { subscriptionId: created.value.subscriptionId, demand: 10 },
        });
        const items = [];
        for (let i = 0; i < 2; i++)
          items.push(((await ws.nextTopic('/streaming/next')) as Record<string, any>).value.item.revision);
        expect(items).toEqual([1, 2]);
        await ws.nextTopic('/streaming/complete');
      } finally {
        await ws.close();
      }
    } finally {
      await service.close();
    }
  });

  it('compacts journal rows past retention; current states stay and seqs go on', async () => {
    const env = pgEnv({
      TWINBRIDGE_HISTORY_RETENTION: '1s',
      TWINBRIDGE_HISTORY_COMPACTION_INTERVAL: '200ms',
    });
    const schema = env.TWINBRIDGE_POSTGRES_SCHEMA;
    const service = await startTestService(env);
    try {
      for (const id of ['org.pg:a', 'org.pg:b']) {
        expect(
          (await service.request('PUT', `/api/2/things/${id}`, { body: { attributes: { n: 1 } } })).status,
        ).toBe(201);
        expect((await service.request('PUT', `/api/2/things/${id}/attributes/n`, { body: 2 })).status).toBe(
          204,
        );
      }
      const before = await driver.query(`select max(seq)::int as top from ${schema}.journal`);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(
        (await service.request('GET', '/api/2/things/org.pg:a?at-historical-revision=1')).json.error,
      ).toBe('things:thing.history.notfound');
      // Rows of revision 1 of both things (and nothing else but them) go; the current ones and the policies stay.
      for (let i = 0; ; i++) {
        const { rows } = await driver.query<{ kind: string; id: string; revision: number }>(
          `select kind, id, revision::int from ${schema}.journal order by seq`,
        );
        if (rows.every((r) => r.revision === 2 || r.kind === 'policy')) {
          expect(rows).toEqual([
            { kind: 'policy', id: 'org.pg:a', revision: 1 },
            { kind: 'thing', id: 'org.pg:a', revision: 2 },
            { kind: 'policy', id: 'org.pg:b', revision: 1 },
            { kind: 'thing', id: 'org.pg:b', revision: 2 },
          ]);
          break;
        }
        if (i > 300) throw new Error(`not compacted: ${JSON.stringify(rows)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await service.request('GET', '/api/2/things/org.pg:a')).json.attributes).toEqual({ n: 2 });
      expect((await service.request('PUT', '/api/2/things/org.pg:a/attributes/n', { body: 3 })).status).toBe(
        204,
      );
      const after = await driver.query(`select max(seq)::int as top from ${schema}.journal`);
      expect(after.rows[0].top).toBe(before.rows[0].top + 1);
      // Revision 2 is history now, and older than the retention.
      expect(
        (await service.request('GET', '/api/2/things/org.pg:a?at-historical-revision=3')).json.attributes,
      ).toEqual({ n: 3 });
      expect(
        (await service.request('GET', '/api/2/things/org.pg:a?at-historical-revision=2')).json.error,
      ).toBe('things:thing.history.notfound');
    } finally {
      await service.close();
    }
  });
});
