// Search over the things of a PostgresStore (ditto-interfaces.md §2.7): the same QueryInput/QueryResult as
// the in-memory SearchIndex, answered by SQL, with the same cursors (cursor.ts), so either can serve.
//
// With a caller's `view` (policy enforcement, view.ts) the SQL filter is a superset of the matches
// (filter.ts `viewed`) and each row is decided by the filter on its view, in memory. Rows are fetched in
// chunks, each continuing after the key of the last row fetched, until the page (offset + size + 1
// matches) is full or the rows run out, so paging stays exact however many things the caller may not
// read. A sort on fields the caller might not see cannot be ordered by SQL (it orders the stored values):
// then every candidate is read and the page is selected on the views' keys, which costs a pass over all
// candidates per page. (The service searches its in-memory index; this is the store-side alternative.)
import pg from 'pg';
import { queryTimeExceeded } from '../../errors/search.js';
import { CursorCodec, queryHash } from '../cursor.js';
import { compileFilter } from '../evaluate.js';
import { DEFAULT_PAGE_SIZE } from '../rql/options.js';
import type { QueryInput, QueryResult } from '../search-index.js';
import { compileSort, type CompiledSort, type SortValue } from '../sort.js';
import type { ThingJson } from '../values.js';
import { isAlwaysVisible } from '../view.js';
import { countStatement, pageStatement, type SqlQueryInput, type SqlStatement } from './query.js';

/** What the search needs from the store (PostgresStore implements it). */
export interface SqlSource {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  readonly tables: { entities: string };
}

export interface SqlSearchOptions {
  /** Rows per round trip with a caller's view (default 200). */
  chunkSize?: number;
  /** Seals the cursors (default: a key of this process only). */
  cursors?: CursorCodec;
}

interface ThingRow {
  id: string;
  revision: string;
  created: string;
  modified: string;
  value: Record<string, unknown>;
  [key: string]: unknown;
}

const QUERY_CANCELED = '57014';

export class SqlThingSearch {
  private readonly source: SqlSource;
  private readonly chunkSize: number;
  private readonly cursors: CursorCodec;
  private ilikeCollation: Promise<string | undefined> | undefined;

  constructor(source: SqlSource, options: SqlSearchOptions = {}) {
    this.source = source;
    this.chunkSize = Math.max(1, options.chunkSize ?? 200);
    this.cursors = options.cursors ?? CursorCodec.ephemeral();
  }

  /** The ICU root collation for ilike when the server has ICU, else the default collation. */
  private collation(): Promise<string | undefined> {
    this.ilikeCollation ??= this.source
      .query<{ n: number }>(`select count(*)::int as n from pg_collation where collname = 'und-x-icu'`)
      .then(({ rows }) => (rows[0].n > 0 ? '"und-x-icu"' : undefined));
    return this.ilikeCollation;
  }

  private async base(
    input: Pick<QueryInput, 'filter' | 'namespaces' | 'now' | 'view'>,
  ): Promise<SqlQueryInput> {
    return {
      table: this.source.tables.entities,
      filter: input.filter,
      namespaces: input.namespaces,
      now: input.now ?? new Date(),
      ilikeCollation: await this.collation(),
      viewed: input.view !== undefined,
    };
  }

  /** The view of a row's thing when it matches on it (the filter on the view), else undefined. */
  private accepter(
    input: Pick<QueryInput, 'filter' | 'view'>,
    now: Date,
  ): (thing: ThingJson) => ThingJson | undefined {
    const { view } = input;
    const predicate = input.filter ? compileFilter(input.filter, { mode: 'search', now }) : undefined;
    return (thing) => {
      const seen = view?.(thing);
      return seen !== undefined && (!predicate || predicate(seen)) ? seen : undefined;
    };
  }

  /** Number of readable matching things (§2.7 `/search/things/count`). */
  async count(
    input: Pick<QueryInput, 'filter' | 'namespaces' | 'view' | 'timeoutMs' | 'now'>,
  ): Promise<number> {
    const base = await this.base(input);
    const run = this.runner(input.timeoutMs);
    if (!input.view) {
      const { rows } = await run(countStatement(base));
      return Number((rows[0] as unknown as { n: string }).n);
    }
    // With enforcement every candidate must be seen: walk them in thingId order.
    const accept = this.accepter(input, base.now);
    let n = 0;
    await this.walk(base, run, (thing) => {
      if (accept(thing)) n++;
    });
    return n;
  }

