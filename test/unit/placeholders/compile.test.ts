import { describe, expect, it } from 'vitest';
import { isDittoError, type DittoError } from '../../../src/errors/ditto-error.js';
import { compileExpression, compileTemplate, type ExpressionPart } from '../../../src/placeholders/index.js';

function errorOf(template: string): DittoError {
  try {
    compileTemplate(template);
  } catch (error) {
    if (isDittoError(error)) return error;
    throw error;
  }
  throw new Error(`expected '${template}' to be rejected`);
}

function expressions(template: string): ExpressionPart[] {
  return compileTemplate(template).parts.filter((p): p is ExpressionPart => p.kind === 'expression');
}

describe('compileTemplate', () => {
  it('splits literal text and placeholders', () => {
    const t = compileTemplate('devices/{{ thing:namespace }}/{{thing:name}}!');
    expect(t.parts.map((p) => (p.kind === 'literal' ? p.text : p.expression))).toEqual([
      'devices/',
      'thing:namespace',
      '/',
      'thing:name',
      '!',
    ]);
    expect(t.placeholders.map((p) => [p.prefix, p.name, p.position])).toEqual([
      ['thing', 'namespace', 12],
      ['thing', 'name', 33],
    ]);
  });

  it('accepts any spacing inside the braces', () => {
    const [a] = expressions('{{thing:id|fn:upper()}}');
    const [b] = expressions('{{   thing:id   |   fn:upper( )   }}');
    expect(a.input?.source).toBe('thing:id');
    expect(b.input?.source).toBe('thing:id');
    expect(a.stages.map((s) => s.fn.name)).toEqual(['upper']);
    expect(b.stages.map((s) => s.fn.name)).toEqual(['upper']);
  });

  it('keeps names with colons, slashes and brackets', () => {
    const t = compileTemplate(
      '{{ ref:things/org.eclipse:dev-1/policyId }}{{ time:now-25m[m] }}{{ jwt:/realm_access/roles }}',
    );
    expect(t.placeholders.map((p) => `${p.prefix}|${p.name}`)).toEqual([
      'ref|things/org.eclipse:dev-1/policyId',
      'time|now-25m[m]',
      'jwt|/realm_access/roles',
    ]);
  });

  it('parses a pipeline starting with a function (no input placeholder)', () => {
    const [e] = expressions("{{ fn:default('x') }}");
    expect(e.input).toBeUndefined();
    expect(e.stages[0].constArgs).toEqual([['x']]);
  });

  it('does not split at | or }} inside quoted arguments', () => {
    const [e] = expressions("{{ header:x | fn:filter('like','a|b}}c') | fn:default(\"p|q\") }}");
    expect(e.stages.map((s) => s.fn.name)).toEqual(['filter', 'default']);
    expect(e.stages[0].args).toEqual([
      { kind: 'string', value: 'like' },
      { kind: 'string', value: 'a|b}}c' },
    ]);
    expect(e.stages[1].constArgs).toEqual([['p|q']]);
  });

  it('unescapes escaped quotes inside string arguments', () => {
    const [e] = expressions("{{ fn:default('it\\'s') }}");
    expect(e.stages[0].constArgs).toEqual([["it's"]]);
  });

  it('records placeholder arguments as placeholders of the template', () => {
    const t = compileTemplate("{{ header:a | fn:filter(header:b,'eq','x') | fn:default(thing:id) }}");
    expect(t.placeholders.map((p) => p.source)).toEqual(['header:a', 'header:b', 'thing:id']);
  });

  it('returns a single literal for text without placeholders', () => {
    expect(compileTemplate('plain}} text').parts).toEqual([{ kind: 'literal', text: 'plain}} text' }]);
    expect(compileTemplate('').parts).toEqual([]);
  });

  it('compiles bare expressions (RQL values)', () => {
    expect(compileExpression('time:now-1h').placeholders.map((p) => p.name)).toEqual(['now-1h']);
  });
});

describe('compileTemplate errors', () => {
  it('rejects an unknown function with placeholder:function.unknown and its position', () => {
    const e = errorOf('x/{{ thing:id | fn:unknown() }}');
    expect(e.error).toBe('placeholder:function.unknown');
    expect(e.status).toBe(400);
    expect(e.message).toContain('<fn:unknown()>');
    expect(e.message).toContain('position 17');
  });

  it('rejects a function without parentheses as unknown', () => {
    expect(errorOf('{{ thing:id | fn:upper }}').error).toBe('placeholder:function.unknown');
  });

  it('rejects a placeholder after the first stage as unknown function', () => {
    expect(errorOf('{{ thing:id | header:x }}').error).toBe('placeholder:function.unknown');
  });

  it.each([
    ["{{ thing:id | fn:upper('x') }}", 'expected 0 argument(s), got 1'],
    ['{{ thing:id | fn:default() }}', 'expected 1 argument(s), got 0'],
    ["{{ thing:id | fn:replace('a') }}", 'expected 2 argument(s), got 1'],
    ["{{ thing:id | fn:filter('eq') }}", 'expected 2 to 3 argument(s), got 1'],
    ["{{ thing:id | fn:filter('a','eq','b','c') }}", 'expected 2 to 3 argument(s), got 4'],
    ["{{ thing:id | fn:filter('x','y') }}", "unknown rqlFunction 'x'"],
    ["{{ thing:id | fn:filter(header:a,header:b,'c') }}", 'must be a quoted string'],
    ['{{ thing:id | fn:substring-before(header:a) }}', 'must be quoted strings'],
    ['{{ thing:id | fn:default(bare) }}', "'bare' is neither a quoted string nor a placeholder"],
    ["{{ thing:id | fn:default('a',) }}", 'missing argument'],
    ["{{ thing:id | fn:default('a' 'b') }}", "unexpected ''b')'"],
    ["{{ thing:id | fn:default('a') x }}", "unexpected 'x' after ')'"],
    ["{{ thing:id | fn:format('{#a}{b}') }}", 'unclosed section {#a}'],
    ["{{ thing:id | fn:format('{x}{/y}') }}", 'unexpected closing tag {/y}'],
  ])('rejects %s with placeholder:function.signature.invalid', (template, detail) => {
    const e = errorOf(template);
    expect(e.error).toBe('placeholder:function.signature.invalid');
    expect(e.message).toContain(detail);
    expect(e.message).toContain('position 15');
    expect(e.message).toMatch(/Expected <fn:[a-z-]+\(/);
  });

  it('rejects more than 10 chained functions with placeholder:function.too.complex', () => {
    const ten = Array.from({ length: 10 }, () => 'fn:lower()').join(' | ');
    expect(() => compileTemplate(`{{ thing:id | ${ten} }}`)).not.toThrow();
    const e = errorOf(`{{ thing:id | ${ten} | fn:upper() }}`);
    expect(e.error).toBe('placeholder:function.too.complex');
    expect(e.message).toContain('11 chained functions');
  });

  it.each([
    ['{{ thing:id', "missing closing '}}'"],
    ["{{ fn:default('x }}", "missing closing '}}'"],
    ['{{ }}', "'{{ }}' at position 1 of template '{{ }}' could not be resolved: empty pipeline stage"],
    ['{{ thingid }}', "expected 'prefix:name'"],
    ['{{ thing: }}', "expected 'prefix:name'"],
    ['{{ thing:id | }}', 'empty pipeline stage'],
  ])('rejects %s with placeholder:placeholder.notresolvable', (template, reason) => {
    const e = errorOf(template);
    expect(e.error).toBe('placeholder:placeholder.notresolvable');
    expect(e.message).toContain(reason);
  });
});
