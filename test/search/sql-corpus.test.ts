import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import { createPostgresDriver, type PostgresDriver } from '../drivers/postgres.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { EntityRecord } from '../../src/store/port.js';
import { SqlThingSearch } from '../../src/search/sql/search.js';
import { parseNamespaces } from '../../src/search/rql/namespaces.js';
import { parseSearchOptions } from '../../src/search/rql/options.js';
import { parseRql } from '../../src/search/rql/parser.js';
import { compileFilter } from '../../src/search/evaluate.js';
import { compileSort } from '../../src/search/sort.js';
import { partialViewer } from '../../src/search/view.js';
import { createEnforcer } from '../../src/policies/enforcer.js';
import { CORPUS_NOW, QUERIES, THINGS, type CorpusQuery } from '../unit/search/corpus.js';

// The RQL search corpus (test/unit/search/corpus.ts) unchanged against PostgreSQL: the corpus things are
// written through the PostgresStore (their _revision/_created/_modified as the record's fields) and every
// query must give the expected ids in order, and its count.

const now = new Date(CORPUS_NOW);
let driver: PostgresDriver;
const schemas: string[] = [];

async function storeWith(things: Array<Record<string, unknown>>): Promise<PostgresStore> {
  const endpoint = await getBroker('postgres');
  driver ??= createPostgresDriver(endpoint);
  const schema = `tb_search_${Math.random().toString(36).slice(2, 10)}`;
  schemas.push(schema);
  const store = new PostgresStore({ connectionString: endpoint.url, schema, poolSize: 4 });
  await store.open();
  await Promise.all(things.map((thing) => store.write([{ record: recordOf(thing), expectedRevision: 0 }])));
  return store;
}

function recordOf(thing: Record<string, unknown>): EntityRecord {
  const { _revision, _created, _modified, ...value } = thing;
  return {
    kind: 'thing',
    id: thing.thingId as string,
    revision: (_revision as number | undefined) ?? 1,
    created: (_created as string | undefined) ?? '2026-01-01T00:00:00Z',
    modified: (_modified as string | undefined) ?? '2026-01-01T00:00:00Z',
    value,
  };
}

keepBrokersUp('postgres');

afterAll(async () => {
  for (const schema of schemas) await driver?.dropSchema(schema);
  await driver?.close();
});

function label(q: CorpusQuery): string {
  return [
    q.filter ?? '(no filter)',
    q.options && `option=${q.options}`,
    q.namespaces && `namespaces=${q.namespaces}`,
  ]
    .filter(Boolean)
    .join(' ');
}

