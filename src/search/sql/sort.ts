// Sort keys in SQL with the order of src/search/sort.ts (ditto-interfaces.md §2.7, §3.3): values order by
// type first — missing/null < numbers < strings < objects (and nested arrays) < booleans — then by value
// (numbers numerically, strings by code point, false < true); an array field sorts by its smallest element
// ascending and by its largest descending; `+thingId` is the tie-breaker (added by compileSort).
//
// A path field's key is four columns (rank, number, string, boolean) of the best of the path's values;
// within one rank only that rank's column is non-null, so ORDER BY on the four columns orders exactly like
// compareSortValues. Column fields (thingId, _revision, …) are one column
// of a fixed type. The cursor condition "key after the cursor's key" is the usual expansion
// k1 > c1 or (k1 = c1 and k2 > c2) or … with every comparison folded to a constant where the types differ,
// so the default sort compiles to `e.id > $1` on the primary key.
import type { SortField } from '../rql/options.js';
import { propertySegments } from '../rql/properties.js';
import { OBJECT_VALUE, rank, type SortValue } from '../sort.js';
import { columnOf } from './filter.js';
import { pathVariants } from './jsonpath.js';
import type { Params } from './params.js';

export interface SqlSortKey {
  /** Expressions of the fenced inner query that compute path keys' values (empty: no fence needed). */
  inner: string[];
  /** Selected key columns (aliased k<i>_…). */
  select: string[];
  orderBy: string[];
  /** The sort key of a result row. */
  read(row: Record<string, unknown>): SortValue[];
  /** SQL true for rows whose key is strictly after `after`. */
  after(after: readonly SortValue[], params: Params): string;
}

interface FieldKey {
  inner?: string;
  select: string[];
  orderBy: string[];
  read(row: Record<string, unknown>): SortValue;
  /** [strictly after, equal] for the cursor value `c`. */
  compare(c: SortValue, params: Params): [string, string];
}

/** Key components (rank, number, string, boolean) of one jsonb value `v`; SQL NULL (missing) ranks 0. */
function parts(v: string) {
  return {
    r: `coalesce(case jsonb_typeof(${v}) when 'null' then 0 when 'number' then 1 when 'string' then 2 when 'boolean' then 4 when 'object' then 3 when 'array' then 3 end, 0)`,
    n: `case when jsonb_typeof(${v}) = 'number' then (${v})::float8 end`,
    s: `(case when jsonb_typeof(${v}) = 'string' then ${v} #>> '{}' end) collate "C"`,
    b: `case when jsonb_typeof(${v}) = 'boolean' then (${v})::boolean end`,
  };
}

