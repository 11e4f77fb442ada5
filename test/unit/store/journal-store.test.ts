import { mkdtemp, readdir, appendFile, rm, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalStore } from '../../../src/store/embedded/journal-store.js';
import type { EntityRecord, Store } from '../../../src/store/port.js';
import { storeSuite } from '../../conformance/store.suite.js';

const dirs = new WeakMap<Store, string>();
async function openAt(dir: string, options: Partial<ConstructorParameters<typeof JournalStore>[0]> = {}) {
  const store = new JournalStore({ dir, ...options });
  await store.open();
  dirs.set(store, dir);
  return store;
}

/** Every file of the store's directory, concatenated. */
async function persisted(store: Store): Promise<string> {
  const dir = dirs.get(store)!;
  const files = await readdir(dir);
  return (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n');
}

storeSuite('embedded journal', {
  create: async () => openAt(await mkdtemp(path.join(tmpdir(), 'tb-store-'))),
  reopen: async (store) => {
    await store.close();
    return openAt(dirs.get(store)!);
  },
  persisted,
});

storeSuite('embedded journal with frequent snapshots', {
  create: async () => openAt(await mkdtemp(path.join(tmpdir(), 'tb-store-')), { snapshotAfterBytes: 600 }),
  reopen: async (store) => {
    await store.close();
    return openAt(dirs.get(store)!, { snapshotAfterBytes: 600 });
  },
  persisted,
});

describe('embedded journal files', () => {
  it('are readable by the owner only: the directory 0700, its files 0600, also those written with wider modes before', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    await chmod(dir, 0o755);
    let store = await openAt(dir, { snapshotAfterBytes: 300 });
    for (let r = 1; r <= 20; r++) await store.write([{ record: rec('ns:mode', r), expectedRevision: r - 1 }]);
    await store.close();
    const files = await readdir(dir);
    expect(files.some((f) => f.startsWith('snapshot-'))).toBe(true);
    for (const f of files) await chmod(path.join(dir, f), 0o644);
    await chmod(dir, 0o755);
    store = await openAt(dir);
    await store.write([{ record: rec('ns:mode', 21), expectedRevision: 20 }]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const f of await readdir(dir)) expect((await stat(path.join(dir, f))).mode & 0o777, f).toBe(0o600);
    await store.close();
  });

  it('leaves the mode of a directory that holds other files alone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    await writeFile(path.join(dir, 'someone-elses.txt'), 'x');
    await chmod(dir, 0o755);
    const store = await openAt(dir);
    await store.write([{ record: rec('ns:shared', 1), expectedRevision: 0 }]);
    await store.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o755);
    for (const f of (await readdir(dir)).filter((f) => f.startsWith('journal-')))
      expect((await stat(path.join(dir, f))).mode & 0o777).toBe(0o600);
  });
});

const rec = (id: string, revision: number): EntityRecord => ({
  kind: 'thing',
  id,
  revision,
  created: 'c',
  modified: 'm',
  value: { id, revision },
});

describe('embedded journal write timing', () => {
  it('tells how long each durable append took, once per group-commit batch', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    const took: number[] = [];
    const store = await openAt(dir, { onDurableWrite: (seconds) => took.push(seconds) });
    await store.write([{ record: rec('ns:a', 1), expectedRevision: 0 }]);
    expect(took).toHaveLength(1);
    // Issued in one tick: the first goes alone, the next two share the following append.
    await Promise.all(
      [1, 2, 3].map((n) => store.write([{ record: rec(`ns:b${n}`, 1), expectedRevision: 0 }])),
    );
    expect(took).toHaveLength(3);
    for (const seconds of took) {
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(10);
    }
    await store.close();
    await rm(dir, { recursive: true });
  });
});

