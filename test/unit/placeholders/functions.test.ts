import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  headerResolver,
  jwtResolver,
  resolveTemplate,
  PIPELINE_FUNCTIONS,
  type PlaceholderResolvers,
  type TemplateResult,
} from '../../../src/placeholders/index.js';

const headers: Record<string, string> = {
  'device-id': 'org.eclipse:Sensor-1',
  'response-required': 'true',
  empty: '',
  padded: '  spaced out  ',
  url: 'a b&c=d/é~*!',
  encoded: 'a+b%26c%3Dd%2F%C3%A9',
  b64: 'aGVsbG8gd8O2cmxk',
  csv: 'a,b,,c,,',
  json: '{"reseller":"r1","service_provider":"sp","roles":["admin","user"]}',
};

const resolvers: PlaceholderResolvers = {
  header: headerResolver(headers),
  jwt: jwtResolver({
    groups: ['admin', 'user', 'guest'],
    scope: 'openid profile email',
    orgs: [
      { id: 'o1', roles: ['r1', 'r2'] },
      { id: 'o2', roles: ['r3'] },
    ],
  }),
};

function run(template: string, r: PlaceholderResolvers = resolvers): TemplateResult {
  return resolveTemplate(compileTemplate(template), r);
}

function values(template: string, r: PlaceholderResolvers = resolvers): readonly string[] | string {
  const result = run(template, r);
  return result.kind === 'resolved' ? result.values : result.kind;
}

describe('pipeline function table', () => {
  it('contains exactly the functions Ditto documents', () => {
    expect([...PIPELINE_FUNCTIONS.keys()].sort()).toEqual(
      [
        'filter',
        'default',
        'substring-before',
        'substring-after',
        'lower',
        'upper',
        'trim',
        'url-encode',
        'url-decode',
        'base64-encode',
        'base64-decode',
        'delete',
        'replace',
        'split',
        'join',
        'format',
      ].sort(),
    );
  });
});

describe('fn:default', () => {
  it('keeps a resolved value', () => {
    expect(values("{{ header:device-id | fn:default('x') }}")).toEqual(['org.eclipse:Sensor-1']);
  });
  it('provides the default for a missing value (single or double quotes)', () => {
    expect(values("{{ header:missing | fn:default('fallback') }}")).toEqual(['fallback']);
    expect(values('{{ header:missing | fn:default("fallback") }}')).toEqual(['fallback']);
  });
  it('accepts a placeholder as default value', () => {
    expect(values('{{ header:missing | fn:default(header:device-id) }}')).toEqual(['org.eclipse:Sensor-1']);
  });
  it('stays unresolved when the default placeholder is missing too', () => {
    expect(run('{{ header:missing | fn:default(header:other) }}')).toEqual({
      kind: 'unresolved',
      placeholder: 'header:missing | fn:default(header:other)',
    });
  });
  it('provides the default as first function of a pipeline (input is empty)', () => {
    expect(values("{{ fn:default('constant') }}")).toEqual(['constant']);
  });
  it('does not replace an empty string (it is a value)', () => {
    expect(values("{{ header:empty | fn:default('x') }}")).toEqual(['']);
  });
});

describe('fn:substring-before / fn:substring-after', () => {
  it('returns the part before the first occurrence', () => {
    expect(values("{{ header:device-id | fn:substring-before(':') }}")).toEqual(['org.eclipse']);
  });
  it('returns the part after the first occurrence', () => {
    expect(values("{{ header:device-id | fn:substring-after('.') }}")).toEqual(['eclipse:Sensor-1']);
  });
  it('is empty when the given string is not contained', () => {
    expect(run("{{ header:device-id | fn:substring-before('#') }}").kind).toBe('unresolved');
    expect(run("{{ header:device-id | fn:substring-after('#') }}").kind).toBe('unresolved');
  });
  it('works element-wise on several values', () => {
    expect(values("{{ jwt:groups | fn:substring-after('u') }}")).toEqual(['ser', 'est']);
  });
});

describe('fn:lower / fn:upper / fn:trim', () => {
  it('lower-cases', () => {
    expect(values('{{ header:device-id | fn:lower() }}')).toEqual(['org.eclipse:sensor-1']);
  });
  it('upper-cases', () => {
    expect(values('{{ header:device-id | fn:upper() }}')).toEqual(['ORG.ECLIPSE:SENSOR-1']);
  });
  it('trims leading and trailing whitespace', () => {
    expect(values('{{ header:padded | fn:trim() }}')).toEqual(['spaced out']);
  });
  it('keeps a missing value missing', () => {
    expect(run('{{ header:missing | fn:upper() }}').kind).toBe('unresolved');
  });
});

