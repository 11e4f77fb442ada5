// Search on the caller's view (src/search/view.ts, search-index.ts): the partial view a filter and sort are
// evaluated on decides exactly as the whole pruned thing would, and the index answers exactly what the
// filter on the views answers, so hidden values cannot change any answer.
import { describe, expect, it } from 'vitest';
import { createEnforcer } from '../../../src/policies/enforcer.js';
import type { Permission, Policy } from '../../../src/policies/model.js';
import { compileFilter } from '../../../src/search/evaluate.js';
import { parseRql } from '../../../src/search/rql/parser.js';
import { parseSearchOptions, type SortField } from '../../../src/search/rql/options.js';
import { propertySegments } from '../../../src/search/rql/properties.js';
import { SearchIndex } from '../../../src/search/search-index.js';
import { compileSort } from '../../../src/search/sort.js';
import { resolvePath } from '../../../src/search/values.js';
import { callerView, partialViewer, propertiesOf, type ThingView } from '../../../src/search/view.js';

const USER = 'nginx:user';
const SPECIAL = ['_revision', '_created', '_modified', '_namespace'];

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function policy(resources: Record<string, { grant?: Permission[]; revoke?: Permission[] }>): Policy {
  return {
    policyId: 'ns:p',
    entries: {
      e: {
        subjects: { [USER]: { type: 't' } },
        resources: Object.fromEntries(
          Object.entries(resources).map(([k, v]) => [k, { grant: v.grant ?? [], revoke: v.revoke ?? [] }]),
        ),
      },
    },
  };
}

const POLICIES: Policy[] = [
  policy({
    'thing:/': { grant: ['READ'] },
    'thing:/attributes/h': { revoke: ['READ'] },
    'thing:/features/secret': { revoke: ['READ'] },
  }),
  policy({
    'thing:/attributes': { grant: ['READ'] },
    'thing:/attributes/o/z': { revoke: ['READ'] },
    'thing:/attributes/list/h': { revoke: ['READ'] },
  }),
  policy({
    'thing:/features/*': { grant: ['READ'] },
    'thing:/features/f1/properties/p': { grant: ['READ'] },
    'thing:/attributes/x': { grant: ['READ'] },
  }),
  policy({
    'thing:/': { grant: ['READ'] },
    'thing:/attributes': { revoke: ['READ'] },
    'thing:/attributes/x': { grant: ['READ'] },
  }),
  policy({ 'thing:/policyId': { grant: ['READ'] } }),
];

const VALUES = ['1', '2', '-1', '"a"', '"b"', '"ab"', 'true', 'null', '"1"'];
const PATHS = [
  'attributes/x',
  'attributes/h',
  'attributes/o/z',
  'attributes/o',
  'attributes/list/h',
  'attributes/list/k',
  'features/*/properties/p',
  'features/secret/properties/pin',
  'features/f1/properties/p',
  'policyId',
  '_revision',
  'thingId',
];

function generator(seed: number) {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const value = (): unknown => {
    const r = rnd();
    if (r < 0.1) return undefined;
    if (r < 0.2) return [JSON.parse(pick(VALUES)), JSON.parse(pick(VALUES))];
    if (r < 0.25) return r < 0.225 ? [] : {};
    return JSON.parse(pick(VALUES));
  };
  const thing = (i: number) =>
    JSON.parse(
      JSON.stringify({
        thingId: `ns:t${String(i).padStart(3, '0')}`,
        policyId: 'ns:p',
        attributes: {
          x: value(),
          h: value(),
          o: rnd() < 0.6 ? { z: value(), w: value() } : value(),
          list: rnd() < 0.5 ? [{ h: value(), k: value() }, { h: value() }] : value(),
        },
        features: {
          f1: { properties: { p: value() } },
          secret: { properties: { pin: value(), p: value() } },
        },
        _revision: i % 5,
        _modified: `2024-01-0${1 + (i % 9)}`,
      }),
    ) as Record<string, unknown>;
  const leaf = (): string => {
    const op = pick(['eq', 'ne', 'gt', 'lt', 'in', 'like', 'exists', 'empty']);
    const path = pick(PATHS);
    if (op === 'exists' || op === 'empty') return `${op}(${path})`;
    if (op === 'in') return `in(${path},${pick(VALUES)},${pick(VALUES)})`;
    if (op === 'like') return `like(${path},${pick(['"a*"', '"*b"', '"?"', '"*"'])})`;
    return `${op}(${path},${pick(VALUES)})`;
  };
  const filter = (depth: number): string => {
    if (depth === 0 || rnd() < 0.35) return leaf();
    const op = pick(['and', 'or', 'not', 'not']);
    if (op === 'not') return `not(${filter(depth - 1)})`;
    return `${op}(${filter(depth - 1)},${filter(depth - 1)})`;
  };
  const sort = () => `sort(${pick(['+', '-'])}${pick(PATHS)},${pick(['+', '-'])}${pick(PATHS)})`;
  return { rnd, thing, filter, sort };
}