describe('RQL search corpus on PostgreSQL', () => {
  let store: PostgresStore;
  let search: SqlThingSearch;
  beforeAll(async () => {
    store = await storeWith(THINGS);
    search = new SqlThingSearch(store);
  });
  afterAll(async () => store.close());

  for (const q of QUERIES) {
    it(`answers ${label(q)}`, async () => {
      const options = parseSearchOptions(q.options);
      const result = await search.query({
        filter: q.filter ? parseRql(q.filter, 'search') : undefined,
        namespaces: parseNamespaces(q.namespaces),
        sort: options.sort,
        size: options.limit?.count ?? options.size,
        offset: options.limit?.offset,
        now,
      });
      expect(result.items.map((t) => t.thingId)).toEqual(q.expectedIds);
    });
  }

  it('counts what the queries without paging options return', async () => {
    for (const q of QUERIES.filter((x) => !x.options)) {
      const count = await search.count({
        filter: q.filter ? parseRql(q.filter, 'search') : undefined,
        namespaces: parseNamespaces(q.namespaces),
        now,
      });
      expect(count, label(q)).toBe(q.expectedIds.length);
    }
  });

  it('pages with a caller view applied after fetching and counts with it', async () => {
    const canRead = (t: Record<string, unknown>) => t.policyId === 'org.acme:policy-a';
    const view = (t: Record<string, unknown>) => (canRead(t) ? t : undefined);
    const expected = THINGS.filter(canRead)
      .map((t) => t.thingId as string)
      .sort();
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await search.query({ size: 2, cursor, view, now });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.thingId));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(expected);
    expect(await search.count({ view, now })).toBe(expected.length);
  });
});

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe('SQL search against the evaluator', () => {
  // Random things with mixed types, arrays (also nested, and of objects), numeric keys, nulls and missing
  // fields; random filters and sorts. SQL must give exactly the evaluator's results and compileSort's order.
  const VALUES = [
    '1',
    '2',
    '2.5',
    '-1',
    '"a"',
    '"b"',
    '"B"',
    '"ab"',
    '"é"',
    'true',
    'false',
    'null',
    '"1"',
    '""',
  ];
  const PATHS = [
    'attributes/x',
    'attributes/y',
    'attributes/o/z',
    'attributes/list/k',
    'attributes/list/0',
    'attributes/0',
    'features/*/properties/p',
    'features/f1/properties/p',
    '_revision',
    'thingId',
    '_namespace',
  ];
  const rnd = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const jsonValue = (depth = 0): unknown => {
    const r = rnd();
    if (r < 0.1) return undefined;
    if (r < 0.2 && depth < 2)
      return [jsonValue(depth + 1), jsonValue(depth + 1)].filter((v) => v !== undefined);
    if (r < 0.25) return r < 0.225 ? [] : {};
    if (r < 0.3 && depth < 2) return { k: jsonValue(depth + 1), 0: jsonValue(depth + 1) };
    return JSON.parse(pick(VALUES));
  };
  const things = Array.from({ length: 300 }, (_, i) => {
    const attributes: Record<string, unknown> = {
      x: jsonValue(),
      y: jsonValue(),
      o: rnd() < 0.5 ? { z: jsonValue() } : jsonValue(),
      list: rnd() < 0.6 ? [{ k: jsonValue() }, jsonValue(), [{ k: jsonValue() }]] : jsonValue(),
      0: jsonValue(),
    };
    const features: Record<string, unknown> = {};
    if (rnd() < 0.7) features.f1 = { properties: { p: jsonValue() } };
    if (rnd() < 0.5) features.f2 = { properties: { p: jsonValue() } };
    return JSON.parse(
      JSON.stringify({
        thingId: `ns${i % 3}:t${i}`,
        attributes,
        features,
        _revision: 1 + (i % 7),
        _created: 'c',
        _modified: 'm',
      }),
    ) as Record<string, unknown>;
  });
  let store: PostgresStore;
  let search: SqlThingSearch;
  beforeAll(async () => {
    store = await storeWith(things);
    search = new SqlThingSearch(store);
  });
  afterAll(async () => store.close());

  const leaf = (): string => {
    const op = pick(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'like', 'ilike', 'exists', 'empty']);
    const path = pick(PATHS);
    if (op === 'exists' || op === 'empty') return `${op}(${path})`;
    if (op === 'in') return `in(${path},${pick(VALUES)},${pick(VALUES)})`;
    if (op === 'like' || op === 'ilike')
      return `${op}(${path},${pick(['"a*"', '"*b"', '"?"', '"A?"', '"*"', '"É"', '"ns1*"'])})`;
    return `${op}(${path},${pick(VALUES)})`;
  };
  const filter = (depth: number): string => {
    if (depth === 0 || rnd() < 0.4) return leaf();
    const op = pick(['and', 'or', 'not']);
    if (op === 'not') return `not(${filter(depth - 1)})`;
    return `${op}(${filter(depth - 1)},${filter(depth - 1)})`;
  };

  it('returns the same things for every single-operator filter and 300 random combinations', async () => {
    const leaves: string[] = [];
    for (const path of PATHS) {
      leaves.push(`exists(${path})`, `empty(${path})`);
      for (const value of VALUES) {
        for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le']) leaves.push(`${op}(${path},${value})`);
        leaves.push(`in(${path},${value},"a")`);
      }
      for (const glob of ['"a*"', '"*b"', '"?"', '"A?"', '"*"', '"É"'])
        leaves.push(`like(${path},${glob})`, `ilike(${path},${glob})`);
    }
    const filters = [...leaves, ...Array.from({ length: 300 }, () => filter(3))];
    for (const text of filters) {
      const ast = parseRql(text, 'search');
      const predicate = compileFilter(ast, { mode: 'search' });
      const expected = things
        .filter(predicate)
        .map((t) => t.thingId as string)
        .sort();
      const actual = (await search.query({ filter: ast, size: 1000 })).items.map((t) => t.thingId as string);
      expect(actual, text).toEqual(expected);
      expect(await search.count({ filter: ast }), text).toBe(expected.length);
    }
  });

  for (const option of [
    'sort(+attributes/x)',
    'sort(-attributes/x)',
    'sort(+attributes/list/k,-features/*/properties/p)',
    'sort(-_revision,+attributes/o)',
    'sort(-thingId)',
    'sort(+_namespace,-attributes/y)',
  ]) {
    it(`orders and pages like compileSort with size(7) and ${option}`, async () => {
      const sort = parseSearchOptions(option).sort;
      const compiled = compileSort(sort);
      const expected = [...things]
        .sort((a, b) => compiled.compare(compiled.key(a), compiled.key(b)))
        .map((t) => t.thingId);
      const seen: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = await search.query({ sort, size: 7, cursor });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((t) => t.thingId));
        cursor = page.cursor;
      } while (cursor !== undefined && seen.length <= things.length);
      expect(seen).toEqual(expected);
    });
  }
});