describe('fn:url-encode / fn:url-decode', () => {
  it('encodes like Java URLEncoder (space as +, UTF-8)', () => {
    expect(values('{{ header:url | fn:url-encode() }}')).toEqual(['a+b%26c%3Dd%2F%C3%A9%7E*%21']);
  });
  it('decodes', () => {
    expect(values('{{ header:encoded | fn:url-decode() }}')).toEqual(['a b&c=d/é']);
  });
  it('round-trips', () => {
    expect(values('{{ header:url | fn:url-encode() | fn:url-decode() }}')).toEqual([headers.url]);
  });
  it('is empty for malformed percent-encoding', () => {
    expect(
      run('{{ header:bad | fn:url-decode() }}', { header: headerResolver({ bad: '%E0%A4%A' }) }).kind,
    ).toBe('unresolved');
  });
});

describe('fn:base64-encode / fn:base64-decode', () => {
  it('encodes UTF-8 as standard Base64', () => {
    expect(values('{{ header:padded | fn:trim() | fn:base64-encode() }}')).toEqual([
      Buffer.from('spaced out').toString('base64'),
    ]);
  });
  it('decodes', () => {
    expect(values('{{ header:b64 | fn:base64-decode() }}')).toEqual(['hello wörld']);
  });
  it('is empty for input that is not Base64', () => {
    expect(run('{{ header:device-id | fn:base64-decode() }}').kind).toBe('unresolved');
  });
});

describe('fn:delete', () => {
  it('deletes the expression unconditionally', () => {
    expect(run('{{ header:device-id | fn:delete() }}')).toEqual({ kind: 'deleted' });
  });
  it('ignores the functions after it', () => {
    expect(run("{{ header:device-id | fn:delete() | fn:default('x') }}")).toEqual({ kind: 'deleted' });
  });
  it('removes only its expression when the template has other parts', () => {
    expect(values('prefix/{{ fn:delete() }}{{ header:device-id | fn:upper() }}')).toEqual([
      'prefix/ORG.ECLIPSE:SENSOR-1',
    ]);
  });
});

describe('fn:replace', () => {
  it('replaces every literal occurrence', () => {
    expect(values("{{ header:device-id | fn:replace('e', 'E') }}")).toEqual(['org.EclipsE:SEnsor-1']);
  });
  it('treats regex characters and $ literally', () => {
    expect(values("{{ header:device-id | fn:replace('.', '$&') }}")).toEqual(['org$&eclipse:Sensor-1']);
  });
});

describe('fn:split / fn:join', () => {
  it('splits a value into several values', () => {
    expect(values("{{ jwt:scope | fn:split(' ') }}")).toEqual(['openid', 'profile', 'email']);
  });
  it('drops trailing empty strings like Java', () => {
    expect(values("{{ header:csv | fn:split(',') }}")).toEqual(['a', 'b', '', 'c']);
  });
  it('passes a value without the separator unchanged', () => {
    expect(values("{{ header:device-id | fn:split(' ') }}")).toEqual(['org.eclipse:Sensor-1']);
  });
  it('joins several values into one', () => {
    expect(values("{{ jwt:groups | fn:join(',') }}")).toEqual(['admin,user,guest']);
  });
  it('split then join round-trips', () => {
    expect(values("{{ jwt:scope | fn:split(' ') | fn:join('+') }}")).toEqual(['openid+profile+email']);
  });
  it('keeps a missing value missing', () => {
    expect(run("{{ header:missing | fn:join(',') }}").kind).toBe('unresolved');
    expect(run("{{ header:missing | fn:split(',') }}").kind).toBe('unresolved');
  });
});

