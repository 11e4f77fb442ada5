/**
 * The embedded store: an append-only journal with snapshots, all state in memory, no server to run.
 *
 * Why this and not SQLite or LMDB: fdatasync on this class of disk costs 0.1–0.3 ms, so a journal with
 * group commit (every write that arrives while a flush is under way shares the next durable append) gives tens
 * of thousands of durable writes per second from pure TypeScript, with nothing native to install. The
 * twin state is kept in memory anyway (hot path), and the journal doubles as the event journal that
 * resumable streams read.
 *
 * Files in `dir`:
 *   journal-<firstSeq>.log   lines `<crc32 hex8> <json>\n`, one per write() call (atomic batch)
 *   snapshot-<seq>.json      all records as of seq, written to a temp file, fsynced and renamed
 *   <name>.key               32 random bytes of sharedKey(name), mode 0600
 * Recovery loads the newest complete snapshot, replays journal lines after it and stops at the first
 * torn or corrupt line (a crash mid-append), truncating the file there. Only lines that were durable
 * (O_DSYNC write, or write and fdatasync) were acknowledged, so nothing acknowledged is lost.
 *
 * Only the service's user may read the data: `dir` is made mode 0700 and the store's files 0600 (also
 * files written by an earlier version with wider modes, fixed on open).
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { promises as fsp } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { jsonTextIfCached } from '../../util/json-text.js';
import {
  ConcurrentModificationError,
  type Change,
  type EntityKind,
  type EntityRecord,
  type JournalEntry,
  type Store,
} from '../port.js';

export interface JournalStoreOptions {
  dir: string;
  /** Rotate the journal and write a snapshot when the current journal exceeds this size. */
  snapshotAfterBytes?: number;
  /** Journal files kept behind the newest snapshot, so streams can resume further back. */
  keepJournals?: number;
  /** Told when writing a snapshot failed (the journals it would replace are kept; the next rotation retries). */
  onSnapshotError?: (err: unknown) => void;
  /** Told how long each durable append (one group-commit batch) took, in seconds. */
  onDurableWrite?: (seconds: number) => void;
}

interface JournalLine {
  s: number;
  c: Array<{ r: EntityRecord; e?: unknown }>;
}

