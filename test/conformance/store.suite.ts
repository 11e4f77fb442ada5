/**
 * The store conformance suite: every Store implementation runs these cases by passing a factory
 * (aedes-persistence style). `reopen` must give a new Store over the same durable data, as after a
 * restart of the process.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  ConcurrentModificationError,
  type EntityKind,
  type EntityRecord,
  type HistoryEntry,
  type Store,
} from '../../src/store/port.js';
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
const thing = (
  id: string,
  revision: number,
  value: unknown = { thingId: id, n: revision },
): EntityRecord => ({
  kind: 'thing',
  id,
  revision,
  created: at,
  modified: at,
  value,
});

/** An instant `minute` minutes into 2026 (ISO text and epoch ms). */
const minute = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
const ms = (m: number) => Date.parse(minute(m));
const version = (
  kind: EntityKind,
  id: string,
  revision: number,
  m: number,
  value: unknown = { id, revision },
): EntityRecord => ({
  kind,
  id,
  revision,
  created: minute(0),
  modified: minute(m),
  value,
});
const revisions = (entries: HistoryEntry[]) => entries.map((e) => e.record.revision);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function storeSuite(name: string, harness: StoreHarness): void {
  describe(`store conformance: ${name}`, () => {
    it('creates a shared key once and returns the same key after a reopen, another name another key', async () => {
      let store = await harness.create();
      const [first, again] = await Promise.all([
        store.sharedKey('search-cursors'),
        store.sharedKey('search-cursors'),
      ]);
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
        Array.from({ length: 200 }, (_, i) =>
          store.write([{ record: thing(`ns:t${i}`, 1), expectedRevision: 0 }]),
        ),
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
      const policy: EntityRecord = {
        kind: 'policy',
        id: 'ns:a',
        revision: 1,
        created: at,
        modified: at,
        value: { policyId: 'ns:a' },
      };
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
      await store.write([
        {
          record: {
            kind: 'connection',
            id: connection.id,
            revision: 1,
            created: at,
            modified: at,
            value: sealed,
          },
          expectedRevision: 0,
        },
      ]);
      store = await harness.reopen(store);
      const onDisk = await harness.persisted(store);
      expect(onDisk).toContain('encrypted_');
      expect(onDisk).toContain('broker.example');
      for (const secret of [password, clientKey]) expect(onDisk).not.toContain(secret);

      const stored = (await store.get('connection', connection.id))!.value as ConnectionJson;
      expect(openSecrets(stored, fields, new SecretKeyRing(oldKey))).toEqual({
        json: connection,
        stale: false,
      });
      // Rotation: a ring with a new key still opens it (stale: seal it again), the new seal no longer needs the old key.
      const newKey = randomBytes(32);
      const rotated = new SecretKeyRing(newKey, [oldKey]);
      expect(openSecrets(stored, fields, rotated)).toEqual({ json: connection, stale: true });
      await store.write([
        {
          record: {
            kind: 'connection',
            id: connection.id,
            revision: 2,
            created: at,
            modified: at,
            value: sealSecrets(connection, fields, rotated),
          },
          expectedRevision: 1,
        },
      ]);
      store = await harness.reopen(store);
      const resealed = (await store.get('connection', connection.id))!.value as ConnectionJson;
      expect(openSecrets(resealed, fields, new SecretKeyRing(newKey))).toEqual({
        json: connection,
        stale: false,
      });
      expect(() => openSecrets(resealed, fields, new SecretKeyRing(oldKey))).toThrow(SecretOpenError);
      const onDiskAfter = await harness.persisted(store);
      for (const secret of [password, clientKey]) expect(onDiskAfter).not.toContain(secret);
      await store.close();
    });

    describe('history', () => {
      /** Revisions 1…5 of `ns:h` at minutes 1…5, with events, and headers on revision 2. */
      async function fiveRevisions(store: Store): Promise<void> {
        for (let r = 1; r <= 5; r++) {
          await store.write([
            {
              record: version('thing', 'ns:h', r, r),
              expectedRevision: r - 1,
              event: { revision: r },
              ...(r === 2 ? { headers: { 'ditto-originator': 'nginx:ditto' } } : {}),
            },
          ]);
        }
      }

      it('keeps every revision, readable by revision and by instant, across a reopen', async () => {
        let store = await harness.create();
        await fiveRevisions(store);
        for (let pass = 0; pass < 2; pass++) {
          const third = await store.historyAt('thing', 'ns:h', { revision: 3 });
          expect(third).toMatchObject({ record: version('thing', 'ns:h', 3, 3), event: { revision: 3 } });
          expect(third?.headers).toBeUndefined();
          expect((await store.historyAt('thing', 'ns:h', { revision: 2 }))?.headers).toEqual({
            'ditto-originator': 'nginx:ditto',
          });
          // The latest revision modified strictly before the instant.
          expect((await store.historyAt('thing', 'ns:h', { before: ms(3) + 1 }))?.record.revision).toBe(3);
          expect((await store.historyAt('thing', 'ns:h', { before: ms(3) }))?.record.revision).toBe(2);
          expect(await store.historyAt('thing', 'ns:h', { before: ms(1) })).toBeUndefined();
          expect(
            (await store.historyAt('thing', 'ns:h', { revision: 4, before: ms(9) }))?.record.revision,
          ).toBe(4);
          expect((await store.historyAt('thing', 'ns:h', {}))?.record.revision).toBe(5);
          expect(await store.historyAt('thing', 'ns:other', { revision: 1 })).toBeUndefined();
          expect(await store.historyAt('policy', 'ns:h', { revision: 1 })).toBeUndefined();
          store = await harness.reopen(store);
        }
        await store.close();
      });

      it('streams a range of revisions in order, bounded by revisions and instants', async () => {
        const store = await harness.create();
        await fiveRevisions(store);
        const range = (r: Parameters<Store['history']>[2]) =>
          collect(store.history('thing', 'ns:h', r)).then(revisions);
        expect(await range({ fromRevision: 0, toRevision: Number.MAX_SAFE_INTEGER })).toEqual([
          1, 2, 3, 4, 5,
        ]);
        expect(await range({ fromRevision: 2, toRevision: 4 })).toEqual([2, 3, 4]);
        expect(await range({ fromRevision: 0, toRevision: 9, after: ms(2) })).toEqual([3, 4, 5]);
        expect(await range({ fromRevision: 0, toRevision: 9, before: ms(4) })).toEqual([1, 2, 3]);
        expect(await range({ fromRevision: 2, toRevision: 9, after: ms(1), before: ms(5) })).toEqual([
          2, 3, 4,
        ]);
        expect(await range({ fromRevision: 6, toRevision: 9 })).toEqual([]);
        const [second] = await collect(store.history('thing', 'ns:h', { fromRevision: 2, toRevision: 2 }));
        expect(second).toMatchObject({
          record: version('thing', 'ns:h', 2, 2),
          event: { revision: 2 },
          headers: { 'ditto-originator': 'nginx:ditto' },
        });
        // An entry's seq is its journal position: the journal after it holds the later revisions.
        const later = await collect(store.readJournal(second.seq));
        expect(later.filter((e) => e.id === 'ns:h').map((e) => e.revision)).toEqual([3, 4, 5]);
        await store.close();
      });

      it('keeps the history of every kind, deletions and re-creations included', async () => {
        let store = await harness.create();
        for (const kind of ['thing', 'policy', 'connection'] as const) {
          await store.write([{ record: version(kind, 'ns:k', 1, 1), expectedRevision: 0 }]);
          await store.write([{ record: version(kind, 'ns:k', 2, 2, null), expectedRevision: 1 }]);
          await store.write([{ record: version(kind, 'ns:k', 3, 3, { again: true }), expectedRevision: 2 }]);
        }
        store = await harness.reopen(store);
        for (const kind of ['thing', 'policy', 'connection'] as const) {
          const all = await collect(store.history(kind, 'ns:k', { fromRevision: 1, toRevision: 3 }));
          expect(all.map((e) => e.record.value)).toEqual([
            { id: 'ns:k', revision: 1 },
            null,
            { again: true },
          ]);
        }
        await store.close();
      });

      it('drops history past retention, per namespace, and keeps every current state, across a reopen', async () => {
        let store = await harness.create();
        // ns:h revisions at minutes 1…5; keep:h and short:h revisions at 1 and 2; ns:once once at minute 1.
        await fiveRevisions(store);
        for (const id of ['keep:h', 'short:h']) {
          await store.write([{ record: version('thing', id, 1, 1), expectedRevision: 0 }]);
          await store.write([{ record: version('thing', id, 2, 2), expectedRevision: 1 }]);
        }
        await store.write([{ record: version('thing', 'ns:once', 1, 1), expectedRevision: 0 }]);
        // A policy and a thing written together; the thing changes later, the policy does not.
        await store.write([
          { record: version('policy', 'ns:pair', 1, 1), expectedRevision: 0 },
          { record: version('thing', 'ns:pair', 1, 1), expectedRevision: 0 },
        ]);
        await store.write([{ record: version('thing', 'ns:pair', 2, 2), expectedRevision: 1 }]);
        // As of minute 6 with 2 minutes of history: revisions modified before minute 4 go.
        const dropped = await store.compactHistory(
          { defaultMs: 2 * 60_000, namespaces: { keep: null, short: 0 } },
          ms(6),
        );
        expect(dropped).toBe(3 + 1 + 1);
        for (let pass = 0; pass < 2; pass++) {
          expect(
            revisions(await collect(store.history('thing', 'ns:h', { fromRevision: 0, toRevision: 9 }))),
          ).toEqual([4, 5]);
          expect(await store.historyAt('thing', 'ns:h', { revision: 3 })).toBeUndefined();
          expect(
            revisions(await collect(store.history('thing', 'keep:h', { fromRevision: 0, toRevision: 9 }))),
          ).toEqual([1, 2]);
          expect(
            revisions(await collect(store.history('thing', 'short:h', { fromRevision: 0, toRevision: 9 }))),
          ).toEqual([2]);
          // Current states stay, in the store and in history.
          expect((await store.historyAt('thing', 'ns:once', {}))?.record).toEqual(
            version('thing', 'ns:once', 1, 1),
          );
          expect((await store.historyAt('policy', 'ns:pair', { revision: 1 }))?.record).toEqual(
            version('policy', 'ns:pair', 1, 1),
          );
          expect(
            revisions(await collect(store.history('thing', 'ns:pair', { fromRevision: 0, toRevision: 9 }))),
          ).toEqual([2]);
          expect(await store.get('thing', 'ns:h')).toEqual(version('thing', 'ns:h', 5, 5));
          expect(await store.get('policy', 'ns:pair')).toEqual(version('policy', 'ns:pair', 1, 1));
          expect(await collect(store.list('thing'))).toHaveLength(5);
          store = await harness.reopen(store);
        }
        // Writing goes on, and the new revisions are history too.
        await store.write([
          { record: version('thing', 'ns:h', 6, 7), expectedRevision: 5, event: { revision: 6 } },
        ]);
        expect(
          revisions(await collect(store.history('thing', 'ns:h', { fromRevision: 0, toRevision: 9 }))),
        ).toEqual([4, 5, 6]);
        expect(
          await store.compactHistory({ defaultMs: 2 * 60_000, namespaces: { keep: null, short: 0 } }, ms(6)),
        ).toBe(0);
        expect(await store.compactHistory({}, ms(60))).toBe(0);
        store = await harness.reopen(store);
        expect((await store.get('thing', 'ns:h'))?.revision).toBe(6);
        await store.close();
      });
    });
  });
}