describe('embedded journal recovery', () => {
  it('drops a torn last line left by a crash and keeps every complete one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    let store = await openAt(dir);
    await store.write([{ record: rec('ns:a', 1), expectedRevision: 0 }]);
    await store.write([{ record: rec('ns:a', 2), expectedRevision: 1 }]);
    await store.close();
    const [journal] = (await readdir(dir)).filter((f) => f.startsWith('journal-'));
    await appendFile(path.join(dir, journal), '0badc0de {"s":3,"c":[{"r":{"kind":"thing","id":"ns:a","rev');
    store = await openAt(dir);
    expect((await store.get('thing', 'ns:a'))?.revision).toBe(2);
    await store.write([{ record: rec('ns:a', 3), expectedRevision: 2 }]);
    await store.close();
    store = await openAt(dir);
    expect((await store.get('thing', 'ns:a'))?.revision).toBe(3);
    await store.close();
    await rm(dir, { recursive: true });
  });

  it("keeps batches larger than its batch buffer, with multi-byte text and the writer's value text, across a reopen", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    let store = await openAt(dir);
    // ~1.5 MB of 3-byte characters in one line, between small lines of the same batch (the first write
    // goes alone: the batch buffer then grows with lines in it).
    const big = { text: '€'.repeat(500_000) };
    const small = (i: number) => store.write([{ record: rec(`ns:s${i}`, 1), expectedRevision: 0 }]);
    const writes = [
      ...Array.from({ length: 20 }, (_, i) => small(i)),
      store.write([{ record: { ...rec('ns:big', 1), value: big }, expectedRevision: 0 }]),
      ...Array.from({ length: 30 }, (_, i) => small(20 + i)),
      store.write([
        {
          record: { ...rec('ns:text', 1), value: { given: true } },
          expectedRevision: 0,
          valueJson: '{"given":"as the writer made it"}',
        },
      ]),
    ];
    await Promise.all(writes);
    await store.close();
    store = await openAt(dir);
    expect((await store.get('thing', 'ns:big'))?.value).toEqual(big);
    for (const i of [0, 1, 19, 20, 49]) expect((await store.get('thing', `ns:s${i}`))?.revision).toBe(1);
    // The journal holds the writer's text of the value (Change.valueJson), read back after a restart.
    expect((await store.get('thing', 'ns:text'))?.value).toEqual({ given: 'as the writer made it' });
    await store.close();
    await rm(dir, { recursive: true });
  });

  it('ignores a line whose checksum does not match', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    let store = await openAt(dir);
    await store.write([{ record: rec('ns:a', 1), expectedRevision: 0 }]);
    await store.close();
    const [journal] = (await readdir(dir)).filter((f) => f.startsWith('journal-'));
    await appendFile(path.join(dir, journal), '00000000 {"s":2,"c":[]}\n');
    store = await openAt(dir);
    expect(store.lastSeq()).toBe(1);
    await store.close();
  });

  it('snapshots once the journal exceeds the size limit and keeps the journals as history until compaction', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    const at = (r: number) => new Date(Date.UTC(2026, 0, 1, 0, r)).toISOString();
    let store = await openAt(dir, { snapshotAfterBytes: 1000 });
    for (let r = 1; r <= 50; r++)
      await store.write([{ record: { ...rec('ns:a', r), modified: at(r) }, expectedRevision: r - 1 }]);
    // Snapshots are written beside the journal; close waits for the one under way.
    await store.close();
    let files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    const journals = files.filter((f) => f.startsWith('journal-')).length;
    expect(journals).toBeGreaterThan(5);
    store = await openAt(dir, { snapshotAfterBytes: 1000 });
    expect((await store.get('thing', 'ns:a'))?.revision).toBe(50);
    expect((await store.historyAt('thing', 'ns:a', { revision: 1 }))?.record.modified).toBe(at(1));
    // Nothing but the current state is kept: the journals the snapshot covers go (empty ones are removed).
    expect(await store.compactHistory({ defaultMs: 0 }, Date.parse(at(60)))).toBe(49);
    files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('journal-')).length).toBeLessThanOrEqual(3);
    await store.close();
    store = await openAt(dir);
    expect((await store.get('thing', 'ns:a'))?.revision).toBe(50);
    expect(await store.historyAt('thing', 'ns:a', { revision: 49 })).toBeUndefined();
    expect((await store.historyAt('thing', 'ns:a', { revision: 50 }))?.record.revision).toBe(50);
    await store.close();
  });
});

describe('embedded journal history index', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();

  it('never takes a value that looks like a record head for one, across a reopen with snapshots', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    // A value shaped like the start of a journal line and like a record, in single and multi-change lines.
    const spoof = {
      text: '{"s":1,"n":1,"c":[{"r":{"kind":"thing","id":"ns:spoof","revision":7',
      r: { kind: 'thing', id: 'ns:spoof', revision: 7, created: at(0), modified: at(0) },
    };
    let store = await openAt(dir, { snapshotAfterBytes: 400 });
    for (let r = 1; r <= 6; r++) {
      await store.write([
        { record: { ...rec('ns:victim', r), modified: at(r), value: spoof }, expectedRevision: r - 1 },
        ...(r === 1
          ? [
              {
                record: { ...rec('ns:other', 1), kind: 'policy' as const, modified: at(r), value: spoof },
                expectedRevision: 0,
              },
            ]
          : []),
      ]);
    }
    await store.close();
    store = await openAt(dir, { snapshotAfterBytes: 400 });
    expect(await store.historyAt('thing', 'ns:spoof', {})).toBeUndefined();
    for (let r = 1; r <= 6; r++)
      expect((await store.historyAt('thing', 'ns:victim', { revision: r }))?.record.value).toEqual(spoof);
    expect((await store.historyAt('policy', 'ns:other', {}))?.record.revision).toBe(1);
    await store.close();
    await rm(dir, { recursive: true });
  });

  it('indexes and replays lines of the format before history (no change count)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-store-'));
    const { writeFile } = await import('node:fs/promises');
    const { crc32 } = await import('node:zlib');
    const line = (json: string) => `${crc32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`;
    const record = (r: number) =>
      JSON.stringify({
        kind: 'thing',
        id: 'ns:old',
        revision: r,
        created: at(0),
        modified: at(r),
        value: { r },
      });
    await writeFile(
      path.join(dir, 'journal-1.log'),
      line(`{"s":1,"c":[{"r":${record(1)},"e":{"revision":1}}]}`) + line(`{"s":2,"c":[{"r":${record(2)}}]}`),
    );
    const store = await openAt(dir);
    expect((await store.get('thing', 'ns:old'))?.revision).toBe(2);
    expect(await store.historyAt('thing', 'ns:old', { revision: 1 })).toMatchObject({
      seq: 1,
      record: { value: { r: 1 } },
      event: { revision: 1 },
    });
    await store.write([{ record: { ...rec('ns:old', 3), modified: at(3) }, expectedRevision: 2 }]);
    expect(await collectRevisions(store)).toEqual([1, 2, 3]);
    await store.close();
    await rm(dir, { recursive: true });
  });
});

async function collectRevisions(store: Store): Promise<number[]> {
  const out: number[] = [];
  for await (const e of store.history('thing', 'ns:old', { fromRevision: 0, toRevision: 99 }))
    out.push(e.record.revision);
  return out;
}
