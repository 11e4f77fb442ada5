import { describe, expect, it } from 'vitest';
import { parseRql } from '../../../src/search/rql/parser.js';
import { parseSearchOptions } from '../../../src/search/rql/options.js';
import { SearchIndex } from '../../../src/search/search-index.js';
import { compileSort } from '../../../src/search/sort.js';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function makeThing(i: number, kind: string, rnd: () => number, prefix = 't') {
  return {
    thingId: `org.test:${prefix}-${String(i).padStart(4, '0')}`,
    policyId: 'org.test:p',
    attributes: { kind, n: i % 37, name: `name-${Math.floor(rnd() * 500)}`, other: 0 },
    features: { f: { properties: { v: rnd() } } },
    _revision: 1 + (i % 5),
  };
}

function errorOf(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('SearchIndex paging', () => {
  const filter = parseRql('eq(attributes/kind,"m")');

  for (const option of ['', 'sort(-thingId)', 'sort(-attributes/n)', 'sort(+attributes/name,-_revision)']) {
    it(`returns 1000 matches exactly once and in order with size(7) and ${option || 'the default sort'}, also while things are inserted`, () => {
      const rnd = random(7);
      const index = new SearchIndex();
      for (let i = 0; i < 1000; i++) index.upsert(makeThing(i, 'm', rnd));
      for (let i = 1000; i < 1200; i++) index.upsert(makeThing(i, 'x', rnd));
      const sort = parseSearchOptions(option).sort;
      const compiled = compileSort(sort);
      const seen: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      let pages = 0;
      let inserted = 0;
      do {
        const page = index.query({ filter, sort, size: 7, cursor });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items);
        cursor = page.cursor;
        pages++;
        // concurrent writes between pages: new matching and non-matching things, and an update of an
        // existing thing that leaves its sort values alone
        for (let k = 0; k < 2; k++) index.upsert(makeThing(inserted++, 'm', rnd, 'new'));
        index.upsert(makeThing(inserted++, 'x', rnd, 'new'));
        const victim = index.get(`org.test:t-${String(Math.floor(rnd() * 1000)).padStart(4, '0')}`)!;
        index.upsert({ ...victim, attributes: { ...(victim.attributes as object), other: pages } });
      } while (cursor !== undefined && pages < 1000);
      const ids = seen.map((t) => t.thingId as string);
      expect(new Set(ids).size).toBe(ids.length);
      const originals = ids.filter((id) => id.startsWith('org.test:t-'));
      expect(originals.length).toBe(1000);
      for (let i = 1; i < seen.length; i++) {
        expect(compiled.compare(compiled.key(seen[i - 1]), compiled.key(seen[i]))).toBeLessThan(0);
      }
    });
  }

  it('omits the cursor on the last page', () => {
    const index = new SearchIndex();
    const rnd = random(1);
    for (let i = 0; i < 14; i++) index.upsert(makeThing(i, 'm', rnd));
    const first = index.query({ filter, size: 7 });
    expect(first.cursor).toBeTypeOf('string');
    const second = index.query({ filter, size: 7, cursor: first.cursor });
    expect(second.items).toHaveLength(7);
    expect(second.cursor).toBeUndefined();
  });

  it('rejects a cursor reused with another filter or sort', () => {
    const index = new SearchIndex();
    const rnd = random(2);
    for (let i = 0; i < 20; i++) index.upsert(makeThing(i, 'm', rnd));
    const { cursor } = index.query({ filter, size: 5 });
    const other = errorOf(() =>
      index.query({ filter: parseRql('eq(attributes/kind,"x")'), size: 5, cursor }),
    );
    expect(other.toJSON()).toMatchObject({ status: 400, error: 'thing-search:search.option.invalid' });
    expect(other.message).toContain('another filter or sort');
    const otherSort = errorOf(() =>
      index.query({ filter, sort: [{ property: '_revision', direction: 'asc' }], size: 5, cursor }),
    );
    expect(otherSort.message).toContain('another filter or sort');
    // the same filter and sort with another page size is fine
    expect(index.query({ filter, size: 3, cursor }).items).toHaveLength(3);
  });

  it('rejects a malformed cursor', () => {
    const index = new SearchIndex();
    for (const cursor of ['!!!', 'bm90IGpzb24', Buffer.from('[1,2]').toString('base64url')]) {
      expect(errorOf(() => index.query({ cursor })).message).toContain('cursor is invalid');
    }
  });
});