describe('fn:filter', () => {
  it('keeps the value when the 3-argument eq condition holds', () => {
    expect(values("{{ header:device-id | fn:filter(header:response-required,'eq','true') }}")).toEqual([
      'org.eclipse:Sensor-1',
    ]);
  });
  it('removes the value when the 3-argument eq condition fails', () => {
    expect(run("{{ header:device-id | fn:filter(header:response-required,'eq','false') }}").kind).toBe(
      'unresolved',
    );
  });
  it('supports ne', () => {
    expect(values("{{ header:device-id | fn:filter(header:response-required,'ne','false') }}")).toHaveLength(
      1,
    );
    expect(run("{{ header:device-id | fn:filter(header:response-required,'ne','true') }}").kind).toBe(
      'unresolved',
    );
  });
  it('supports exists with two arguments', () => {
    expect(values("{{ header:device-id | fn:filter(header:response-required,'exists') }}")).toHaveLength(1);
    expect(run("{{ header:device-id | fn:filter(header:missing,'exists') }}").kind).toBe('unresolved');
  });
  it("supports exists 'false' (keeps when the value is missing)", () => {
    expect(values("{{ header:device-id | fn:filter(header:missing,'exists','false') }}")).toHaveLength(1);
    expect(run("{{ header:device-id | fn:filter(header:response-required,'exists','false') }}").kind).toBe(
      'unresolved',
    );
  });
  it('filters the previous values with the 2-argument form', () => {
    expect(values("{{ jwt:groups | fn:filter('eq','user') }}")).toEqual(['user']);
    expect(values("{{ jwt:groups | fn:filter('ne','user') }}")).toEqual(['admin', 'guest']);
    expect(run("{{ jwt:groups | fn:filter('eq','root') }}").kind).toBe('unresolved');
  });
  it('supports like with *, ? and | alternation (full match)', () => {
    expect(values("{{ jwt:groups | fn:filter('like','adm*') }}")).toEqual(['admin']);
    expect(values("{{ jwt:groups | fn:filter('like','?ser') }}")).toEqual(['user']);
    expect(values("{{ jwt:groups | fn:filter('like','guest|adm*') }}")).toEqual(['admin', 'guest']);
    expect(run("{{ jwt:groups | fn:filter('like','dmi') }}").kind).toBe('unresolved');
  });
  it('treats regex characters in like patterns literally', () => {
    expect(values("{{ header:device-id | fn:filter('like','org.eclipse:*') }}")).toHaveLength(1);
    expect(run("{{ header:device-id | fn:filter('like','org.eclipse:(.*)') }}").kind).toBe('unresolved');
  });
  it('compares a missing filter value as the empty string', () => {
    expect(values("{{ header:device-id | fn:filter(header:missing,'eq','') }}")).toHaveLength(1);
  });
  it('filters with a placeholder as compared value', () => {
    expect(
      values("{{ jwt:groups | fn:filter('eq',header:role) }}", {
        ...resolvers,
        header: headerResolver({ role: 'guest' }),
      }),
    ).toEqual(['guest']);
  });
  it('matches a like pattern taken from a header in linear time, wildcards not crossing line breaks', () => {
    // A backtracking RegExp needs exponential time for this pattern against 3,000 a's (the test would time out).
    const r = (pattern: string, value: string) => ({
      ...resolvers,
      header: headerResolver({ pattern, value }),
    });
    expect(
      run(
        "{{ header:value | fn:filter(header:value,'like',header:pattern) }}",
        r(`${'*a'.repeat(40)}*b`, 'a'.repeat(3000)),
      ).kind,
    ).toBe('unresolved');
    expect(
      run(
        "{{ header:value | fn:filter(header:value,'like',header:pattern) }}",
        r(`${'*a'.repeat(40)}*`, 'a'.repeat(3000)),
      ).kind,
    ).toBe('resolved');
    expect(
      run("{{ header:value | fn:filter(header:value,'like',header:pattern) }}", r('a*b', 'a\nb')).kind,
    ).toBe('unresolved');
  });
  it('can be used alone, e.g. for acknowledgement request filters', () => {
    expect(run("{{ fn:filter(header:response-required,'eq','true') }}").kind).toBe('unresolved');
  });
});

describe('fn:format', () => {
  it('formats a JSON object value with correlated fields', () => {
    expect(values("{{ header:json | fn:format('{reseller}#{service_provider}#{roles}') }}")).toEqual([
      'r1#sp#admin',
      'r1#sp#user',
    ]);
  });
  it('iterates sections over arrays of objects and {.} over primitives', () => {
    expect(values("{{ jwt:orgs | fn:format('{id}:{#roles}{.}{/roles}') }}")).toEqual([
      'o1:r1',
      'o1:r2',
      'o2:r3',
    ]);
  });
  it('supports JSON pointers, escaped braces and renders missing fields as empty', () => {
    const r = { header: headerResolver({ j: '{"a":{"b":1},"c":null}' }) };
    expect(values("{{ header:j | fn:format('\\{{/a/b}\\}-{c}-{missing}') }}", r)).toEqual(['{1}--']);
  });
  it('formats a value that is no JSON object as empty', () => {
    expect(values("{{ header:device-id | fn:format('{a}') }}")).toEqual(['']);
  });
});