/** The caller's view as a retrieve of the whole thing gives it (the reference). */
function wholeView(p: Policy): ThingView {
  const enforcer = createEnforcer(p);
  return (thing) => {
    if (!enforcer.hasPartial('thing:/', [USER], ['READ'])) return undefined;
    const stripped = Object.fromEntries(Object.entries(thing).filter(([k]) => !SPECIAL.includes(k)));
    const pruned = enforcer.filterReadable('thing', '/', stripped, [USER]) as Record<string, unknown>;
    return {
      ...pruned,
      ...Object.fromEntries(SPECIAL.filter((k) => thing[k] !== undefined).map((k) => [k, thing[k]])),
    };
  };
}

describe('partialViewer', () => {
  it('decides every filter and sort key exactly as the whole pruned thing', () => {
    const { thing, filter, sort } = generator(7);
    const things = Array.from({ length: 60 }, (_, i) => thing(i));
    for (const p of POLICIES) {
      const enforcer = createEnforcer(p);
      const whole = wholeView(p);
      for (let q = 0; q < 150; q++) {
        const text = filter(3);
        const ast = parseRql(text);
        const fields = parseSearchOptions(sort()).sort;
        const partial = partialViewer(ast, fields, (pointer, value) =>
          enforcer.filterReadable('thing', pointer, value, [USER]),
        );
        const predicate = compileFilter(ast, { mode: 'search' });
        const keys = compileSort(fields);
        for (const t of things) {
          const reference = whole(t)!;
          const view = partial(t);
          expect(predicate(view), `${text} on ${t.thingId as string}`).toBe(predicate(reference));
          expect(keys.key(view)).toEqual(keys.key(reference));
        }
      }
    }
  });
});

describe('callerView', () => {
  it('decides every filter and sort key exactly as the whole pruned thing, and is the thing itself only where it equals the view at every path read', () => {
    const { thing, filter, sort } = generator(23);
    const things = Array.from({ length: 60 }, (_, i) => thing(i));
    let itself = 0;
    let pruned = 0;
    for (const p of POLICIES) {
      const enforcer = createEnforcer(p);
      const whole = wholeView(p);
      for (let q = 0; q < 150; q++) {
        const text = filter(3);
        const ast = parseRql(text);
        const fields = parseSearchOptions(sort()).sort ?? [];
        const view = callerView(ast, fields, [USER], () => enforcer);
        const predicate = compileFilter(ast, { mode: 'search' });
        const keys = compileSort(fields);
        const read = [...propertiesOf(ast), ...fields.map((f) => f.property)].map(propertySegments);
        for (const t of things) {
          const reference = whole(t);
          const seen = view(t);
          if (reference === undefined) {
            expect(seen).toBeUndefined();
            continue;
          }
          expect(predicate(seen!), `${text} on ${t.thingId as string}`).toBe(predicate(reference));
          expect(keys.key(seen!)).toEqual(keys.key(reference));
          if (seen === t) {
            itself++;
            for (const segments of read)
              expect(resolvePath(t, segments), segments.join('/')).toEqual(resolvePath(reference, segments));
          } else pruned++;
        }
      }
    }
    expect(itself).toBeGreaterThan(1000);
    expect(pruned).toBeGreaterThan(1000);
  });

  it('sees nothing of things without a policy or whose policy gives the caller nothing to read', () => {
    const readable = createEnforcer(POLICIES[0]);
    const none = createEnforcer(policy({ 'thing:/': { grant: ['WRITE'] } }));
    const view = callerView(parseRql('exists(thingId)'), undefined, [USER], (policyId) =>
      policyId === 'ns:a' ? readable : policyId === 'ns:b' ? none : undefined,
    );
    const t = { thingId: 'ns:t', attributes: { x: 1 } };
    expect(view({ ...t, policyId: 'ns:a' })).toEqual({ ...t, policyId: 'ns:a' });
    expect(view({ ...t, policyId: 'ns:b' })).toBeUndefined();
    expect(view({ ...t, policyId: 'ns:c' })).toBeUndefined();
    expect(view(t)).toBeUndefined();
  });
});