describe('SearchIndex', () => {
  const things = [
    { thingId: 'a:1', attributes: { color: 'red', size: 1 }, owner: 'alice' },
    { thingId: 'a:2', attributes: { color: 'blue', size: 2 }, owner: 'bob' },
    { thingId: 'b:3', attributes: { color: 'red', size: 3 }, owner: 'alice' },
  ];
  const load = () => {
    const index = new SearchIndex();
    for (const t of things) index.upsert(t);
    return index;
  };
  const ids = (r: { items: Array<Record<string, unknown>> }) => r.items.map((t) => t.thingId);

  it('keeps per-path indexes current on upsert and remove', () => {
    const index = load();
    const red = parseRql('eq(attributes/color,"red")');
    const big = parseRql('gt(attributes/size,1)');
    expect(ids(index.query({ filter: red }))).toEqual(['a:1', 'b:3']);
    expect(index.indexedPaths()).toContain('attributes/color');
    expect(index.indexedPaths()).not.toContain('attributes/size');
    expect(ids(index.query({ filter: big }))).toEqual(['a:2', 'b:3']);
    index.upsert({ thingId: 'a:1', attributes: { color: 'green', size: 9 } });
    index.remove('b:3');
    index.upsert({ thingId: 'c:4', attributes: { color: 'red', size: 0 } });
    expect(ids(index.query({ filter: red }))).toEqual(['c:4']);
    expect(ids(index.query({ filter: big }))).toEqual(['a:1', 'a:2']);
    expect(index.count({ filter: parseRql('exists(attributes/color)') })).toBe(3);
    expect(index.size).toBe(3);
    expect(index.remove('b:3')).toBe(false);
  });

  it('keeps path indexes current when a copy-on-write change shares the untouched subtrees', () => {
    const index = new SearchIndex();
    const v1 = {
      thingId: 'a:1',
      attributes: { color: 'red', size: 1 },
      features: { f: { properties: { v: 1 } } },
    };
    index.upsert(v1);
    const red = parseRql('eq(attributes/color,"red")');
    const v2 = parseRql('eq(features/f/properties/v,2)');
    expect(index.count({ filter: red })).toBe(1);
    expect(index.count({ filter: v2 })).toBe(0);
    // features changed, attributes shared (the same object), as the things service writes it.
    const next = { ...v1, features: { f: { properties: { v: 2 } } } };
    index.upsert(next);
    expect(index.count({ filter: red })).toBe(1);
    expect(index.count({ filter: v2 })).toBe(1);
    // attributes changed, features shared.
    index.upsert({ ...next, attributes: { ...next.attributes, color: 'blue' } });
    expect(index.count({ filter: red })).toBe(0);
    expect(index.count({ filter: parseRql('eq(attributes/color,"blue")') })).toBe(1);
    expect(index.count({ filter: v2 })).toBe(1);
  });

  it('keeps at most maxPathIndexes path indexes, dropping the least recently used', () => {
    const index = new SearchIndex({ maxPathIndexes: 2 });
    for (const t of things) index.upsert(t);
    const count = (filter: string) => index.count({ filter: parseRql(filter) });
    expect(count('eq(attributes/color,"red")')).toBe(2);
    expect(count('gt(attributes/size,1)')).toBe(2);
    expect(count('eq(attributes/color,"blue")')).toBe(1); // color is now the most recently used
    expect(count('exists(attributes/shape)')).toBe(0); // a third path evicts size
    expect(index.indexedPaths().sort()).toEqual(['attributes/color', 'attributes/shape', 'thingId']);
    expect(count('ge(attributes/size,2)')).toBe(2); // rebuilt on demand, evicting color
    expect(index.indexedPaths().sort()).toEqual(['attributes/shape', 'attributes/size', 'thingId']);
  });

  it('filters by the caller view before paging and counting', () => {
    const index = load();
    const view = (t: Record<string, unknown>) => (t.owner === 'alice' ? t : undefined);
    expect(index.count({ view })).toBe(2);
    const first = index.query({ view, size: 1 });
    expect(ids(first)).toEqual(['a:1']);
    const second = index.query({ view, size: 1, cursor: first.cursor });
    expect(ids(second)).toEqual(['b:3']);
    expect(second.cursor).toBeUndefined();
  });

  it('restricts results to the given namespaces', () => {
    const index = load();
    expect(ids(index.query({ namespaces: ['b'] }))).toEqual(['b:3']);
    expect(index.count({ filter: parseRql('eq(attributes/color,"red")'), namespaces: ['a', 'c'] })).toBe(1);
  });

  it('answers deprecated offset paging with nextPageOffset', () => {
    const index = load();
    expect(index.query({ offset: 0, size: 2 })).toMatchObject({ nextPageOffset: 2 });
    expect(index.query({ offset: 2, size: 2 })).toMatchObject({ nextPageOffset: -1 });
    expect(ids(index.query({ offset: 2, size: 2 }))).toEqual(['b:3']);
  });

  it('fails with thing-search:query.time.exceeded when the query runs too long', () => {
    const index = new SearchIndex();
    for (let i = 0; i < 5000; i++) index.upsert({ thingId: `n:${i}`, attributes: { i } });
    const slow = (t: Record<string, unknown>) => {
      const until = performance.now() + 0.01;
      while (performance.now() < until);
      return t;
    };
    const error = errorOf(() =>
      index.count({ filter: parseRql('ne(attributes/i,-1)'), view: slow, timeoutMs: 5 }),
    );
    expect(error.toJSON()).toMatchObject({ status: 408, error: 'thing-search:query.time.exceeded' });
  });

  it('looks at the views of few candidates for a page sorted on always-visible fields, however they are ordered', () => {
    // Candidates come in creation order, which `sort(-_modified)` visits worst first.
    const index = new SearchIndex();
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 3000; i++) {
      index.upsert({
        thingId: `n:t${String(i).padStart(4, '0')}`,
        attributes: { kind: i % 3 === 0 ? 'x' : 'm', n: i % 7 },
        _revision: i % 4,
        _modified: new Date(base + i * 1000).toISOString(),
      });
    }
    const hidden = (t: Record<string, unknown>) => /[05]$/.test(t.thingId as string); // unreadable things
    let looked = 0;
    const view = (t: Record<string, unknown>) => {
      looked++;
      return hidden(t) ? undefined : t;
    };
    // Many candidates (the first sort field's order is walked) and a few hundred (selected by key).
    for (const [text, matches] of [
      [
        'and(eq(attributes/kind,"m"),gt(attributes/n,1))',
        (a: { kind: string; n: number }) => a.kind === 'm' && a.n > 1,
      ],
      [
        'and(eq(attributes/kind,"m"),eq(attributes/n,3))',
        (a: { kind: string; n: number }) => a.kind === 'm' && a.n === 3,
      ],
    ] as const) {
      const filter = parseRql(text);
      for (const option of ['sort(-_modified)', 'sort(+_revision,-thingId)']) {
        const sort = parseSearchOptions(option).sort;
        const keys = compileSort(sort);
        const expected = [...Array(3000).keys()]
          .map((i) => index.get(`n:t${String(i).padStart(4, '0')}`)!)
          .filter((t) => !hidden(t) && matches(t.attributes as { kind: string; n: number }))
          .sort((a, b) => keys.compare(keys.key(a), keys.key(b)))
          .map((t) => t.thingId);
        looked = 0;
        const first = index.query({ filter, sort, size: 25, view });
        expect(ids(first)).toEqual(expected.slice(0, 25));
        expect(looked, `${text} ${option}`).toBeLessThan(60); // 285 or 1,428 candidates
        const seen = ids(first);
        let cursor = first.cursor;
        while (cursor !== undefined) {
          const page = index.query({ filter, sort, size: 25, view, cursor });
          seen.push(...ids(page));
          cursor = page.cursor;
        }
        expect(seen, `${text} ${option}`).toEqual(expected);
      }
    }
  });

  it('rejects a thing without a thingId', () => {
    expect(() => new SearchIndex().upsert({ attributes: {} })).toThrow(TypeError);
  });
});