/** A write waiting for its batch to be durable. */
interface Pending {
  seq: number;
  changes: readonly Change[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Journal files are opened with O_DSYNC where the platform has it: a write returns once its data is as
 * durable as after fdatasync, in one system call (and one round trip to libuv's thread pool) instead of
 * two. Measured here: 230 µs per durable append instead of 360, a third less CPU. Elsewhere: write, then
 * fdatasync.
 */
const SYNCHRONOUS_WRITES = fs.constants.O_DSYNC !== undefined;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** The file of sharedKey('secrets'), which seals connection secrets when no key is configured (src/services.ts). */
export const SECRETS_KEY_FILE = 'secrets.key';
/** The files of a store directory (the keys of sharedKey among them). */
const OWN_FILE = /^(journal-\d+\.log|snapshot-\d+\.json(\.tmp)?|[a-z0-9-]{1,64}\.key)$/;
const JOURNAL_FLAGS = SYNCHRONOUS_WRITES ? fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_DSYNC : 'a';

/** Initial size of a batch buffer; a batch that needs more gets a larger one. */
const BATCH_BUFFER_BYTES = 1024 * 1024;

/**
 * The lines of the next batch, encoded straight into one buffer as they are written (no buffer per line,
 * no concatenation). Two take turns: one fills while the other is being written.
 */
class BatchBuffer {
  buf: Buffer;
  length = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Appends `<crc32 hex> <json>\n`: the checksum covers the line's bytes. */
  appendLine(json: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const need = this.length + json.length * 3 + 10;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    const start = this.length;
    const size = this.buf.write(json, start + 9);
    this.buf[start + 8] = 0x20;
    this.buf[start + 9 + size] = 0x0a;
    this.buf.write(crc32(this.buf.subarray(start + 9, start + 9 + size)).toString(16).padStart(8, '0'), start, 'latin1');
    this.length = start + size + 10;
  }
}

export class JournalStore implements Store {
  private readonly dir: string;
  private readonly snapshotAfterBytes: number;
  private readonly keepJournals: number;
  private readonly onSnapshotError: (err: unknown) => void;
  private readonly onDurableWrite: ((seconds: number) => void) | undefined;
  /** Durable state, per kind (a lookup by ID alone needs no key string built per read). */
  private readonly records: Record<EntityKind, Map<string, EntityRecord>> = { thing: new Map(), policy: new Map(), connection: new Map() };
  /** Revision of the latest accepted (maybe not yet durable) write per entity: guards concurrent writes. */
  private readonly accepted: Record<EntityKind, Map<string, number>> = { thing: new Map(), policy: new Map(), connection: new Map() };
  /** Writes of the next batch, in order; their records are applied to `records` once durable. */
  private pending: Pending[] = [];
  /** The next batch's lines; `spare` is the buffer of the batch being written, reused afterwards. */
  private filling = new BatchBuffer(BATCH_BUFFER_BYTES);
  private spare: BatchBuffer | undefined;
  private flushing: Promise<void> | undefined;
  private fd: fs.promises.FileHandle | undefined;
  private journalBytes = 0;
  private nextSeq = 1;
  private durableSeq = 0;
  private failed: Error | undefined;
  private closed = false;
  /** The snapshot being written beside the journal, if any. */
  private snapshotting: Promise<void> | undefined;

  constructor(options: JournalStoreOptions) {
    this.dir = options.dir;
    this.snapshotAfterBytes = options.snapshotAfterBytes ?? 64 * 1024 * 1024;
    this.keepJournals = options.keepJournals ?? 1;
    this.onSnapshotError = options.onSnapshotError ?? ((err) => process.emitWarning(`writing a journal snapshot failed: ${(err as Error).message}`));
    this.onDurableWrite = options.onDurableWrite;
  }

  async open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    const files = await fsp.readdir(this.dir);
    // A directory given to the store is narrowed only when it is empty or already holds a store's files
    // (never, say, a shared /tmp); the store's own files are narrowed always.
    const ours = files.filter((f) => OWN_FILE.test(f));
    if (files.length === 0 || ours.length > 0) await fsp.chmod(this.dir, DIR_MODE);
    for (const f of ours) await fsp.chmod(path.join(this.dir, f), FILE_MODE);
    const snapshots = seqsOf(files, 'snapshot-', '.json');
    const journals = seqsOf(files, 'journal-', '.log');
    let snapshotSeq = 0;
    const newest = snapshots.at(-1);
    if (newest !== undefined) {
      const snapshot = JSON.parse(await fsp.readFile(this.file('snapshot', newest), 'utf8')) as {
        seq: number;
        records: EntityRecord[];
      };
      for (const r of snapshot.records) this.records[r.kind].set(r.id, r);
      snapshotSeq = snapshot.seq;
    }
    this.durableSeq = snapshotSeq;
    let current: number | undefined;
    for (const first of journals) {
      current = first;
      await this.replay(first, snapshotSeq);
    }
    for (const r of this.allRecords()) this.accepted[r.kind].set(r.id, r.revision);
    this.nextSeq = this.durableSeq + 1;
    if (current === undefined) current = this.nextSeq;
    this.fd = await fsp.open(this.file('journal', current), JOURNAL_FLAGS, FILE_MODE);
    this.journalBytes = (await this.fd.stat()).size;
    await fsyncDir(this.dir);
  }

  private file(kind: 'journal' | 'snapshot', seq: number): string {
    return path.join(this.dir, kind === 'journal' ? `journal-${seq}.log` : `snapshot-${seq}.json`);
  }

  /** Applies the valid lines of one journal file; truncates a torn tail. */
  private async replay(first: number, afterSeq: number): Promise<void> {
    const file = this.file('journal', first);
    const data = await fsp.readFile(file);
    let offset = 0;
    while (offset < data.length) {
      const end = data.indexOf(0x0a, offset);
      const parsed = end < 0 ? undefined : parseLine(data.subarray(offset, end));
      if (!parsed) {
        // A crash mid-append leaves a partial last line; it was never acknowledged.
        await fsp.truncate(file, offset);
        return;
      }
      if (parsed.s > afterSeq) {
        for (const { r } of parsed.c) this.records[r.kind].set(r.id, r);
        this.durableSeq = parsed.s;
      }
      offset = end + 1;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.snapshotting;
    await this.fd?.close();
    this.fd = undefined;
  }

  async get(kind: EntityKind, id: string): Promise<EntityRecord | undefined> {
    return this.records[kind].get(id);
  }

  /** `get` without a promise (Store.getSync): the state is in memory. */
  getSync(kind: EntityKind, id: string): EntityRecord | undefined {
    return this.records[kind].get(id);
  }

  private allRecords(): EntityRecord[] {
    return Object.values(this.records).flatMap((byId) => [...byId.values()]);
  }

  async *list(kind: EntityKind): AsyncIterable<EntityRecord> {
    for (const r of [...this.records[kind].values()]) yield r;
  }

  lastSeq(): number {
    return this.durableSeq;
  }

  async sharedKey(name: string): Promise<Buffer> {
    if (!/^[a-z0-9-]{1,64}$/.test(name)) throw new RangeError(`not a key name: ${name}`);
    const file = path.join(this.dir, `${name}.key`);
    // Written whole to a temp file, then linked into place (link never replaces an existing key).
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = await fsp.open(tmp, 'wx', 0o600);
    try {
      await fd.writeFile(randomBytes(32));
      await fd.sync();
    } finally {
      await fd.close();
    }
    try {
      await fsp.link(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await fsp.unlink(tmp);
    }
    const key = await fsp.readFile(file);
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte key`);
    return key;
  }

  write(changes: readonly Change[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed || !this.fd) return Promise.reject(new Error('store is closed'));
    // Check every expected revision before accepting any change: all or nothing.
    for (const { record, expectedRevision } of changes) {
      const actual = this.accepted[record.kind].get(record.id) ?? 0;
      if (actual !== expectedRevision) {
        return Promise.reject(new ConcurrentModificationError(record.kind, record.id, expectedRevision, actual));
      }
    }
    for (const { record } of changes) this.accepted[record.kind].set(record.id, record.revision);
    const seq = this.nextSeq++;
    this.filling.appendLine(`{"s":${seq},"c":[${changes.length === 1 ? changeJson(changes[0]) : changes.map(changeJson).join(',')}]}`);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ seq, changes, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  /** Group commit: writes everything pending with one durable write, until nothing is left. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        const lines = this.filling;
        this.pending = [];
        this.filling = this.spare ?? new BatchBuffer(BATCH_BUFFER_BYTES);
        this.spare = undefined;
        const started = performance.now();
        try {
          for (let written = 0; written < lines.length; ) {
            const { bytesWritten } = await this.fd!.write(lines.buf, written, lines.length - written);
            if (bytesWritten <= 0) throw new Error('the journal file took no bytes');
            written += bytesWritten;
          }
          if (!SYNCHRONOUS_WRITES) await this.fd!.datasync();
          this.journalBytes += lines.length;
        } catch (err) {
          // The journal can no longer be trusted: fail this batch and every later write.
          this.failed = new Error('journal write failed', { cause: err });
          for (const p of [...batch, ...this.pending]) p.reject(this.failed);
          this.pending = [];
          return;
        }
        this.onDurableWrite?.((performance.now() - started) / 1000);
        lines.length = 0;
        this.spare = lines;
        for (const { seq, changes } of batch) {
          for (const { record } of changes) this.records[record.kind].set(record.id, record);
          this.durableSeq = seq;
        }
        for (const p of batch) p.resolve();
        if (this.journalBytes >= this.snapshotAfterBytes && !this.closed && !this.snapshotting) await this.rotate();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Starts a new journal file (inside the flush loop, so no journal write happens concurrently) and writes
   * a snapshot of the durable state as of the rotation beside it: writes go on while the snapshot is made
   * and synced. Records are immutable, so the list taken now is that state. A crash at any point leaves a
   * recoverable set of files: journals are removed only once a newer snapshot is durable.
   */
  private async rotate(): Promise<void> {
    const seq = this.durableSeq;
    const next = await fsp.open(this.file('journal', seq + 1), JOURNAL_FLAGS, FILE_MODE);
    await fsyncDir(this.dir);
    await this.fd!.close();
    this.fd = next;
    this.journalBytes = 0;
    const records = this.allRecords();
    this.snapshotting = this.snapshot(seq, records)
      .catch((err: unknown) => {
        try {
          this.onSnapshotError(err);
        } catch (reportFailed) {
          process.emitWarning(`reporting a failed journal snapshot failed: ${(reportFailed as Error).message}`);
        }
      })
      .finally(() => (this.snapshotting = undefined));
  }

  private async snapshot(seq: number, records: EntityRecord[]): Promise<void> {
    const tmp = path.join(this.dir, `snapshot-${seq}.json.tmp`);
    await fsp.writeFile(tmp, JSON.stringify({ seq, records }), { mode: FILE_MODE });
    const handle = await fsp.open(tmp, 'r+');
    await handle.sync();
    await handle.close();
    await fsp.rename(tmp, this.file('snapshot', seq));
    await fsyncDir(this.dir);
    const files = await fsp.readdir(this.dir);
    for (const s of seqsOf(files, 'snapshot-', '.json')) if (s < seq) await fsp.rm(this.file('snapshot', s));
    const journals = seqsOf(files, 'journal-', '.log').filter((j) => j <= seq);
    for (const j of journals.slice(0, Math.max(0, journals.length - this.keepJournals))) {
      await fsp.rm(this.file('journal', j));
    }
  }

  async *readJournal(afterSeq: number): AsyncIterable<JournalEntry> {
    const files = seqsOf(await fsp.readdir(this.dir), 'journal-', '.log');
    const limit = this.durableSeq;
    for (let i = 0; i < files.length; i++) {
      if (files[i + 1] !== undefined && files[i + 1] <= afterSeq + 1) continue;
      let data: Buffer;
      try {
        data = await fsp.readFile(this.file('journal', files[i]));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed by a snapshot meanwhile
        throw err;
      }
      let offset = 0;
      while (offset < data.length) {
        const end = data.indexOf(0x0a, offset);
        if (end < 0) break;
        const line = parseLine(data.subarray(offset, end));
        offset = end + 1;
        if (!line || line.s > limit) return;
        if (line.s <= afterSeq) continue;
        for (const { r, e } of line.c) {
          if (e !== undefined) yield { seq: line.s, kind: r.kind, id: r.id, revision: r.revision, event: e };
        }
      }
    }
  }
}

function parseLine(line: Buffer): JournalLine | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const json = line.subarray(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.subarray(0, 8).toString('latin1')) return undefined;
  return JSON.parse(json.toString('utf8')) as JournalLine;
}

function seqsOf(files: string[], prefix: string, suffix: string): number[] {
  return files
    .filter((f) => f.startsWith(prefix) && f.endsWith(suffix))
    .map((f) => Number(f.slice(prefix.length, -suffix.length)))
    .filter((n) => Number.isInteger(n))
    .sort((a, b) => a - b);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function changeJson(c: Change): string {
  const record = recordJson(c.record, c.valueJson);
  return c.event === undefined ? `{"r":${record}}` : `{"r":${record},"e":${JSON.stringify(c.event)}}`;
}

/**
 * A record's JSON (the fields of EntityRecord, written out: this runs for every write), its value's text
 * the writer's when it made one.
 */
function recordJson(r: EntityRecord, valueJson: string | undefined): string {
  const head = `{"kind":"${r.kind}","id":${JSON.stringify(r.id)},"revision":${r.revision},"created":${JSON.stringify(r.created)},"modified":${JSON.stringify(r.modified)}`;
  return r.value === undefined ? `${head}}` : `${head},"value":${valueJson ?? jsonTextIfCached(r.value)}}`;
}
