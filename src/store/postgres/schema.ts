/**
 * The PostgreSQL layout of the store and its migrations. `migrate` runs on every open: each step is
 * applied once (recorded in `schema_migrations`) under a session advisory lock, so several instances
 * opening at the same time do not race on DDL.
 *
 * Tables (in the configured schema):
 *   entities  one row per (kind, id): the latest durable record; `value` is NULL and `deleted` true for a
 *             deleted entity, which keeps its revision so a re-creation continues counting (port.ts).
 *             `id`, `created` and `modified` use the "C" collation: byte order of UTF-8 = Unicode code
 *             point order, the string order of search (ditto-interfaces.md §2.7, §3.2) and of range scans
 *             for namespaces, so ORDER BY and comparisons on them can use their indexes.
 *   journal   one row per change; `seq` is assigned under the journal lock (postgres-store.ts), gap-free
 *             and in commit order. `event` is `json` (stored as text, never queried); NULL for a change
 *             journaled without an event (connections). `origin` is the writing instance. `created`,
 *             `modified`, `value` (json: the entity after the change, NULL when deleted) and `headers`
 *             (the historical headers) make the journal the history (ditto: basic-history); rows written
 *             before they existed have them NULL and are not history.
 *   group_members  WebSocket/SSE consumer-group members per instance with a heartbeat (src/cluster).
 *   shared_keys    random keys shared by all instances (Store.sharedKey), e.g. the search cursor key.
 */
import type pg from 'pg';

export interface Tables {
  schema: string;
  /** Qualified, quoted names for SQL text. */
  entities: string;
  journal: string;
  migrations: string;
  /** Consumer-group members of every instance (src/cluster/membership.ts). */
  groupMembers: string;
  sharedKeys: string;
  /** NOTIFY channels (unquoted names): a committed journal seq; a consumer-group membership change. */
  journalChannel: string;
  groupsChannel: string;
}

export function tablesOf(schema: string, escape: (name: string) => string): Tables {
  const s = escape(schema);
  return {
    schema,
    entities: `${s}.entities`,
    journal: `${s}.journal`,
    migrations: `${s}.schema_migrations`,
    groupMembers: `${s}.group_members`,
    sharedKeys: `${s}.shared_keys`,
    journalChannel: `${schema}.journal`.slice(0, 63),
    groupsChannel: `${schema}.groups`.slice(0, 63),
  };
}

/** Ordered migration steps; never edit a released step, append a new one. */
function steps(t: Tables): string[] {
  return [
    `create table ${t.entities} (
       kind text not null,
       id text collate "C" not null,
       revision bigint not null,
       created text collate "C" not null,
       modified text collate "C" not null,
       value jsonb,
       deleted boolean not null default false,
       primary key (kind, id)
     )`,
    `create table ${t.journal} (
       seq bigint primary key,
       kind text not null,
       id text collate "C" not null,
       revision bigint not null,
       event json not null,
       committed_at timestamptz not null default now()
     )`,
    // Search (src/search/sql): eq/in/exists/ne on any JSON path use this index through `@?`.
    `create index entities_things_value on ${t.entities} using gin (value jsonb_path_ops)
       where kind = 'thing' and not deleted`,
    // Search sorted by _modified (newest first is common): an index scan plus an incremental sort on id.
    `create index entities_things_modified on ${t.entities} (modified) where kind = 'thing' and not deleted`,
    // Scale-out (docs/scale-out.md): every change is journaled, policy and connection changes without an
    // event (NULL), with the instance that made it, so other instances can follow the journal.
    `alter table ${t.journal} alter column event drop not null, add column origin text`,
    `create table ${t.groupMembers} (
       instance text not null,
       group_key text not null,
       member text not null,
       heartbeat timestamptz not null default now(),
       primary key (instance, group_key, member)
     )`,
    // Keys every instance shares (Store.sharedKey), e.g. the one that seals search cursors.
    `create table ${t.sharedKeys} (name text primary key, key bytea not null)`,
    // History: each row holds the entity as it was after the change; read per entity by revision.
    `alter table ${t.journal} add column created text collate "C", add column modified text collate "C",
       add column value json, add column headers json`,
    `create index journal_history on ${t.journal} (kind, id, revision)`,
  ];
}

/** A 31-bit key for advisory locks, stable per schema and purpose. */
export function lockKey(schema: string, purpose: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${purpose}:${schema}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

export async function migrate(
  client: pg.ClientBase,
  t: Tables,
  escape: (name: string) => string,
): Promise<void> {
  const key = lockKey(t.schema, 'migrate');
  await client.query(`select pg_advisory_lock(${key})`);
  try {
    await client.query(`create schema if not exists ${escape(t.schema)}`);
    await client.query(
      `create table if not exists ${t.migrations} (version int primary key, applied_at timestamptz not null default now())`,
    );
    const done = new Set(
      (await client.query<{ version: number }>(`select version from ${t.migrations}`)).rows.map(
        (r) => r.version,
      ),
    );
    const all = steps(t);
    for (let version = 1; version <= all.length; version++) {
      if (done.has(version)) continue;
      await client.query('begin');
      try {
        await client.query(all[version - 1]);
        await client.query(`insert into ${t.migrations} (version) values ($1)`, [version]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`store migration ${version} failed`, { cause: err });
      }
    }
  } finally {
    await client.query(`select pg_advisory_unlock(${key})`);
  }
}
