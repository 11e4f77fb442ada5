// One parameterised SELECT for a search page or count over the live things of the entities table
// (ditto-interfaces.md §2.7): filter, namespaces, sort with the `+thingId` tie-breaker, the position after
// a cursor, and a row limit. Pure: builds text and values, runs nothing.
import type { RqlNode } from '../rql/ast.js';
import type { SortField } from '../rql/options.js';
import type { SortValue } from '../sort.js';
import { compileFilterSql, namespacesSql } from './filter.js';
import { Params } from './params.js';
import { compileSortSql } from './sort.js';

export interface SqlQueryInput {
  /** The quoted, qualified entities table. */
  table: string;
  filter?: RqlNode;
  namespaces?: readonly string[];
  now: Date;
  ilikeCollation?: string;
  /** A caller's view decides afterwards: the filter is compiled as a superset (filter.ts). */
  viewed?: boolean;
}

export interface SqlStatement {
  text: string;
  values: unknown[];
}

export interface SqlPageStatement extends SqlStatement {
  /** The sort key of a returned row (for cursors). */
  keyOf(row: Record<string, unknown>): SortValue[];
}

function conditions(input: SqlQueryInput, params: Params): string[] {
  // The literal `kind = 'thing' and not deleted` matches the partial GIN index's predicate.
  const where = [`e.kind = 'thing'`, 'not e.deleted'];
  if (input.filter)
    where.push(
      compileFilterSql(input.filter, {
        params,
        now: input.now,
        ilikeCollation: input.ilikeCollation,
        viewed: input.viewed,
      }),
    );
  if (input.namespaces) where.push(namespacesSql(input.namespaces, params));
  return where;
}

export function countStatement(input: SqlQueryInput): SqlStatement {
  const params = new Params();
  const where = conditions(input, params);
  return {
    text: `select count(*)::bigint as n from ${input.table} e where ${where.join(' and ')}`,
    values: params.values,
  };
}

/**
 * Matching things in sort order: rows with id, revision, created, modified, value and the key columns.
 * `fields` is the effective sort (compileSort(…).fields); `after` the key to continue after.
 */
export function pageStatement(
  input: SqlQueryInput & {
    fields: readonly SortField[];
    after?: readonly SortValue[];
    limit: number;
    offset?: number;
  },
): SqlPageStatement {
  const params = new Params();
  const where = conditions(input, params);
  const sort = compileSortSql(input.fields, params);
  const outer = input.after ? [sort.after(input.after, params)] : [];
  const columns = 'e.id, e.revision, e.created, e.modified, e.value';
  // Path sort keys are computed once per row in a subquery that `offset 0` keeps from being merged into
  // the outer query (which would repeat the key expressions). Column-only sorts need no subquery, so the
  // cursor condition stays an index range (`e.id > $1` for the default sort).
  const from =
    sort.inner.length === 0
      ? `from ${input.table} e`
      : `from (select ${columns}, ${sort.inner.join(', ')} from ${input.table} e where ${where.splice(0).join(' and ')} offset 0) e`;
  const conditionsSql = [...where, ...outer];
  const text = [
    `select ${columns}, ${sort.select.join(', ')}`,
    from,
    conditionsSql.length > 0 ? `where ${conditionsSql.join(' and ')}` : '',
    `order by ${sort.orderBy.join(', ')}`,
    `limit ${params.add(input.limit, 'bigint')}`,
    input.offset ? `offset ${params.add(input.offset, 'bigint')}` : '',
  ].join('\n');
  return { text, values: params.values, keyOf: sort.read };
}