describe('SearchIndex with a caller view', () => {
  it('answers exactly the filter and order on the views, whatever the hidden values', () => {
    const { thing, filter, sort } = generator(11);
    const things = Array.from({ length: 80 }, (_, i) => thing(i));
    // The same things with other hidden values: the caller's views are the same for both.
    const hiddenChanged = things.map((t) => {
      const c = structuredClone(t) as {
        attributes: Record<string, unknown>;
        features: Record<string, { properties: Record<string, unknown> }>;
      };
      c.attributes.h = c.attributes.h === 'a' ? 1 : 'a';
      c.features.secret.properties.pin = 'B';
      return c as unknown as Record<string, unknown>;
    });
    const p = POLICIES[0];
    const enforcer = createEnforcer(p);
    const indexA = new SearchIndex();
    const indexB = new SearchIndex();
    for (const t of things) indexA.upsert(t);
    for (const t of hiddenChanged) indexB.upsert(t);
    const whole = wholeView(p);
    const viewOf = (text: string, option: string): ThingView => {
      const partial = partialViewer(parseRql(text), parseSearchOptions(option).sort, (pointer, value) =>
        enforcer.filterReadable('thing', pointer, value, [USER]),
      );
      return (t) => partial(t);
    };
    const pages = (index: SearchIndex, text: string, option: string) => {
      const ast = parseRql(text);
      const view = viewOf(text, option);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = index.query({
          filter: ast,
          sort: parseSearchOptions(option).sort,
          size: 7,
          cursor,
          view,
        });
        seen.push(...page.items.map((t) => t.thingId as string));
        cursor = page.cursor;
      } while (cursor !== undefined);
      return { seen, count: index.count({ filter: ast, view }) };
    };
    const fixedFilters = [
      'not(eq(features/secret/properties/pin,"0000"))',
      'exists(attributes/h)',
      'not(exists(attributes/h))',
      'ne(attributes/h,"a")',
      'not(ne(attributes/h,"a"))',
      'not(like(attributes/h,"a*"))',
      'empty(features/secret/properties/pin)',
    ];
    for (let q = 0; q < 250; q++) {
      const text = q < fixedFilters.length ? fixedFilters[q] : filter(3);
      const option = q % 3 === 0 ? 'sort(+attributes/h)' : sort();
      const ast = parseRql(text);
      const predicate = compileFilter(ast, { mode: 'search' });
      const keys = compileSort(parseSearchOptions(option).sort);
      const expected = things
        .map((t) => whole(t)!)
        .filter(predicate)
        .sort((a, b) => keys.compare(keys.key(a), keys.key(b)))
        .map((t) => t.thingId as string);
      const a = pages(indexA, text, option);
      expect(a.seen, `${text} ${option}`).toEqual(expected);
      expect(a.count, text).toBe(expected.length);
      expect(pages(indexB, text, option), `${text} ${option}`).toEqual(a);
    }
  });

  it('answers with the view of the service (callerView) exactly what the filter and order on the whole pruned things answer, whatever the hidden values', () => {
    const { thing, filter, sort } = generator(31);
    const things = Array.from({ length: 80 }, (_, i) => thing(i));
    type Mutable = {
      attributes: Record<string, unknown>;
      features: Record<string, { properties: Record<string, unknown> }>;
    };
    // Per policy, a change of values it hides only (POLICIES[3] hides all attributes but x).
    const cases: Array<[Policy, (c: Mutable) => void]> = [
      [
        POLICIES[0],
        (c) => {
          c.attributes.h = c.attributes.h === 'a' ? 1 : 'a';
          c.features.secret.properties.pin = 'B';
        },
      ],
      [
        POLICIES[3],
        (c) => {
          c.attributes.h = c.attributes.h === 'a' ? 1 : 'a';
          c.attributes.o = { z: 'B' };
          c.attributes.list = 2;
        },
      ],
    ];
    const options = [
      'sort(-_modified)',
      'sort(+_revision,-thingId)',
      'sort(+attributes/h)',
      'sort(-attributes/x)',
    ];
    for (const [n, [p, change]] of cases.entries()) {
      const indexA = new SearchIndex();
      const indexB = new SearchIndex();
      for (const t of things) {
        indexA.upsert(t);
        const c = structuredClone(t) as unknown as Mutable;
        change(c);
        indexB.upsert(c as unknown as Record<string, unknown>);
      }
      const enforcer = createEnforcer(p);
      const whole = wholeView(p);
      /** Every page (size 7, by cursor) and the count, as the service asks the index. */
      const answers = (
        index: SearchIndex,
        ast: ReturnType<typeof parseRql>,
        fields: SortField[] | undefined,
      ) => {
        const ids: string[] = [];
        for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
          const page = index.query({
            filter: ast,
            sort: fields,
            size: 7,
            cursor,
            view: callerView(ast, fields, [USER], () => enforcer),
          });
          ids.push(...page.items.map((t) => t.thingId as string));
          cursor = page.cursor;
        }
        return {
          ids,
          count: index.count({ filter: ast, view: callerView(ast, undefined, [USER], () => enforcer) }),
        };
      };
      for (let q = 0; q < 150; q++) {
        const text =
          q === 0
            ? 'not(eq(features/secret/properties/pin,"0000"))'
            : q === 1
              ? 'exists(attributes/x)'
              : filter(3);
        const option = q % 2 === 0 ? options[q % options.length] : sort();
        const ast = parseRql(text);
        const fields = parseSearchOptions(option).sort;
        const keys = compileSort(fields);
        const reference = things.map((t) => whole(t)!).filter(compileFilter(ast, { mode: 'search' }));
        reference.sort((a, b) => keys.compare(keys.key(a), keys.key(b)));
        const fromA = answers(indexA, ast, fields);
        expect(fromA, `policy ${n}: ${text} ${option}`).toEqual({
          ids: reference.map((t) => t.thingId),
          count: reference.length,
        });
        expect(answers(indexB, ast, fields), `policy ${n}: ${text} ${option}`).toEqual(fromA);
      }
    }
  });

  it('rejects a cursor of another caller scope and a tampered cursor', () => {
    const index = new SearchIndex();
    for (let i = 0; i < 10; i++) index.upsert({ thingId: `ns:t${i}`, attributes: { n: i } });
    const { cursor } = index.query({ size: 3, scope: 'nginx:a' });
    expect(cursor).toBeTypeOf('string');
    expect(index.query({ size: 3, scope: 'nginx:a', cursor }).items).toHaveLength(3);
    expect(() => index.query({ size: 3, scope: 'nginx:b', cursor })).toThrow(/another filter or sort/);
    const raw = Buffer.from(cursor!, 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(() => index.query({ size: 3, scope: 'nginx:a', cursor: raw.toString('base64url') })).toThrow(
      /could not be decoded/,
    );
    expect(() => new SearchIndex().query({ size: 3, scope: 'nginx:a', cursor })).toThrow(
      /could not be decoded/,
    ); // another key
  });
});