describe('SQL search paging while things change', () => {
  const makeThing = (i: number, kind: string, rnd: () => number, prefix = 't') => ({
    thingId: `org.test:${prefix}-${String(i).padStart(4, '0')}`,
    policyId: 'org.test:p',
    attributes: { kind, n: i % 37, name: `name-${Math.floor(rnd() * 500)}`, other: 0 },
    features: { f: { properties: { v: rnd() } } },
    _revision: 1 + (i % 5),
  });
  const filter = parseRql('eq(attributes/kind,"m")', 'search');

  // (Not -_revision as the in-memory index test does: a store update raises the revision, so it would move.)
  for (const option of [
    '',
    'sort(-thingId)',
    'sort(-attributes/n)',
    'sort(+attributes/name,-attributes/n)',
  ]) {
    it(`returns 1000 matches exactly once and in order with size(7) and ${option || 'the default sort'}, also while things are written`, async () => {
      const rnd = random(7);
      const things = [
        ...Array.from({ length: 1000 }, (_, i) => makeThing(i, 'm', rnd)),
        ...Array.from({ length: 200 }, (_, i) => makeThing(1000 + i, 'x', rnd)),
      ];
      const store = await storeWith(things);
      const search = new SqlThingSearch(store);
      const sort = parseSearchOptions(option).sort;
      const compiled = compileSort(sort);
      const seen: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      let pages = 0;
      let inserted = 0;
      try {
        do {
          const page = await search.query({ filter, sort, size: 7, cursor });
          expect(page.items.length).toBeLessThanOrEqual(7);
          seen.push(...page.items);
          cursor = page.cursor;
          pages++;
          // writes between pages: new matching and non-matching things, and an update of an existing
          // thing that leaves its sort values alone
          for (const thing of [
            makeThing(inserted++, 'm', rnd, 'new'),
            makeThing(inserted++, 'x', rnd, 'new'),
          ]) {
            await store.write([{ record: recordOf(thing), expectedRevision: 0 }]);
          }
          const victim = await store.get(
            'thing',
            `org.test:t-${String(Math.floor(rnd() * 1000)).padStart(4, '0')}`,
          );
          const value = victim!.value as { attributes: object };
          await store.write([
            {
              record: {
                ...victim!,
                revision: victim!.revision + 1,
                value: { ...value, attributes: { ...value.attributes, other: pages } },
              },
              expectedRevision: victim!.revision,
            },
          ]);
        } while (cursor !== undefined && pages < 1000);
      } finally {
        await store.close();
      }
      const ids = seen.map((t) => t.thingId as string);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => id.startsWith('org.test:t-')).length).toBe(1000);
      for (let i = 1; i < seen.length; i++) {
        expect(compiled.compare(compiled.key(seen[i - 1]), compiled.key(seen[i]))).toBeLessThan(0);
      }
    });
  }
});