function pathKey(i: number, field: SortField, params: Params): FieldKey {
  const dir = field.direction === 'asc' ? 'asc' : 'desc';
  const gt = dir === 'asc' ? '>' : '<';
  const segments = propertySegments(field.property);
  const k = `e.k${i}`;
  // The key's value (the best of the path's values) is computed once per row in a fenced subquery
  // (pageStatement); the components come from it. Fast path: a path of plain keys whose value, found by
  // `#>` through objects only, is not an array has exactly that one value (resolvePath visits arrays only
  // where the document has them); otherwise a scalar subquery flattens the values one level (a lax filter
  // unwraps arrays, as flattenValues) and picks the best. CASE evaluates that subquery only when needed.
  // (`#>` reads segments such as "1", "-1" or " 2" as array indexes, so those take the subquery.)
  const plain = !segments.some(
    (s) => /^\s*[+-]?[0-9]+$/.test(s) || (s === '*' && segments[0] === 'features'),
  );
  const sources = pathVariants(segments)
    .map(
      (path) =>
        `select v from jsonb_path_query(e.value, ${params.add(`lax ${path} ? (exists(@))`, 'jsonpath')}) as v`,
    )
    .join(' union all ');
  const inner = parts('vs.v');
  const best = `(select vs.v from (${sources}) as vs(v) order by ${inner.r} ${dir}, ${inner.n} ${dir}, ${inner.s} ${dir}, ${inner.b} ${dir} limit 1)`;
  let value = best;
  if (plain) {
    const direct = `(e.value #> ${params.add(segments, 'text[]')})`;
    value = `case when ${direct} is not null and jsonb_typeof(${direct}) <> 'array' then ${direct} else ${best} end`;
  }
  const col = parts(k);
  return {
    inner: `${value} as k${i}`,
    select: [`${col.r} as k${i}_r`, `${col.n} as k${i}_n`, `${col.s} as k${i}_s`, `${col.b} as k${i}_b`],
    orderBy: [`k${i}_r ${dir}`, `k${i}_n ${dir}`, `k${i}_s ${dir}`, `k${i}_b ${dir}`],
    read(row) {
      switch (Number(row[`k${i}_r`])) {
        case 1:
          return Number(row[`k${i}_n`]);
        case 2:
          return row[`k${i}_s`] as string;
        case 3:
          return OBJECT_VALUE;
        case 4:
          return row[`k${i}_b`] as boolean;
        default:
          return null;
      }
    },
    compare(c, params) {
      const rc = rank(c);
      const value =
        rc === 1
          ? { col: col.n, p: params.add(c, 'float8') }
          : rc === 2
            ? { col: col.s, p: `${params.add(c, 'text')} collate "C"` }
            : rc === 4
              ? { col: col.b, p: params.add(c, 'boolean') }
              : undefined;
      const sameRank = `${col.r} = ${rc}`;
      const rankAfter = `${col.r} ${gt} ${rc}`;
      if (!value) return [rankAfter, sameRank];
      return [
        `(${rankAfter} or (${sameRank} and ${value.col} ${gt} ${value.p}))`,
        `(${sameRank} and ${value.col} = ${value.p})`,
      ];
    },
  };
}

function columnKey(
  i: number,
  field: SortField,
  column: { sql: string; type: 'string' | 'number' },
): FieldKey {
  const dir = field.direction === 'asc' ? 'asc' : 'desc';
  const gt = dir === 'asc' ? '>' : '<';
  const k = `k${i}`;
  // String columns have the "C" collation already (schema.ts), so the expression matches their indexes.
  const expr = column.type === 'number' ? `${column.sql}::float8` : column.sql;
  const fixedRank = column.type === 'number' ? 1 : 2;
  return {
    select: [`${expr} as ${k}_v`],
    orderBy: [`${k}_v ${dir}`],
    read: (row) => (column.type === 'number' ? Number(row[`${k}_v`]) : (row[`${k}_v`] as string)),
    compare(c, params) {
      const rc = rank(c);
      if (rc !== fixedRank)
        return [(dir === 'asc' ? fixedRank > rc : fixedRank < rc) ? 'true' : 'false', 'false'];
      const p = column.type === 'number' ? params.add(c, 'float8') : `${params.add(c, 'text')} collate "C"`;
      return [`${expr} ${gt} ${p}`, `${expr} = ${p}`];
    },
  };
}

/** The SQL of an effective sort (with its tie-breaker, from compileSort(…).fields). */
export function compileSortSql(fields: readonly SortField[], params: Params): SqlSortKey {
  const keys = fields.map((field, i) => {
    const column = columnOf(field.property);
    return column ? columnKey(i, field, column) : pathKey(i, field, params);
  });
  return {
    inner: keys.flatMap((k) => (k.inner ? [k.inner] : [])),
    select: keys.flatMap((k) => k.select),
    orderBy: keys.flatMap((k) => k.orderBy),
    read: (row) => keys.map((k) => k.read(row)),
    after(after, params) {
      const alternatives: string[] = [];
      const equalSoFar: string[] = [];
      for (let i = 0; i < keys.length; i++) {
        const [gt, eq] = keys[i].compare(after[i], params);
        if (gt !== 'false')
          alternatives.push([...equalSoFar, gt].filter((c) => c !== 'true').join(' and ') || 'true');
        if (eq === 'false') break;
        equalSoFar.push(eq);
      }
      if (alternatives.length === 0) return 'false';
      return alternatives.length === 1
        ? alternatives[0]
        : `(${alternatives.map((a) => `(${a})`).join(' or ')})`;
    },
  };
}
