import { describe, expect, it } from 'vitest';
import { parseRql } from '../../../src/search/rql/parser.js';
import { parseSearchOptions } from '../../../src/search/rql/options.js';
import { parseNamespaces } from '../../../src/search/rql/namespaces.js';
import { parseTimePlaceholder, resolveTime } from '../../../src/search/rql/time.js';

function errorOf(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('parseRql', () => {
  it('accepts 100 levels of nesting and rejects deeper ones before descending (no stack overflow)', () => {
    const nested = (op: string, depth: number) =>
      `${`${op}(`.repeat(depth)}eq(attributes/a,1)${')'.repeat(depth)}`;
    expect(() => parseRql(nested('not', 99))).not.toThrow();
    expect(() => parseRql(nested('and', 99))).not.toThrow();
    for (const text of [
      nested('not', 100),
      nested('and', 5000),
      nested('or', 200_000),
      `and(eq(a,1),${nested('not', 5000)})`.replace('eq(a,1)', 'eq(attributes/a,1)'),
    ]) {
      const error = errorOf(() => parseRql(text));
      expect(error.toJSON()).toMatchObject({ status: 400, error: 'rql.expression.invalid' });
      expect(error.message).toContain('nests more than 100 levels');
    }
  });

  it('rejects like patterns longer than 1000 characters', () => {
    expect(() => parseRql(`like(attributes/a,"${'*a'.repeat(500)}")`)).not.toThrow();
    const error = errorOf(() => parseRql(`ilike(attributes/a,"${'*a'.repeat(500)}b")`));
    expect(error.toJSON()).toMatchObject({ status: 400, error: 'rql.expression.invalid' });
    expect(error.message).toContain('more than 1000');
  });

  it('rejects time offsets beyond the range of a date instead of failing to resolve them', () => {
    for (const text of [
      'gt(_modified,time:now-99999999999999d)',
      'gt(_modified,time:now+9999999999y)',
      'lt(attributes/t,time:now_epoch_millis-9007199254740991ms)'.replace(
        '9007199254740991',
        '9007199254740991000',
      ),
    ]) {
      expect(errorOf(() => parseRql(text)).toJSON()).toMatchObject({
        status: 400,
        error: 'rql.expression.invalid',
      });
    }
    const far = parseTimePlaceholder('time:now-250000y')!;
    expect(resolveTime(far, new Date())).toMatch(/^-2\d{5}/);
  });

  it('parses every comparison operator into an AST node', () => {
    for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'like', 'ilike']) {
      expect(parseRql(`${op}(attributes/a,1)`)).toEqual({ op, property: 'attributes/a', value: 1 });
    }
  });

  it('parses logical operators, in, exists and empty', () => {
    expect(
      parseRql('and(or(in(thingId,"a:b",\'c:d\'),exists(features/f)),not(empty(attributes/x)))'),
    ).toEqual({
      op: 'and',
      children: [
        {
          op: 'or',
          children: [
            { op: 'in', property: 'thingId', values: ['a:b', 'c:d'] },
            { op: 'exists', property: 'features/f' },
          ],
        },
        { op: 'not', child: { op: 'empty', property: 'attributes/x' } },
      ],
    });
  });

  it('parses literals: long, double, strings, booleans, null and time placeholders', () => {
    const value = (literal: string) => (parseRql(`eq(attributes/a,${literal})`) as { value: unknown }).value;
    expect(value('0')).toBe(0);
    expect(value('-42')).toBe(-42);
    expect(value('+7')).toBe(7);
    expect(value('-0.5')).toBe(-0.5);
    expect(value('3.25')).toBe(3.25);
    expect(value('9223372036854775807')).toBe(Number('9223372036854775807'));
    expect(value('true')).toBe(true);
    expect(value('false')).toBe(false);
    expect(value('null')).toBe(null);
    expect(value('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9"')).toBe('a"b\\c/d\b\f\n\r\té');
    expect(value("'it\\'s'")).toBe("it's");
    expect(value('"it\'s"')).toBe("it's");
    expect(value('time:now-1h[d]')).toEqual({ placeholder: 'time:now-1h[d]' });
    expect(value('time:now_epoch_millis')).toEqual({ placeholder: 'time:now_epoch_millis' });
  });

  it('decodes backslash escapes in properties and keeps spaces', () => {
    expect(parseRql('eq(attributes/a\\"b c,1)')).toEqual({
      op: 'eq',
      property: 'attributes/a"b c',
      value: 1,
    });
  });

  it('allows whitespace at the start, after literals and after commas between sub-queries', () => {
    expect(parseRql(' \n and(eq(attributes/a,1 ),\t eq(attributes/b,"x"\n))')).toEqual({
      op: 'and',
      children: [
        { op: 'eq', property: 'attributes/a', value: 1 },
        { op: 'eq', property: 'attributes/b', value: 'x' },
      ],
    });
  });

  it('accepts placeholder properties only in event mode', () => {
    expect(parseRql('eq(topic:action,"modified")', 'event')).toEqual({
      op: 'eq',
      property: 'topic:action',
      value: 'modified',
    });
    expect(errorOf(() => parseRql('eq(topic:action,"modified")')).message).toContain('at position 3:');
  });

  it('renders Ditto error JSON without a prefix', () => {
    expect(errorOf(() => parseRql('eq(attributes/a,)')).toJSON()).toMatchObject({
      status: 400,
      error: 'rql.expression.invalid',
      message: expect.stringContaining('position 16'),
    });
  });
});

