import { describe, expect, it } from 'vitest';
import { isDittoError } from '../../../src/errors/ditto-error.js';
import {
  compileTemplate,
  connectionResolver,
  headerResolver,
  jwtResolver,
  resolveAll,
  resolveFirst,
  resolveOrThrow,
  resolvePartially,
  resolveTemplate,
  thingResolver,
  timeResolver,
  topicResolver,
  type PlaceholderResolvers,
} from '../../../src/placeholders/index.js';

const resolvers: PlaceholderResolvers = {
  thing: thingResolver('org.eclipse.ditto:device-123'),
  header: headerResolver({ 'correlation-id': 'c-1', 'reply-to': 'replies' }),
  jwt: jwtResolver({ sub: 'alice', aud: ['app1', 'app2'], groups: ['g1', 'g2', 'g3'] }),
};

describe('resolveTemplate', () => {
  it('substitutes placeholders in literal text', () => {
    expect(
      resolveTemplate(compileTemplate('things/{{ thing:namespace }}/{{ thing:name }}/x'), resolvers),
    ).toEqual({
      kind: 'resolved',
      values: ['things/org.eclipse.ditto/device-123/x'],
    });
  });

  it('returns the text of a template without placeholders', () => {
    expect(resolveAll(compileTemplate('static/address'), {})).toEqual(['static/address']);
    expect(resolveAll(compileTemplate(''), {})).toEqual(['']);
  });

  it('expands array values into several results', () => {
    expect(resolveAll(compileTemplate('{{ jwt:groups }}'), resolvers)).toEqual(['g1', 'g2', 'g3']);
  });

  it('combines several multi-valued placeholders as a cartesian product', () => {
    expect(resolveAll(compileTemplate('{{ jwt:sub }}:{{ jwt:groups }}@{{ jwt:aud }}'), resolvers)).toEqual([
      'alice:g1@app1',
      'alice:g1@app2',
      'alice:g2@app1',
      'alice:g2@app2',
      'alice:g3@app1',
      'alice:g3@app2',
    ]);
  });

  it('is unresolved when a placeholder value is missing, naming the expression', () => {
    expect(resolveTemplate(compileTemplate('a/{{ header:missing }}/{{ thing:id }}'), resolvers)).toEqual({
      kind: 'unresolved',
      placeholder: 'header:missing',
    });
  });

  it('is unresolved when no resolver is given for the prefix', () => {
    expect(resolveTemplate(compileTemplate('{{ topic:full }}'), resolvers).kind).toBe('unresolved');
  });

  it('is unresolved when a resolver returns an empty array', () => {
    expect(resolveTemplate(compileTemplate('{{ x:y }}'), { x: () => [] }).kind).toBe('unresolved');
  });

  it('is deleted when every expression is deleted and there is no literal text', () => {
    expect(
      resolveTemplate(compileTemplate('{{ fn:delete() }}{{ thing:id | fn:delete() }}'), resolvers),
    ).toEqual({ kind: 'deleted' });
  });

  it('resolveFirst gives the first value or undefined', () => {
    expect(resolveFirst(compileTemplate('{{ jwt:groups }}'), resolvers)).toBe('g1');
    expect(resolveFirst(compileTemplate('{{ header:nope }}'), resolvers)).toBeUndefined();
    expect(resolveFirst(compileTemplate('{{ fn:delete() }}'), resolvers)).toBeUndefined();
  });

  it('resolveOrThrow throws placeholder:placeholder.notresolvable naming the placeholder', () => {
    const t = compileTemplate('replies/{{ header:reply-to-missing }}');
    let caught: unknown;
    try {
      resolveOrThrow(t, resolvers);
    } catch (error) {
      caught = error;
    }
    expect(isDittoError(caught) && caught.error).toBe('placeholder:placeholder.notresolvable');
    expect((caught as Error).message).toContain("'header:reply-to-missing'");
    expect(resolveOrThrow(compileTemplate('{{ header:reply-to }}'), resolvers)).toEqual(['replies']);
  });

  it('calls resolvers with the name only and never re-parses the template', () => {
    const seen: string[] = [];
    const t = compileTemplate('{{ x:a }}-{{ x:b | fn:upper() }}');
    const r = { x: (name: string) => (seen.push(name), name) };
    expect(resolveAll(t, r)).toEqual(['a-B']);
    expect(resolveAll(t, r)).toEqual(['a-B']);
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
  });

  it('resolves a compiled template 100,000 times in under 500 ms', () => {
    const t = compileTemplate(
      "telemetry/{{ thing:namespace }}/{{ thing:name | fn:upper() }}/{{ header:correlation-id | fn:default('none') }}",
    );
    const headers = { 'content-type': 'application/json', 'correlation-id': 'abc', 'reply-to': 'r' };
    const r = { thing: thingResolver('org.eclipse.ditto:device-123'), header: headerResolver(headers) };
    expect(resolveFirst(t, r)).toBe('telemetry/org.eclipse.ditto/DEVICE-123/abc');
    const start = performance.now();
    let length = 0;
    for (let i = 0; i < 100_000; i++) length += resolveFirst(t, r)!.length;
    const elapsed = performance.now() - start;
    expect(length).toBe(100_000 * 'telemetry/org.eclipse.ditto/DEVICE-123/abc'.length);
    expect(elapsed).toBeLessThan(500);
  });
});

