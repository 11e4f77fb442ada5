/**
 * The PostgreSQL store: the Store port (port.ts) over two tables (schema.ts), for several instances
 * sharing one database.
 *
 * Writes — group commit. `write()` queues; one flush at a time takes everything queued (up to
 * `maxBatch` writes) into ONE transaction of four round trips, however many writes it holds:
 *   1. `begin; select pg_advisory_xact_lock(journal)`  — the journal lock, held until commit/rollback
 *   2. select the stored revisions of every entity the batch touches
 *   3. (in JavaScript, batch.ts) accept or reject each write in arrival order against those revisions
 *   4. one statement: upsert the final record per entity + append the journal rows
 *   5. `commit`, then resolve/reject each write: a write resolves only once its commit is durable
 *      (synchronous_commit = on, the PostgreSQL default).
 * Writes that arrive while a flush runs form the next batch, so under load thousands of writes share one
 * commit (and one WAL fsync).
 *
 * Why the journal lock, taken first: every writer (of every instance) holds it from before it reads the
 * revisions until its commit. Hence (a) the revision check cannot race with another instance (no lost
 * update, no duplicate revision, no retry loop), and (b) journal seqs — assigned as max(seq)+1.. inside
 * the lock — are gap-free and their order IS the commit order, so a reader that has seen seq n never later
 * finds a smaller seq appearing (the alternative, a sequence plus "read only below the oldest in-flight
 * transaction", needs snapshot bookkeeping on every read). The price: commits of different instances do
 * not overlap; each instance amortises that with its batch, so throughput is bounded by commits/s ×
 * batch size, not by writes.
 *
 * A batch that fails for a reason other than a revision mismatch (connection loss, a value PostgreSQL
 * refuses such as "\u0000" inside jsonb) is rolled back; with more than one write its writes are then
 * retried one per transaction, so one bad write does not fail its neighbours.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  type Change,
  type EntityKind,
  type EntityRecord,
  type HistoryEntry,
  type HistoryRange,
  type HistoryRetention,
  type JournalEntry,
  type Store,
} from '../port.js';
import { decideBatch, entityKey } from './batch.js';
import { lockKey, migrate, tablesOf, type Tables } from './schema.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database — the password is a secret: never log this string. */
  connectionString: string;
  /** Schema of the tables, created when missing (default `twinbridge`). */
  schema?: string;
  /** Connections in the pool (default 10); writes use one at a time, reads the others. */
  poolSize?: number;
  /** Most writes per transaction (default 2000). */
  maxBatch?: number;
  /** Errors of idle pooled connections (e.g. a server restart); the pool replaces such connections. */
  onIdleError?: (err: Error) => void;
  /** Recorded as the `origin` of the journal rows this store writes (scale-out, docs/scale-out.md). */
  instanceId?: string;
  /**
   * Called synchronously after each commit that journaled rows, before its writes resolve, with the first
   * and last seq of the rows (src/cluster/journal-follower.ts: own rows need not be read back).
   */
  onCommitted?: (firstSeq: number, lastSeq: number) => void;
  /** Told how long each committed batch took (connection, transaction and commit), in seconds. */
  onDurableWrite?: (seconds: number) => void;
}

/** A journal row with the instance that wrote it (null: written before origins were recorded). */
export interface OriginJournalEntry extends JournalEntry {
  origin: string | null;
}

interface Pending {
  changes: readonly Change[];
  resolve: () => void;
  reject: (err: Error) => void;
}

interface EntityRow {
  kind: EntityKind;
  id: string;
  revision: string;
  created: string;
  modified: string;
  value: unknown;
}

const PAGE = 1000;
/** Journal seqs per compaction statement. */
const COMPACT_WINDOW = 10_000;

const HISTORY_COLUMNS = 'seq, kind, id, revision, created, modified, value, event, headers';

interface HistoryRow extends EntityRow {
  seq: string;
  event: unknown;
  headers: Record<string, string> | null;
}

