/**
 * The store conformance suite: every Store implementation runs these cases by passing a factory
 * (aedes-persistence style). `reopen` must give a new Store over the same durable data, as after a
 * restart of the process.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ConcurrentModificationError, type EntityRecord, type Store } from '../../src/store/port.js';
import type { ConnectionJson } from '../../src/connectivity/model.js';
import { openSecrets, sealSecrets, secretFields } from '../../src/connectivity/secrets.js';
import { SecretKeyRing, SecretOpenError } from '../../src/util/secret-box.js';

export interface StoreHarness {
  /** A fresh, empty, opened store. */
  create(): Promise<Store>;
  /** Closes `store` and opens a new one over the same data. */
  reopen(store: Store): Promise<Store>;
  /** Everything the store keeps durably (files, table rows) as text, to check what is on disk. */
  persisted(store: Store): Promise<string>;
}

const at = '2026-01-01T00:00:00.000Z';
const thing = (id: string, revision: number, value: unknown = { thingId: id, n: revision }): EntityRecord => ({
  kind: 'thing',
  id,
  revision,
  created: at,
  modified: at,
  value,
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function storeSuite(name: string, harness: StoreHarness): void {
  describe(`store conformance: ${name}`, () => {
    it('creates a shared key once and returns the same key after a reopen, another name another key', async () => {
      let store = await harness.create();
      const [first, again] = await Promise.all([store.sharedKey('search-cursors'), store.sharedKey('search-cursors')]);
      expect(first).toHaveLength(32);
      expect(again.equals(first)).toBe(true);
      store = await harness.reopen(store);
      expect((await store.sharedKey('search-cursors')).equals(first)).toBe(true);
      expect((await store.sharedKey('other')).equals(first)).toBe(false);
      await store.close();
    });

    it('returns what was written once the write resolved', async () => {
      const store = await harness.create();
      await store.write([{ record: thing('ns:a', 1), expectedRevision: 0 }]);
      expect(await store.get('thing', 'ns:a')).toEqual(thing('ns:a', 1));
      expect(await store.get('thing', 'ns:missing')).toBeUndefined();
      expect(await store.get('policy', 'ns:a')).toBeUndefined();
      await store.close();
    });

    it('keeps every acknowledged write across a reopen', async () => {
      let store = await harness.create();
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.write([{ record: thing(`ns:t${i}`, 1), expectedRevision: 0 }])),
      );
      await store.write([{ record: thing('ns:t0', 2), expectedRevision: 1 }]);
      store = await harness.reopen(store);
      const all = await collect(store.list('thing'));
      expect(all).toHaveLength(200);
      expect((await store.get('thing', 'ns:t0'))?.revision).toBe(2);
      await store.close();
    });

    it('rejects a write whose expected revision is stale and writes none of its changes', async () => {
      const store = await harness.create();
      await store.write([{ record: thing('ns:a', 1), expectedRevision: 0 }]);
      await expect(
        store.write([
          { record: thing('ns:b', 1), expectedRevision: 0 },
          { record: thing('ns:a', 2), expectedRevision: 0 },
        ]),
      ).rejects.toBeInstanceOf(ConcurrentModificationError);
      expect(await store.get('thing', 'ns:b')).toBeUndefined();
      await expect(store.write([{ record: thing('ns:a', 1), expectedRevision: 0 }])).rejects.toMatchObject({
        retriable: true,
        actualRevision: 1,
      });
      await store.close();
    });

    it('lets exactly one of two concurrent writers of the same revision win', async () => {
      const store = await harness.create();
      await store.write([{ record: thing('ns:a', 1), expectedRevision: 0 }]);
      const results = await Promise.allSettled([
        store.write([{ record: thing('ns:a', 2, { who: 'x' }), expectedRevision: 1 }]),
        store.write([{ record: thing('ns:a', 2, { who: 'y' }), expectedRevision: 1 }]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store.get('thing', 'ns:a'))?.revision).toBe(2);
      await store.close();
    });

    it('keeps a deleted record with its revision so a re-creation continues counting', async () => {
      let store = await harness.create();
      await store.write([{ record: thing('ns:a', 1), expectedRevision: 0 }]);
      await store.write([{ record: thing('ns:a', 2, null), expectedRevision: 1 }]);
      store = await harness.reopen(store);
      expect(await store.get('thing', 'ns:a')).toMatchObject({ revision: 2, value: null });
      await store.write([{ record: thing('ns:a', 3), expectedRevision: 2 }]);
      expect((await store.get('thing', 'ns:a'))?.revision).toBe(3);
      await store.close();
    });

    it('writes several kinds atomically in one call', async () => {
      let store = await harness.create();
      const policy: EntityRecord = { kind: 'policy', id: 'ns:a', revision: 1, created: at, modified: at, value: { policyId: 'ns:a' } };
      await store.write([
        { record: policy, expectedRevision: 0 },
        { record: thing('ns:a', 1), expectedRevision: 0 },
      ]);
      store = await harness.reopen(store);
      expect(await store.get('policy', 'ns:a')).toEqual(policy);
      expect(await store.get('thing', 'ns:a')).toEqual(thing('ns:a', 1));
      expect(await collect(store.list('policy'))).toHaveLength(1);
      await store.close();
    });

    it('journals events in write order and reads them back after a given position', async () => {
      let store = await harness.create();
      for (let r = 1; r <= 5; r++) {
        await store.write([{ record: thing('ns:a', r), expectedRevision: r - 1, event: { revision: r } }]);
      }
      store = await harness.reopen(store);
      const all = await collect(store.readJournal(0));
      expect(all.map((e) => e.revision)).toEqual([1, 2, 3, 4, 5]);
      expect(all.map((e) => e.event)).toEqual([1, 2, 3, 4, 5].map((revision) => ({ revision })));
      const seqs = all.map((e) => e.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(store.lastSeq()).toBe(seqs.at(-1));
      const tail = await collect(store.readJournal(seqs[2]));
      expect(tail.map((e) => e.revision)).toEqual([4, 5]);
      await store.close();
    });

    it("persists a connection's secrets only sealed, opens them after a reopen, and with a rotated key", async () => {
      const fields = secretFields(undefined);
      const password = `pw-${randomBytes(6).toString('hex')}`;
      const clientKey = `-----BEGIN PRIVATE KEY-----${randomBytes(12).toString('hex')}`;
      const connection: ConnectionJson = {
        id: 'secret-connection',
        connectionType: 'mqtt',
        connectionStatus: 'closed',
        uri: `ssl://device:${password}@broker.example:8883`,
        credentials: { type: 'client-cert', cert: 'CERT', key: clientKey },
      };
      const oldKey = randomBytes(32);
      const sealed = sealSecrets(connection, fields, new SecretKeyRing(oldKey));
      let store = await harness.create();
      await store.write([{ record: { kind: 'connection', id: connection.id, revision: 1, created: at, modified: at, value: sealed }, expectedRevision: 0 }]);
      store = await harness.reopen(store);
      const onDisk = await harness.persisted(store);
      expect(onDisk).toContain('encrypted_');
      expect(onDisk).toContain('broker.example');
      for (const secret of [password, clientKey]) expect(onDisk).not.toContain(secret);

      const stored = (await store.get('connection', connection.id))!.value as ConnectionJson;
      expect(openSecrets(stored, fields, new SecretKeyRing(oldKey))).toEqual({ json: connection, stale: false });
      // Rotation: a ring with a new key still opens it (stale: seal it again), the new seal no longer needs the old key.
      const newKey = randomBytes(32);
      const rotated = new SecretKeyRing(newKey, [oldKey]);
      expect(openSecrets(stored, fields, rotated)).toEqual({ json: connection, stale: true });
      await store.write([{ record: { kind: 'connection', id: connection.id, revision: 2, created: at, modified: at, value: sealSecrets(connection, fields, rotated) }, expectedRevision: 1 }]);
      store = await harness.reopen(store);
      const resealed = (await store.get('connection', connection.id))!.value as ConnectionJson;
      expect(openSecrets(resealed, fields, new SecretKeyRing(newKey))).toEqual({ json: connection, stale: false });
      expect(() => openSecrets(resealed, fields, new SecretKeyRing(oldKey))).toThrow(SecretOpenError);
      const onDiskAfter = await harness.persisted(store);
      for (const secret of [password, clientKey]) expect(onDiskAfter).not.toContain(secret);
      await store.close();
    });
  });
}
