import { describe, expect, it } from 'vitest';
import { evaluate, type EvaluateOptions } from '../../../src/search/evaluate.js';
import { parseRql } from '../../../src/search/rql/parser.js';

const thing = {
  thingId: 'org.acme:dev-1',
  policyId: 'org.acme:dev-1',
  attributes: {
    count: 5,
    code: '42',
    label: 'Hello',
    flag: true,
    list: [1, 'two', null],
    nested: { deep: { x: 1 } },
  },
  features: { f1: { properties: { p: 1 } }, f2: { properties: { p: 2 } } },
};

const search: EvaluateOptions = { mode: 'search' };
const event: EvaluateOptions = { mode: 'event' };
const matches = (filter: string, options: EvaluateOptions, t: Record<string, unknown> = thing) =>
  evaluate(parseRql(filter, options.mode), t, options);

describe('evaluate', () => {
  it('treats ne on a missing field as false in search and true in event filters', () => {
    expect(matches('ne(attributes/missing,1)', search)).toBe(false);
    expect(matches('ne(attributes/missing,1)', event)).toBe(true);
    expect(matches('ne(attributes/count,1)', search)).toBe(true);
  });

  it('compares a number with a numeric string numerically only in event filters', () => {
    expect(matches('eq(attributes/code,42)', search)).toBe(false);
    expect(matches('eq(attributes/code,42)', event)).toBe(true);
    expect(matches('gt(attributes/count,"10")', search)).toBe(false);
    expect(matches('gt(attributes/count,"10")', event)).toBe(false);
    expect(matches('lt(attributes/count,"10.5")', event)).toBe(true);
  });

  it('compares other mixed types by their string representation in event filters', () => {
    expect(matches('eq(attributes/flag,"true")', event)).toBe(true);
    expect(matches('eq(attributes/flag,"true")', search)).toBe(false);
    expect(matches('gt(attributes/label,5)', event)).toBe(true); // "Hello" > "5"
  });

  it('applies array semantics: any element matches, ne needs no equal element', () => {
    expect(matches('eq(attributes/list,"two")', search)).toBe(true);
    expect(matches('eq(attributes/list,null)', search)).toBe(true);
    expect(matches('ne(attributes/list,1)', search)).toBe(false);
    expect(matches('ne(attributes/list,3)', search)).toBe(true);
    expect(matches('eq(attributes/list/1,"two")', search)).toBe(true);
  });

  it('addresses any feature with features/*', () => {
    expect(matches('eq(features/*/properties/p,2)', search)).toBe(true);
    expect(matches('eq(features/*/properties/p,3)', search)).toBe(false);
  });

  it('does not compare objects with values', () => {
    expect(matches('eq(attributes/nested,1)', event)).toBe(false);
    expect(matches('exists(attributes/nested/deep)', search)).toBe(true);
    expect(matches('empty(attributes/nested)', search)).toBe(false);
  });

  it('matches like as a full glob and ilike case-insensitively', () => {
    expect(matches('like(attributes/label,"H*o")', search)).toBe(true);
    expect(matches('like(attributes/label,"h*")', search)).toBe(false);
    expect(matches('ilike(attributes/label,"h?LLO")', search)).toBe(true);
    expect(matches('like(attributes/label,"Hel")', search)).toBe(false);
    expect(matches('like(attributes/label,"[H]ello")', search)).toBe(false);
  });

  it('derives _namespace from the thing ID', () => {
    expect(matches('eq(_namespace,"org.acme")', search)).toBe(true);
  });

  it('resolves time placeholders against the given clock', () => {
    const t = { thingId: 'a:b', _modified: '2026-08-15T09:30:00Z', attributes: { ts: 1786786200000 } };
    const now = new Date('2026-08-15T10:00:00Z');
    expect(matches('gt(_modified,time:now-1h)', { mode: 'search', now }, t)).toBe(true);
    expect(matches('gt(_modified,time:now-10m)', { mode: 'search', now }, t)).toBe(false);
    expect(matches('lt(attributes/ts,time:now_epoch_millis)', { mode: 'search', now }, t)).toBe(true);
  });

  it('resolves placeholder properties such as topic:action in event filters', () => {
    const options: EvaluateOptions = {
      mode: 'event',
      placeholders: { 'topic:action': 'modified', 'resource:path': '/attributes/count' },
    };
    expect(matches('and(eq(topic:action,"modified"),like(resource:path,"/attributes/*"))', options)).toBe(
      true,
    );
    expect(matches('eq(topic:action,"created")', options)).toBe(false);
    expect(matches('ne(topic:subject,"x")', options)).toBe(true);
  });
});
