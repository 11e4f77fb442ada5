import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/search/evaluate.js';
import { parseNamespaces } from '../../../src/search/rql/namespaces.js';
import { parseSearchOptions } from '../../../src/search/rql/options.js';
import { parseRql } from '../../../src/search/rql/parser.js';
import { SearchIndex } from '../../../src/search/search-index.js';
import { compileSort } from '../../../src/search/sort.js';
import { namespaceOf } from '../../../src/search/values.js';
import { CORPUS_NOW, INVALID, QUERIES, THINGS, type CorpusQuery } from './corpus.js';

const now = new Date(CORPUS_NOW);

function label(q: CorpusQuery): string {
  return [
    q.filter ?? '(no filter)',
    q.options && `option=${q.options}`,
    q.namespaces && `namespaces=${q.namespaces}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Reference: the evaluator over every thing, then the sort and the page cut. */
function viaEvaluator(q: CorpusQuery): string[] {
  const options = parseSearchOptions(q.options);
  const namespaces = parseNamespaces(q.namespaces);
  const predicate = q.filter ? compileFilter(parseRql(q.filter), { mode: 'search', now }) : () => true;
  const sort = compileSort(options.sort);
  const matches = THINGS.filter(
    (t) => predicate(t) && (!namespaces || namespaces.includes(namespaceOf(t.thingId) ?? '')),
  );
  matches.sort((a, b) => sort.compare(sort.key(a), sort.key(b)));
  const offset = options.limit?.offset ?? 0;
  const size = options.limit?.count ?? options.size ?? 25;
  return matches.slice(offset, offset + size).map((t) => t.thingId as string);
}

function viaIndex(index: SearchIndex, q: CorpusQuery): string[] {
  const options = parseSearchOptions(q.options);
  const result = index.query({
    filter: q.filter ? parseRql(q.filter) : undefined,
    namespaces: parseNamespaces(q.namespaces),
    sort: options.sort,
    size: options.limit?.count ?? options.size,
    offset: options.limit?.offset,
    now,
  });
  return result.items.map((t) => t.thingId as string);
}

describe('RQL search corpus', () => {
  it('has at least 60 queries over about 20 things', () => {
    expect(QUERIES.length).toBeGreaterThanOrEqual(60);
    expect(THINGS.length).toBe(20);
  });

  describe('evaluator (mode search)', () => {
    for (const q of QUERIES) {
      it(`answers ${label(q)}`, () => {
        expect(viaEvaluator(q)).toEqual(q.expectedIds);
      });
    }
  });

  describe('search index', () => {
    const index = new SearchIndex();
    for (const thing of THINGS) index.upsert(thing);
    for (const q of QUERIES) {
      it(`answers ${label(q)}`, () => {
        expect(viaIndex(index, q)).toEqual(q.expectedIds);
      });
    }
    it('counts what the queries without paging options return', () => {
      for (const q of QUERIES.filter((x) => !x.options)) {
        const count = index.count({
          filter: q.filter ? parseRql(q.filter) : undefined,
          namespaces: parseNamespaces(q.namespaces),
          now,
        });
        expect(count, label(q)).toBe(q.expectedIds.length);
      }
    });
  });

  describe('invalid expressions', () => {
    for (const { filter, position } of INVALID) {
      it(`rejects ${JSON.stringify(filter)} naming position ${position}`, () => {
        let error: any;
        try {
          parseRql(filter);
        } catch (e) {
          error = e;
        }
        expect(error?.toJSON?.()).toMatchObject({ status: 400, error: 'rql.expression.invalid' });
        expect(error.message).toContain(`at position ${position}:`);
      });
    }
  });
});
