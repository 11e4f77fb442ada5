import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, type BrokerEndpoint, keepBrokersUp } from '../brokers/index.js';
import { createPostgresDriver, type PostgresDriver } from '../drivers/postgres.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { ConcurrentModificationError, type EntityRecord, type Store } from '../../src/store/port.js';
import { storeSuite } from '../conformance/store.suite.js';

// The store conformance suite and PostgreSQL specifics against a real PostgreSQL (test/brokers): every
// case gets a schema of its own, dropped at the end.

let endpoint: BrokerEndpoint;
let driver: PostgresDriver;
const schemas: string[] = [];
const schemaOf = new WeakMap<Store, string>();

keepBrokersUp('postgres');

beforeAll(async () => {
  endpoint = await getBroker('postgres');
  driver = createPostgresDriver(endpoint);
});

afterAll(async () => {
  for (const schema of schemas) await driver.dropSchema(schema);
  await driver.close();
});

async function openStore(
  schema: string,
  options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {},
) {
  const store = new PostgresStore({ connectionString: endpoint.url, schema, poolSize: 4, ...options });
  await store.open();
  schemaOf.set(store, schema);
  return store;
}

async function freshSchema(): Promise<string> {
  const schema = `tb_store_${Math.random().toString(36).slice(2, 10)}`;
  schemas.push(schema);
  return schema;
}

storeSuite('postgres', {
  create: async () => openStore(await freshSchema()),
  reopen: async (store) => {
    await store.close();
    return openStore(schemaOf.get(store)!);
  },
  // Every row of every table of the store's schema, as text.
  persisted: async (store) => {
    const schema = schemaOf.get(store)!;
    const { rows: tables } = await driver.query(
      `select table_name from information_schema.tables where table_schema = $1`,
      [schema],
    );
    const dumps = await Promise.all(
      tables.map(async ({ table_name }) =>
        JSON.stringify((await driver.query(`select * from ${schema}.${table_name}`)).rows),
      ),
    );
    return dumps.join('\n');
  },
});

const at = '2026-01-01T00:00:00.000Z';
const rec = (id: string, revision: number, value: unknown = { thingId: id, revision }): EntityRecord => ({
  kind: 'thing',
  id,
  revision,
  created: at,
  modified: at,
  value,
});

describe('postgres store', () => {
  it('tells how long each committed batch took', async () => {
    const took: number[] = [];
    const store = await openStore(await freshSchema(), { onDurableWrite: (seconds) => took.push(seconds) });
    await store.write([{ record: rec('ns:timed', 1), expectedRevision: 0, event: { r: 1 } }]);
    await store.write([{ record: rec('ns:timed', 2), expectedRevision: 1, event: { r: 2 } }]);
    expect(took).toHaveLength(2);
    for (const seconds of took) {
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(30);
    }
    await store.close();
  });

  it('accepts a chain of revisions issued before the first is durable, in one batch', async () => {
    const store = await openStore(await freshSchema());
    const writes = [1, 2, 3, 4].map((r) =>
      store.write([{ record: rec('ns:a', r), expectedRevision: r - 1, event: { r } }]),
    );
    await Promise.all(writes);
    expect((await store.get('thing', 'ns:a'))?.revision).toBe(4);
    const journal = [];
    for await (const e of store.readJournal(0)) journal.push(e.revision);
    expect(journal).toEqual([1, 2, 3, 4]);
    await store.close();
  });

  it('rejects the later writes of a chain whose first link is stale', async () => {
    const store = await openStore(await freshSchema());
    await store.write([{ record: rec('ns:a', 1), expectedRevision: 0 }]);
    const results = await Promise.allSettled([
      store.write([{ record: rec('ns:a', 2), expectedRevision: 5 }]),
      store.write([{ record: rec('ns:a', 3), expectedRevision: 2 }]),
      store.write([{ record: rec('ns:b', 1), expectedRevision: 0 }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      expectedRevision: 2,
      actualRevision: 1,
    });
    expect((await store.get('thing', 'ns:a'))?.revision).toBe(1);
    await store.close();
  });

  it('never loses an update when two instances write the same entities concurrently', async () => {
    const schema = await freshSchema();
    const a = await openStore(schema);
    const b = await openStore(schema);
    // Each instance reads-modifies-writes a counter per entity; a lost update would leave a revision
    // below the number of successful writes.
    let successes = 0;
    const worker = async (store: Store, rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        await Promise.all(
          ['ns:x', 'ns:y'].map(async (id) => {
            const current = await store.get('thing', id);
            const revision = (current?.revision ?? 0) + 1;
            try {
              await store.write([
                { record: rec(id, revision), expectedRevision: revision - 1, event: { id, revision } },
              ]);
              successes++;
            } catch (err) {
              expect(err).toBeInstanceOf(ConcurrentModificationError);
            }
          }),
        );
      }
    };
    await Promise.all([worker(a, 40), worker(b, 40)]);
    const x = (await a.get('thing', 'ns:x'))!.revision;
    const y = (await a.get('thing', 'ns:y'))!.revision;
    expect(x + y).toBe(successes);
    const journal = [];
    for await (const e of b.readJournal(0)) journal.push(e);
    expect(journal).toHaveLength(successes);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    for (const id of ['ns:x', 'ns:y']) {
      expect(journal.filter((e) => e.id === id).map((e) => e.revision)).toEqual(
        Array.from({ length: id === 'ns:x' ? x : y }, (_, i) => i + 1),
      );
    }
    await a.close();
    await b.close();
  });

  it('fails only the write PostgreSQL refuses and commits the others of its batch', async () => {
    const store = await openStore(await freshSchema());
    const results = await Promise.allSettled([
      store.write([{ record: rec('ns:a', 1), expectedRevision: 0 }]),
      store.write([{ record: rec('ns:bad', 1, { text: 'nul \u0000 inside' }), expectedRevision: 0 }]),
      store.write([{ record: rec('ns:c', 1), expectedRevision: 0 }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.get('thing', 'ns:bad')).toBeUndefined();
    expect((await store.get('thing', 'ns:c'))?.revision).toBe(1);
    await store.close();
  });

  it('lists more records than one page and reads a journal longer than one page', async () => {
    const store = await openStore(await freshSchema());
    await Promise.all(
      Array.from({ length: 2500 }, (_, i) =>
        store.write([{ record: rec(`ns:t${i}`, 1), expectedRevision: 0, event: { i } }]),
      ),
    );
    let n = 0;
    for await (const r of store.list('thing')) if (r.revision === 1) n++;
    expect(n).toBe(2500);
    let last = 0;
    let count = 0;
    for await (const e of store.readJournal(0)) {
      expect(e.seq).toBeGreaterThan(last);
      last = e.seq;
      count++;
    }
    expect(count).toBe(2500);
    expect(store.lastSeq()).toBe(last);
    await store.close();
  });

  it('creates its tables once when several instances open the same schema at the same time', async () => {
    const schema = await freshSchema();
    const stores = await Promise.all([openStore(schema), openStore(schema), openStore(schema)]);
    await stores[0].write([{ record: rec('ns:a', 1), expectedRevision: 0 }]);
    expect((await stores[2].get('thing', 'ns:a'))?.revision).toBe(1);
    const { rows } = await driver.query(`select count(*)::int as n from ${schema}.schema_migrations`);
    expect(rows[0].n).toBe(9);
    // …and they share one key, whichever created it
    const keys = await Promise.all(stores.map((s) => s.sharedKey('search-cursors')));
    expect(keys.every((k) => k.equals(keys[0]))).toBe(true);
    for (const s of stores) await s.close();
  });
});
