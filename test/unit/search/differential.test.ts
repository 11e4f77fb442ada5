import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/search/evaluate.js';
import { parseRql } from '../../../src/search/rql/parser.js';
import { SearchIndex } from '../../../src/search/search-index.js';

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
});
