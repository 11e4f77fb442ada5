import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/search/evaluate.js';
import { parseRql } from '../../../src/search/rql/parser.js';
import { parseSearchOptions } from '../../../src/search/rql/options.js';
import { SearchIndex } from '../../../src/search/search-index.js';
import { compileSort } from '../../../src/search/sort.js';

// The index must answer exactly what the evaluator (mode search) answers, for any filter: random things
// with mixed types, arrays, nulls and missing fields against random filters.

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const VALUES = ['1', '2', '2.5', '-1', '"a"', '"b"', '"B"', '"ab"', 'true', 'false', 'null', '"1"'];
const PATHS = [
  'attributes/x',
  'attributes/y',
  'attributes/o/z',
  'features/*/properties/p',
  'features/f1/properties/p',
  '_revision',
];

describe('SearchIndex against the evaluator', () => {
  it('returns the same things for every single-operator filter and 400 random combinations', () => {
    const rnd = random(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const jsonValue = (): unknown => {
      const r = rnd();
      if (r < 0.1) return undefined;
      if (r < 0.2) return [JSON.parse(pick(VALUES)), JSON.parse(pick(VALUES))];
      if (r < 0.25) return r < 0.225 ? [] : {};
      if (r < 0.3) return '';
      return JSON.parse(pick(VALUES));
    };
    const things = Array.from({ length: 300 }, (_, i) => {
      const attributes: Record<string, unknown> = {
        x: jsonValue(),
        y: jsonValue(),
        o: rnd() < 0.5 ? { z: jsonValue() } : jsonValue(),
      };
      const features: Record<string, unknown> = {};
      if (rnd() < 0.7) features.f1 = { properties: { p: jsonValue() } };
      if (rnd() < 0.5) features.f2 = { properties: { p: jsonValue() } };
      return JSON.parse(
        JSON.stringify({ thingId: `ns${i % 3}:t${i}`, attributes, features, _revision: i % 7 }),
      );
    });
    const index = new SearchIndex();
    for (const t of things) index.upsert(t);

    const leaf = (): string => {
      const op = pick(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'like', 'ilike', 'exists', 'empty']);
      const path = pick(PATHS);
      if (op === 'exists' || op === 'empty') return `${op}(${path})`;
      if (op === 'in') return `in(${path},${pick(VALUES)},${pick(VALUES)})`;
      if (op === 'like' || op === 'ilike')
        return `${op}(${path},${pick(['"a*"', '"*b"', '"?"', '"A?"', '"*"'])})`;
      return `${op}(${path},${pick(VALUES)})`;
    };
    const filter = (depth: number): string => {
      if (depth === 0 || rnd() < 0.4) return leaf();
      const op = pick(['and', 'or', 'not']);
      if (op === 'not') return `not(${filter(depth - 1)})`;
      return `${op}(${filter(depth - 1)},${filter(depth - 1)})`;
    };

    // every single-operator filter, then random combinations
    const leaves: string[] = [];
    for (const path of PATHS) {
      leaves.push(`exists(${path})`, `empty(${path})`);
      for (const value of VALUES) {
        for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le']) leaves.push(`${op}(${path},${value})`);
        leaves.push(`in(${path},${value},"a")`);
      }
      for (const glob of ['"a*"', '"*b"', '"?"', '"A?"', '"*"'])
        leaves.push(`like(${path},${glob})`, `ilike(${path},${glob})`);
    }
    const filters = [...leaves, ...Array.from({ length: 400 }, () => filter(3))];
    for (const text of filters) {
      const ast = parseRql(text);
      const predicate = compileFilter(ast, { mode: 'search' });
      const expected = things
        .filter(predicate)
        .map((t) => t.thingId as string)
        .sort();
      const actual = index
        .query({ filter: ast, size: 1000 })
        .items.map((t) => t.thingId as string)
        .sort();
      expect(actual, text).toEqual(expected);
      expect(index.count({ filter: ast }), text).toBe(expected.length);
    }
  });

  // Sorts on fields every reader sees are read off the first field's sorted values when every thing has
  // values of one type there (also several, also equal ones), else selected among the candidates.
  for (const shape of ['one value each', 'arrays and ties', 'a thing without a value']) {
    it(`pages in the order of the sort keys with a caller view, ${shape}`, () => {
      const rnd = random(shape.length);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const things = Array.from({ length: 240 }, (_, i) => {
        const several = shape === 'arrays and ties' && rnd() < 0.3;
        const thing: Record<string, unknown> = {
          thingId: `ns${i % 3}:t${String(i).padStart(3, '0')}`,
          attributes: { x: pick([1, 2, 'a', null, true]), k: i % 4 },
          _revision: several
            ? [Math.floor(rnd() * 20), Math.floor(rnd() * 20)]
            : shape === 'arrays and ties'
              ? i % 5
              : (i * 7) % 240,
          _modified: several
            ? [`2026-01-0${1 + Math.floor(rnd() * 9)}`, `2026-02-0${1 + Math.floor(rnd() * 9)}`]
            : `2026-01-0${1 + (i % 9)}T${String(i).padStart(3, '0')}`,
        };
        if (shape === 'a thing without a value' && i === 17) delete thing._modified;
        if (shape === 'a thing without a value' && i === 18) thing._revision = 'r';
        return thing;
      });
      const index = new SearchIndex();
      for (const t of things) index.upsert(t);
      const hidden = (t: Record<string, unknown>) => Number(String(t.thingId).slice(-2)) % 5 === 0;
      const view = (t: Record<string, unknown>) => (hidden(t) ? undefined : t);
      const filters = [
        undefined,
        'eq(attributes/k,1)',
        'ne(attributes/x,1)',
        'or(eq(attributes/k,0),exists(attributes/y))',
        'gt(_revision,3)',
        'not(eq(attributes/k,2))',
      ];
      const options = [
        'sort(+_modified)',
        'sort(-_modified)',
        'sort(-_revision,+attributes/x)',
        'sort(+_revision,-thingId)',
        'sort(-thingId)',
        'sort(+thingId,-attributes/x)',
      ];
      for (const text of filters) {
        for (const option of options) {
          const ast = text === undefined ? undefined : parseRql(text);
          const predicate = ast ? compileFilter(ast, { mode: 'search' }) : () => true;
          const sort = parseSearchOptions(option).sort;
          const keys = compileSort(sort);
          const expected = things
            .filter((t) => !hidden(t) && predicate(t))
            .sort((a, b) => keys.compare(keys.key(a), keys.key(b)))
            .map((t) => t.thingId);
          const seen: unknown[] = [];
          let cursor: string | undefined;
          do {
            const page = index.query({ filter: ast, sort, size: 4, cursor, view });
            seen.push(...page.items.map((t) => t.thingId));
            cursor = page.cursor;
          } while (cursor !== undefined);
          expect(seen, `${text} ${option}`).toEqual(expected);
        }
      }
    });
  }
});