describe('resolvePartially', () => {
  const t = compileTemplate('{{ connection:id }}/{{ thing:id | fn:upper() }}/{{ header:x }}');

  it('resolves known prefixes and keeps the others as written', () => {
    expect(resolvePartially(t, { connection: connectionResolver('conn-1') })).toEqual({
      kind: 'resolved',
      values: ['conn-1/{{ thing:id | fn:upper() }}/{{ header:x }}'],
    });
  });

  it('produces a template that can be compiled and resolved later', () => {
    const partial = resolvePartially(t, { connection: connectionResolver('conn-1') });
    if (partial.kind !== 'resolved') throw new Error(`expected resolved, got ${partial.kind}`);
    const later = compileTemplate(partial.values[0]);
    expect(resolveFirst(later, { thing: thingResolver('a:b'), header: headerResolver({ x: 'y' }) })).toBe(
      'conn-1/A:B/y',
    );
  });

  it('keeps an expression whose function argument has an unknown prefix', () => {
    const t2 = compileTemplate('{{ connection:id | fn:default(header:x) }}');
    expect(resolvePartially(t2, { connection: connectionResolver('c') })).toEqual({
      kind: 'resolved',
      values: ['{{ connection:id | fn:default(header:x) }}'],
    });
  });

  it('keeps unresolved expressions unless their prefix is required', () => {
    const t3 = compileTemplate('{{ header:missing }}-{{ connection:id }}');
    const r = { header: headerResolver({}), connection: connectionResolver('c') };
    expect(resolvePartially(t3, r)).toEqual({ kind: 'resolved', values: ['{{ header:missing }}-c'] });
    expect(resolvePartially(t3, r, { requireResolved: ['header'] })).toEqual({
      kind: 'unresolved',
      placeholder: 'header:missing',
    });
  });
});

describe('resolution with several resolvers of one signal', () => {
  it('builds an outbound MQTT topic from topic, thing and time placeholders', () => {
    const r = {
      thing: thingResolver('org.eclipse.ditto:device-123'),
      topic: topicResolver({
        namespace: 'org.eclipse.ditto',
        name: 'device-123',
        group: 'things',
        channel: 'twin',
        criterion: 'events',
        action: 'modified',
      }),
      time: timeResolver(() => Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
    };
    const t = compileTemplate(
      '{{ topic:channel }}/{{ thing:name }}/{{ topic:action-subject }}/{{ time:now[h] }}',
    );
    expect(resolveAll(t, r)).toEqual(['twin/device-123/modified/2024-01-02T03:00:00Z']);
  });
});