describe('SQL search on a caller view', () => {
  // The caller may not read attributes/h nor features/secret: the SQL filter is only a superset, the view
  // decides, and a sort on a hidden field orders by the view. Two stores differ in the hidden values only.
  const USER = 'nginx:user';
  const enforcer = createEnforcer({
    policyId: 'ns:p',
    entries: {
      e: {
        subjects: { [USER]: { type: 't' } },
        resources: {
          'thing:/': { grant: ['READ'], revoke: [] },
          'thing:/attributes/h': { grant: [], revoke: ['READ'] },
          'thing:/features/secret': { grant: [], revoke: ['READ'] },
        },
      },
    },
  });
  const VALUES = ['1', '2', '"a"', '"b"', '"ab"', 'true', 'null'];
  const PATHS = [
    'attributes/x',
    'attributes/h',
    'features/secret/properties/pin',
    'features/*/properties/pin',
    '_revision',
  ];
  const rnd = random(5);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const value = () => (rnd() < 0.15 ? undefined : JSON.parse(pick(VALUES)));
  const thing = (i: number, hidden: (i: number) => unknown) =>
    JSON.parse(
      JSON.stringify({
        thingId: `ns:t${String(i).padStart(3, '0')}`,
        policyId: 'ns:p',
        attributes: { x: value(), h: hidden(i) },
        features: { secret: { properties: { pin: hidden(i + 1) } }, open: { properties: { pin: value() } } },
        _revision: 1 + (i % 4),
      }),
    ) as Record<string, unknown>;
  const a = Array.from({ length: 60 }, (_, i) =>
    thing(i, (n) => (n % 3 === 0 ? 'a' : n % 3 === 1 ? 2 : undefined)),
  );
  const b = a.map((t) => ({
    ...t,
    attributes: { ...(t.attributes as object), h: 'b' },
    features: { ...(t.features as object), secret: { properties: { pin: '0000' } } },
  }));
  const leaf = (): string => {
    const op = pick(['eq', 'ne', 'gt', 'in', 'like', 'exists', 'empty']);
    const path = pick(PATHS);
    if (op === 'exists' || op === 'empty') return `${op}(${path})`;
    if (op === 'in') return `in(${path},${pick(VALUES)},${pick(VALUES)})`;
    if (op === 'like') return `like(${path},${pick(['"a*"', '"*b"', '"?"'])})`;
    return `${op}(${path},${pick(VALUES)})`;
  };
  const filter = (depth: number): string => {
    if (depth === 0 || rnd() < 0.35) return leaf();
    const op = pick(['and', 'or', 'not']);
    return op === 'not' ? `not(${filter(depth - 1)})` : `${op}(${filter(depth - 1)},${filter(depth - 1)})`;
  };
  const whole = (t: Record<string, unknown>) => {
    const { _revision, ...rest } = t;
    return { ...(enforcer.filterReadable('thing', '/', rest, [USER]) as object), _revision } as Record<
      string,
      unknown
    >;
  };
  let stores: PostgresStore[];
  beforeAll(async () => {
    stores = [await storeWith(a), await storeWith(b)];
  });
  afterAll(async () => Promise.all(stores.map((s) => s.close())));

  it('answers the filter and order on the views, the same whatever the hidden values', async () => {
    for (let q = 0; q < 40; q++) {
      const text = q === 0 ? 'not(eq(features/secret/properties/pin,"0000"))' : filter(2);
      const option = q % 2 === 0 ? 'sort(+attributes/h,-attributes/x)' : 'sort(-_revision)';
      const ast = parseRql(text);
      const sort = parseSearchOptions(option).sort;
      const keys = compileSort(sort);
      const predicate = compileFilter(ast, { mode: 'search', now });
      const expected = a
        .map(whole)
        .filter(predicate)
        .sort((x, y) => keys.compare(keys.key(x), keys.key(y)))
        .map((t) => t.thingId);
      const answers = [];
      for (const store of stores) {
        const search = new SqlThingSearch(store, { chunkSize: 7 });
        const partial = partialViewer(ast, sort, (pointer, v) =>
          enforcer.filterReadable('thing', pointer, v, [USER]),
        );
        const view = (t: Record<string, unknown>) => partial(t);
        const seen: unknown[] = [];
        let cursor: string | undefined;
        do {
          const page = await search.query({ filter: ast, sort, size: 4, cursor, view, now });
          seen.push(...page.items.map((t) => t.thingId));
          cursor = page.cursor;
        } while (cursor !== undefined);
        answers.push({ seen, count: await search.count({ filter: ast, view, now }) });
      }
      expect(answers[0].seen, `${text} ${option}`).toEqual(expected);
      expect(answers[0].count, text).toBe(expected.length);
      expect(answers[1], `${text} ${option}`).toEqual(answers[0]);
    }
  });
});