describe('parseSearchOptions', () => {
  it('parses sort, size and cursor', () => {
    expect(parseSearchOptions('sort(+thingId,-attributes/x),size(10),cursor(abc_-1)')).toEqual({
      sort: [
        { property: 'thingId', direction: 'asc' },
        { property: 'attributes/x', direction: 'desc' },
      ],
      size: 10,
      cursor: 'abc_-1',
    });
  });

  it('accepts options spread over several option parameters', () => {
    expect(parseSearchOptions(['sort(-_modified)', 'size(200)'])).toEqual({
      sort: [{ property: '_modified', direction: 'desc' }],
      size: 200,
    });
  });

  it('parses the deprecated limit', () => {
    expect(parseSearchOptions('limit(50,20)')).toEqual({ limit: { offset: 50, count: 20 } });
  });

  it.each([
    ['sort(thingId)', "must start with '+' or '-'"],
    ['sort( thingId)', '%2B'],
    ['sort(+foo)', 'unknown property'],
    ['size(201)', 'between 1 and 200'],
    ['size(0)', 'between 1 and 200'],
    ['size(x)', 'non-negative integer'],
    ['limit(0,10),size(5)', 'must not be combined'],
    ['limit(0,10),cursor(abc)', 'must not be combined'],
    ['limit(1)', 'two arguments'],
    ['limit(0,201)', 'between 1 and 200'],
    ['size(1),size(2)', 'given twice'],
    ['offset(3)', "unknown option 'offset'"],
    ['sort', 'is not an option'],
    ['cursor()', 'cursor is empty'],
  ])('rejects %s with thing-search:search.option.invalid', (input, text) => {
    const error = errorOf(() => parseSearchOptions(input));
    expect(error.toJSON()).toMatchObject({ status: 400, error: 'thing-search:search.option.invalid' });
    expect(error.message).toContain(text);
  });
});

describe('parseNamespaces', () => {
  it('splits a comma separated list', () => {
    expect(parseNamespaces('org.acme,com.some-domain,foo.bar_42')).toEqual([
      'org.acme',
      'com.some-domain',
      'foo.bar_42',
    ]);
  });

  it('rejects invalid namespaces with thing-search:search.namespaces.invalid', () => {
    expect(errorOf(() => parseNamespaces('org.acme,foo.1bar')).toJSON()).toMatchObject({
      status: 400,
      error: 'thing-search:search.namespaces.invalid',
      message: expect.stringContaining("'foo.1bar'"),
    });
  });
});

describe('time placeholders', () => {
  const now = new Date('2026-08-13T14:35:12.345Z'); // a Thursday
  const resolve = (text: string) => resolveTime(parseTimePlaceholder(text)!, now);

  it('renders now like Java Instant and now_epoch_millis as a number', () => {
    expect(resolve('time:now')).toBe('2026-08-13T14:35:12.345Z');
    expect(resolve('time:now_epoch_millis')).toBe(now.getTime());
    expect(resolve('time:now[s]')).toBe('2026-08-13T14:35:12Z');
  });

  it('applies offsets in every unit (no unit means seconds)', () => {
    expect(resolve('time:now-1h[m]')).toBe('2026-08-13T13:35:00Z');
    expect(resolve('time:now+30')).toBe('2026-08-13T14:35:42.345Z');
    expect(resolve('time:now-250ms')).toBe('2026-08-13T14:35:12.095Z');
    expect(resolve('time:now+2d[d]')).toBe('2026-08-15T00:00:00Z');
    expect(resolve('time:now-1w[d]')).toBe('2026-08-06T00:00:00Z');
    expect(resolve('time:now-7mo[mo]')).toBe('2026-01-01T00:00:00Z');
    expect(resolve('time:now-1y[y]')).toBe('2025-01-01T00:00:00Z');
    expect(resolve('time:now_epoch_millis-1s')).toBe(now.getTime() - 1000);
  });

  it('truncates to the start of the ISO week (Monday)', () => {
    expect(resolve('time:now[w]')).toBe('2026-08-10T00:00:00Z');
  });

  it('rejects other names', () => {
    for (const text of ['time:later', 'time:now-1x', 'time:now[q]', 'time:now-', 'time:nowx']) {
      expect(parseTimePlaceholder(text), text).toBeUndefined();
    }
  });
});