  /** One page in sort order (§2.7), with a cursor when more follow (or nextPageOffset with `offset`). */
  async query(input: QueryInput): Promise<QueryResult> {
    const sort = compileSort(input.sort);
    const hash = queryHash(input.filter, sort.fields, input.scope);
    let after =
      input.cursor !== undefined ? this.cursors.decode(input.cursor, hash, sort.fields.length) : undefined;
    const size = input.size ?? DEFAULT_PAGE_SIZE;
    const offset = input.offset ?? 0;
    const keep = offset + size + 1;
    const base = await this.base(input);
    const run = this.runner(input.timeoutMs);
    const page: Array<{ thing: ThingJson; key: SortValue[] }> = [];
    if (!input.view) {
      // Without enforcement SQL does the whole cut: one round trip.
      const statement = pageStatement({ ...base, fields: sort.fields, after, limit: size + 1, offset });
      const { rows } = await run(statement);
      for (const row of rows) page.push({ thing: toThing(row), key: statement.keyOf(row) });
      return this.result(input, page, 0, size, hash);
    }
    const accept = this.accepter(input, base.now);
    if (!sort.fields.every((f) => isAlwaysVisible(f.property))) {
      return this.result(
        input,
        await this.selectOnViews(base, run, accept, sort, after, keep),
        offset,
        size,
        hash,
      );
    }
    const chunk = Math.max(this.chunkSize, keep);
    for (;;) {
      const statement = pageStatement({ ...base, fields: sort.fields, after, limit: chunk });
      const { rows } = await run(statement);
      for (const row of rows) {
        const thing = toThing(row);
        if (accept(thing)) page.push({ thing, key: statement.keyOf(row) });
        if (page.length === keep) break;
      }
      if (page.length === keep || rows.length < chunk) break;
      after = statement.keyOf(rows[rows.length - 1]);
    }
    return this.result(input, page, offset, size, hash);
  }

  /** Visits every candidate row's thing in thingId order, in chunks. */
  private async walk(
    base: SqlQueryInput,
    run: (s: SqlStatement) => Promise<pg.QueryResult<ThingRow>>,
    visit: (thing: ThingJson) => void,
  ): Promise<void> {
    const fields = compileSort(undefined).fields;
    let after: SortValue[] | undefined;
    for (;;) {
      const statement = pageStatement({ ...base, fields, after, limit: this.chunkSize * 5 });
      const { rows } = await run(statement);
      for (const row of rows) visit(toThing(row));
      if (rows.length < this.chunkSize * 5) return;
      after = statement.keyOf(rows[rows.length - 1]);
    }
  }

  /** The first `keep` matches after `after` in the order of their views' keys. */
  private async selectOnViews(
    base: SqlQueryInput,
    run: (s: SqlStatement) => Promise<pg.QueryResult<ThingRow>>,
    accept: (thing: ThingJson) => ThingJson | undefined,
    sort: CompiledSort,
    after: SortValue[] | undefined,
    keep: number,
  ): Promise<Array<{ thing: ThingJson; key: SortValue[] }>> {
    const best: Array<{ thing: ThingJson; key: SortValue[] }> = [];
    await this.walk(base, run, (thing) => {
      const seen = accept(thing);
      if (!seen) return;
      const key = sort.key(seen);
      if (after && sort.compare(key, after) <= 0) return;
      if (best.length === keep && sort.compare(key, best[keep - 1].key) >= 0) return;
      let at = best.findIndex((b) => sort.compare(key, b.key) < 0);
      if (at < 0) at = best.length;
      best.splice(at, 0, { thing, key });
      if (best.length > keep) best.pop();
    });
    return best;
  }

  private result(
    input: QueryInput,
    found: Array<{ thing: ThingJson; key: SortValue[] }>,
    offset: number,
    size: number,
    hash: string,
  ): QueryResult {
    const page = found.slice(offset, offset + size);
    const more = found.length > offset + size;
    if (input.offset !== undefined) {
      return { items: page.map((e) => e.thing), nextPageOffset: more ? (input.offset ?? 0) + size : -1 };
    }
    const result: QueryResult = { items: page.map((e) => e.thing) };
    if (more && page.length > 0) result.cursor = this.cursors.encode(hash, page[page.length - 1].key);
    return result;
  }

  /** Runs statements with an overall time limit (statement_timeout per statement, the rest of the budget). */
  private runner(
    timeoutMs: number | undefined,
  ): (statement: SqlStatement) => Promise<pg.QueryResult<ThingRow>> {
    if (timeoutMs === undefined) return (s) => this.source.query<ThingRow>(s.text, s.values);
    const deadline = performance.now() + timeoutMs;
    return async (s) => {
      const remaining = Math.floor(deadline - performance.now());
      if (remaining <= 0) throw queryTimeExceeded({ timeoutMs });
      try {
        return await this.source.withTransaction(async (client) => {
          await client.query(`select set_config('statement_timeout', $1, true)`, [String(remaining)]);
          return client.query<ThingRow>(s.text, s.values);
        });
      } catch (err) {
        if ((err as { code?: unknown }).code === QUERY_CANCELED)
          throw queryTimeExceeded({ timeoutMs }, { cause: err });
        throw err;
      }
    };
  }
}

/** The thing as the in-memory index holds it: the stored JSON plus the special fields (§3.1). */
function toThing(row: ThingRow): ThingJson {
  return {
    ...row.value,
    _namespace: row.id.slice(0, Math.max(0, row.id.indexOf(':'))),
    _revision: Number(row.revision),
    _created: row.created,
    _modified: row.modified,
  };
}