/**
 * Besides the Store port it offers read-only SQL (`query`, `withTransaction`, `tables`) for the SQL search
 * (src/search/sql/search.ts), which takes it as its SqlSource.
 */
export class PostgresStore implements Store {
  readonly tables: Tables;
  private readonly pool: pg.Pool;
  private readonly maxBatch: number;
  private readonly journalLock: number;
  private readonly instanceId: string | null;
  private readonly onCommitted: (firstSeq: number, lastSeq: number) => void;
  private readonly onDurableWrite: ((seconds: number) => void) | undefined;
  private readonly connectionString: string;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private seq = 0;
  private opened = false;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    this.tables = tablesOf(options.schema ?? 'twinbridge', pg.escapeIdentifier);
    this.maxBatch = Math.max(1, options.maxBatch ?? 2000);
    this.journalLock = lockKey(this.tables.schema, 'journal');
    this.instanceId = options.instanceId ?? null;
    this.onCommitted = options.onCommitted ?? (() => undefined);
    this.onDurableWrite = options.onDurableWrite;
    this.connectionString = options.connectionString;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: Math.max(2, options.poolSize ?? 10),
      // JIT compilation pays off for long analytical queries only; a sorted search over 100,000 things
      // spent 150 ms compiling to run in 160 ms, so the store's sessions turn it off.
      options: '-c jit=off',
    });
    const onIdleError = options.onIdleError ?? (() => undefined);
    // Without a listener an idle connection's error (server restart) would crash the process.
    this.pool.on('error', (err) => onIdleError(err));
  }

  async open(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migrate(client, this.tables, pg.escapeIdentifier);
      const { rows } = await client.query<{ seq: string | null }>(
        `select max(seq) as seq from ${this.tables.journal}`,
      );
      this.seq = Number(rows[0].seq ?? 0);
    } finally {
      client.release();
    }
    this.opened = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.pool.end();
  }

  /** Runs one statement on a pooled connection (reads; writes go through write()). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Runs `fn` on one connection inside a read-only transaction (e.g. to set a statement timeout). */
  async withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin read only');
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
      throw err;
    } finally {
      // A connection whose rollback failed is broken: release(err) discards it instead of pooling it.
      client.release(broken);
    }
  }

  async get(kind: EntityKind, id: string): Promise<EntityRecord | undefined> {
    const { rows } = await this.pool.query<EntityRow>(
      `select kind, id, revision, created, modified, value from ${this.tables.entities} where kind = $1 and id = $2`,
      [kind, id],
    );
    return rows.length === 0 ? undefined : toRecord(rows[0]);
  }

  /** Pages through the kind in id order (keyset paging, so a long listing holds no transaction open). */
  async *list(kind: EntityKind): AsyncIterable<EntityRecord> {
    let after: string | undefined;
    for (;;) {
      const { rows } = await this.pool.query<EntityRow>(
        `select kind, id, revision, created, modified, value from ${this.tables.entities}
          where kind = $1 and ($2::text is null or id > $2) order by id limit ${PAGE}`,
        [kind, after ?? null],
      );
      for (const row of rows) yield toRecord(row);
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].id;
    }
  }

  async *readJournal(afterSeq: number): AsyncIterable<JournalEntry> {
    let after = afterSeq;
    for (;;) {
      const { rows } = await this.pool.query<{
        seq: string;
        kind: EntityKind;
        id: string;
        revision: string;
        event: unknown;
      }>(
        `select seq, kind, id, revision, event from ${this.tables.journal} where seq > $1 order by seq limit ${PAGE}`,
        [after],
      );
      for (const row of rows) {
        after = Number(row.seq);
        if (after > this.seq) this.seq = after;
        yield { seq: after, kind: row.kind, id: row.id, revision: Number(row.revision), event: row.event };
      }
      if (rows.length < PAGE) return;
    }
  }

  async historyAt(
    kind: EntityKind,
    id: string,
    point: { revision?: number; before?: number },
  ): Promise<HistoryEntry | undefined> {
    const { rows } = await this.pool.query<HistoryRow>(
      `select ${HISTORY_COLUMNS} from ${this.tables.journal}
        where kind = $1 and id = $2 and modified is not null and ($3::bigint is null or revision <= $3)
          and ($4::text is null or modified < $4)
        order by revision desc limit 1`,
      [kind, id, point.revision ?? null, point.before === undefined ? null : isoOf(point.before)],
    );
    return rows.length === 0 ? undefined : toHistoryEntry(rows[0]);
  }

  async *history(kind: EntityKind, id: string, range: HistoryRange): AsyncIterable<HistoryEntry> {
    let from = range.fromRevision;
    const after = range.after === undefined ? null : isoOf(range.after);
    for (;;) {
      const { rows } = await this.pool.query<HistoryRow>(
        `select ${HISTORY_COLUMNS} from ${this.tables.journal}
          where kind = $1 and id = $2 and modified is not null and revision >= $3 and revision <= $4
            and ($5::text is null or modified > $5)
          order by revision limit ${PAGE}`,
        [kind, id, from, Math.min(range.toRevision, Number.MAX_SAFE_INTEGER), after],
      );
      for (const row of rows) {
        const entry = toHistoryEntry(row);
        if (range.before !== undefined && !(Date.parse(entry.record.modified) < range.before)) return;
        yield entry;
      }
      if (rows.length < PAGE) return;
      from = Number(rows[rows.length - 1].revision) + 1;
    }
  }

  /**
   * Deletes journal rows past retention, a window of seqs at a time (the primary key's order, oldest
   * first), keeping every entity's current revision and the newest row (seqs continue from it). Rows
   * written before history existed are dated by their commit. One instance compacts at a time.
   */
  async compactHistory(retention: HistoryRetention, now: number): Promise<number> {
    const t = this.tables;
    if (
      retention.defaultMs === undefined &&
      !Object.values(retention.namespaces ?? {}).some((ms) => typeof ms === 'number')
    )
      return 0;
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const key = lockKey(t.schema, 'compact-history');
    try {
      const { rows: locked } = await client.query<{ ok: boolean }>(
        `select pg_try_advisory_lock(${key}) as ok`,
      );
      if (!locked[0].ok) return 0;
      try {
        // '' sorts before every timestamp: the cutoff of history kept forever.
        const cutoff = (ms: number | null | undefined) =>
          ms === null || ms === undefined ? '' : isoOf(now - ms);
        const namespaces = Object.entries(retention.namespaces ?? {});
        const params = [
          cutoff(retention.defaultMs),
          namespaces.map(([ns]) => ns),
          namespaces.map(([, ms]) => cutoff(ms)),
        ];
        const { rows: bounds } = await client.query<{ low: string | null; high: string | null }>(
          `select min(seq) as low, max(seq) as high from ${t.journal}`,
        );
        if (bounds[0].low === null) return 0;
        const high = Number(bounds[0].high);
        let dropped = 0;
        for (let after = Number(bounds[0].low) - 1; after < high; after += COMPACT_WINDOW) {
          const result = await client.query(
            `delete from ${t.journal} j using ${t.entities} e
              where j.seq > $4 and j.seq <= $5 and j.seq < $6
                and e.kind = j.kind and e.id = j.id and j.revision < e.revision
                and coalesce(j.modified, to_char(j.committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) < coalesce(
                      (select o.cut from unnest($2::text[], $3::text[]) as o(ns, cut)
                        where j.kind <> 'connection'
                          and o.ns = case when position(':' in j.id) > 0 then split_part(j.id, ':', 1) else '' end),
                      $1)`,
            [...params, after, after + COMPACT_WINDOW, high],
          );
          dropped += result.rowCount ?? 0;
        }
        return dropped;
      } finally {
        await client.query(`select pg_advisory_unlock(${key})`);
      }
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * One page of journal rows after `afterSeq` (in seq order) with their origin, for followers of the
   * journal (src/cluster). Does not move lastSeq().
   */
  async readJournalPage(afterSeq: number, limit = PAGE): Promise<OriginJournalEntry[]> {
    const { rows } = await this.pool.query<{
      seq: string;
      kind: EntityKind;
      id: string;
      revision: string;
      event: unknown;
      origin: string | null;
    }>(
      `select seq, kind, id, revision, event, origin from ${this.tables.journal} where seq > $1 order by seq limit $2`,
      [afterSeq, limit],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      kind: r.kind,
      id: r.id,
      revision: Number(r.revision),
      event: r.event,
      origin: r.origin,
    }));
  }

  /**
   * LISTENs on `channels` on a connection of its own (not pooled: LISTEN is per session). Notifications
   * arrive in commit order. `onError` is called once when the connection is lost; the caller then listens
   * again and catches up by reading (a notification sent meanwhile is lost). Resolves with a closer.
   */
  async listen(
    channels: readonly string[],
    onNotification: (channel: string, payload: string) => void,
    onError: (err: Error) => void,
  ): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: this.connectionString });
    let failed = false;
    client.on('error', (err) => {
      if (failed) return;
      failed = true;
      onError(err);
    });
    client.on('end', () => {
      if (failed) return;
      failed = true;
      onError(new Error('the LISTEN connection ended'));
    });
    client.on('notification', (n) => onNotification(n.channel, n.payload ?? ''));
    await client.connect();
    for (const channel of channels) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    return async () => {
      failed = true;
      await client.end().catch(() => undefined); // already broken: nothing to close
    };
  }

  /** NOTIFY on `channel` outside a write (e.g. consumer-group membership changes). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.pool.query('select pg_notify($1, $2)', [channel, payload]);
  }

  /**
   * The last journal seq this instance wrote or read (cheap: no round trip). Another instance's later
   * entries show up here once this instance writes or reads the journal past them.
   */
  lastSeq(): number {
    return this.seq;
  }

  async sharedKey(name: string): Promise<Buffer> {
    // The first instance's key wins; every later call, of any instance, reads that one.
    await this.pool.query(
      `insert into ${this.tables.sharedKeys} (name, key) values ($1, $2) on conflict (name) do nothing`,
      [name, randomBytes(32)],
    );
    const { rows } = await this.pool.query<{ key: Buffer }>(
      `select key from ${this.tables.sharedKeys} where name = $1`,
      [name],
    );
    return rows[0].key;
  }

  write(changes: readonly Change[]): Promise<void> {
    if (this.closed || !this.opened)
      return Promise.reject(new Error(this.closed ? 'store is closed' : 'store is not open'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ changes, resolve, reject });
      // setImmediate: every write issued in the current tick joins the first batch.
      if (!this.flushing)
        this.flushing = new Promise((done) => setImmediate(() => void this.flushLoop().then(done)));
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.commitBatch(batch);
        } catch (err) {
          if (batch.length === 1 || !isDataError(err)) {
            const failure = new Error('store write failed', { cause: err });
            for (const p of batch) p.reject(failure);
            continue;
          }
          // ditto-independent robustness: isolate the write PostgreSQL refuses.
          for (const p of batch) {
            await this.commitBatch([p]).catch((cause: unknown) =>
              p.reject(new Error('store write failed', { cause })),
            );
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** One transaction for the whole batch; settles every write of it, or throws (then settles none). */
  private async commitBatch(batch: Pending[]): Promise<void> {
    const t = this.tables;
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const started = performance.now();
    try {
      try {
        await client.query(`begin; select pg_advisory_xact_lock(${this.journalLock})`);
        const kinds: string[] = [];
        const ids: string[] = [];
        const seen = new Set<string>();
        for (const { changes } of batch) {
          for (const { record } of changes) {
            const key = entityKey(record.kind, record.id);
            if (seen.has(key)) continue;
            seen.add(key);
            kinds.push(record.kind);
            ids.push(record.id);
          }
        }
        const { rows } = await client.query<{ kind: EntityKind; id: string; revision: string }>(
          `select e.kind, e.id, e.revision from ${t.entities} e
            join unnest($1::text[], $2::text[]) as k(kind, id) on e.kind = k.kind and e.id = k.id`,
          [kinds, ids],
        );
        const stored = new Map(rows.map((r) => [entityKey(r.kind, r.id), Number(r.revision)]));
        // Every change is journaled (eventless ones with a NULL event) so other instances see policy and
        // connection changes in commit order too (src/cluster); each row holds the entity after the change
        // (history), and the last row of an entity in the batch is what the entities table gets.
        const decision = decideBatch(
          batch.map((p) => p.changes),
          stored,
        );
        let lastSeq = this.seq;
        let firstSeq = 0;
        if (decision.journal.length > 0) {
          const rows = decision.journal.map(({ record: r, event, headers }, o) => ({
            o: o + 1,
            k: r.kind,
            i: r.id,
            r: r.revision,
            c: r.created,
            m: r.modified,
            v: r.value,
            d: r.value === null,
            e: event,
            h: headers ?? null,
          }));
          const result = await client.query<{ seq: string | null; first: string | null }>(
            `with x as (
               select * from json_to_recordset($1::json) as x(o bigint, k text, i text, r bigint, c text, m text, v json, d boolean, e json, h json)
             ), up as (
               insert into ${t.entities} (kind, id, revision, created, modified, value, deleted)
               select distinct on (x.k, x.i) x.k, x.i, x.r, x.c, x.m, case when x.d then null else x.v::jsonb end, x.d
                 from x order by x.k, x.i, x.o desc
               on conflict (kind, id) do update set revision = excluded.revision, created = excluded.created,
                 modified = excluded.modified, value = excluded.value, deleted = excluded.deleted
             ), j as (
               insert into ${t.journal} (seq, kind, id, revision, event, origin, created, modified, value, headers)
               select b.s + x.o, x.k, x.i, x.r, x.e, $2::text, x.c, x.m, case when x.d then null else x.v end, x.h
                 from x, (select coalesce(max(seq), 0) as s from ${t.journal}) as b
               returning seq
             )
             select m.seq, m.first, case when m.seq is null then null else pg_notify($3, m.seq::text) end as notified
               from (select max(seq) as seq, min(seq) as first from j) m`,
            [JSON.stringify(rows), this.instanceId, t.journalChannel],
          );
          // pg_notify is delivered at commit, in commit order, only if the transaction commits.
          if (result.rows[0].seq !== null) {
            lastSeq = Number(result.rows[0].seq);
            firstSeq = Number(result.rows[0].first);
          }
        }
        await client.query('commit');
        this.onDurableWrite?.((performance.now() - started) / 1000);
        if (lastSeq > this.seq) this.seq = lastSeq;
        if (firstSeq > 0) this.onCommitted(firstSeq, lastSeq);
        batch.forEach((p, i) => {
          const error = decision.outcomes[i];
          if (error) p.reject(error);
          else p.resolve();
        });
      } catch (err) {
        await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
        throw err;
      }
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** An instant as the stored `modified` text (ISO-8601 UTC with milliseconds: the strings sort as the instants). */
function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

function toHistoryEntry(row: HistoryRow): HistoryEntry {
  const entry: HistoryEntry = { seq: Number(row.seq), record: toRecord(row) };
  if (row.event !== null) entry.event = row.event;
  if (row.headers !== null) entry.headers = row.headers;
  return entry;
}

function toRecord(row: EntityRow): EntityRecord {
  return {
    kind: row.kind,
    id: row.id,
    revision: Number(row.revision),
    created: row.created,
    modified: row.modified,
    value: row.value ?? null,
  };
}

/** SQLSTATE class 22 (data exception), e.g. "unsupported Unicode escape sequence" for "\u0000" in jsonb. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || code.startsWith('08') || code.startsWith('57P');
}
