import { describe, expect, it } from 'vitest';
import { declaredErrors, isDittoError, type DittoError } from '../../../src/errors/ditto-error.js';
import {
  PLACEHOLDER_SCOPES,
  validateTemplate,
  type ValidateOptions,
} from '../../../src/placeholders/index.js';

function errorOf(template: string, options: ValidateOptions): DittoError {
  try {
    validateTemplate(template, options);
  } catch (error) {
    if (isDittoError(error)) return error;
    throw error;
  }
  throw new Error(`expected '${template}' to be rejected`);
}

const connection = { allowedPrefixes: PLACEHOLDER_SCOPES.connection };

describe('validateTemplate', () => {
  it('returns the compiled template when everything is allowed', () => {
    const t = validateTemplate(
      'devices/{{ thing:id }}/{{ header:x | fn:default(topic:action-subject) }}',
      connection,
    );
    expect(t.placeholders.map((p) => p.source)).toEqual(['thing:id', 'header:x', 'topic:action-subject']);
  });

  it.each([
    '{{ entity:id }}{{ entity:namespace }}{{ entity:name }}',
    '{{ thing:id }}{{ thing:namespace }}{{ thing:name }}',
    '{{ policy:id }}{{ feature:id }}{{ connection:id }}{{ request:subjectId }}{{ source:address }}',
    '{{ topic:full }}{{ topic:namespace }}{{ topic:entityName }}{{ topic:group }}{{ topic:channel }}',
    '{{ topic:criterion }}{{ topic:action }}{{ topic:subject }}{{ topic:action-subject }}',
    '{{ resource:type }}{{ resource:path }}{{ header:Any-Header }}{{ thing-json:attributes/a }}',
    '{{ time:now }}{{ time:now_epoch_millis }}{{ time:now+1h }}{{ time:now-7d }}{{ time:now[h] }}{{ time:now-25m[m] }}',
  ])('accepts the connection placeholders in %s', (template) => {
    expect(() => validateTemplate(template, connection)).not.toThrow();
  });

  it('rejects a prefix not allowed here with placeholder:placeholder.unknown, naming it and its position', () => {
    const e = errorOf('a/{{ jwt:sub }}', connection);
    expect(e.error).toBe('placeholder:placeholder.unknown');
    expect(e.status).toBe(400);
    expect(e.message).toBe(
      "The placeholder 'jwt:sub' at position 6 of template 'a/{{ jwt:sub }}' is unknown.",
    );
    expect(e.description).toContain('thing:id');
  });

  it('rejects an unknown prefix', () => {
    expect(errorOf('{{ foo:bar }}', connection).error).toBe('placeholder:placeholder.unknown');
  });

  it.each([
    '{{ thing:uuid }}',
    '{{ topic:entityId }}',
    '{{ feature:name }}',
    '{{ resource:kind }}',
    '{{ connection:name }}',
    '{{ request:subject }}',
    '{{ source:topic }}',
    '{{ time:later }}',
    '{{ time:now+1x }}',
    '{{ thing-json:id }}',
  ])('rejects the unknown name in %s', (template) => {
    const e = errorOf(template, connection);
    expect(e.error).toBe('placeholder:placeholder.unknown');
  });

  it('checks placeholders used as function arguments', () => {
    const e = errorOf('{{ header:x | fn:default(jwt:sub) }}', connection);
    expect(e.error).toBe('placeholder:placeholder.unknown');
    expect(e.message).toContain("'jwt:sub' at position 26");
  });

  it('narrows names per prefix, e.g. MQTT 3.1.1 header mappings (case-insensitive)', () => {
    const mqtt3: ValidateOptions = {
      allowedPrefixes: ['header'],
      allowedNames: { header: ['mqtt.topic', 'mqtt.qos', 'mqtt.retain'] },
    };
    expect(() => validateTemplate('{{ header:MQTT.Topic }}', mqtt3)).not.toThrow();
    const e = errorOf('{{ header:correlation-id }}', mqtt3);
    expect(e.error).toBe('placeholder:placeholder.unknown');
    expect(e.description).toBe(
      'Please use one of the supported placeholders: header:mqtt.topic, header:mqtt.qos, header:mqtt.retain.',
    );
  });

  it('accepts the OIDC scope with jwt pointers and pipelines (§8)', () => {
    const oidc = { allowedPrefixes: PLACEHOLDER_SCOPES.oidc };
    expect(() =>
      validateTemplate("{{ jwt:scope | fn:split(' ') | fn:filter('like','read*|write*') }}", oidc),
    ).not.toThrow();
    expect(() =>
      validateTemplate("{{ jwt:orgs | fn:format('{id}#{#roles}{.}{/roles}') }}", oidc),
    ).not.toThrow();
    expect(errorOf('{{ header:x }}', oidc).error).toBe('placeholder:placeholder.unknown');
  });

  it('accepts {{ request:subjectId }} and {{ ref:... }} where entities are created (§1.2)', () => {
    expect(() =>
      validateTemplate('{{ request:subjectId }}', { allowedPrefixes: PLACEHOLDER_SCOPES.entityCreation }),
    ).not.toThrow();
    expect(() =>
      validateTemplate('{{ ref:things/ns:t1/policyId }}', {
        allowedPrefixes: PLACEHOLDER_SCOPES.copyPolicyFrom,
      }),
    ).not.toThrow();
    expect(errorOf('{{ ref:things/ns:t1 }}', { allowedPrefixes: ['ref'] }).error).toBe(
      'placeholder:placeholder.unknown',
    );
  });

  it('accepts caller-defined prefixes with any name', () => {
    expect(() => validateTemplate('{{ custom:anything }}', { allowedPrefixes: ['custom'] })).not.toThrow();
  });

  it('reports function errors before placeholder errors with their own codes', () => {
    expect(errorOf('{{ jwt:sub | fn:nope() }}', connection).error).toBe('placeholder:function.unknown');
    expect(errorOf("{{ thing:id | fn:upper('x') }}", connection).error).toBe(
      'placeholder:function.signature.invalid',
    );
    const eleven = Array.from({ length: 11 }, () => 'fn:trim()').join('|');
    expect(errorOf(`{{ thing:id | ${eleven} }}`, connection).error).toBe('placeholder:function.too.complex');
  });

  it('rejects every placeholder when no prefix is allowed', () => {
    const e = errorOf('{{ thing:id }}', { allowedPrefixes: [] });
    expect(e.description).toBe('No placeholders are supported here.');
  });
});

describe('placeholder errors', () => {
  it("declares Ditto's placeholder error codes, all with status 400", () => {
    const codes = declaredErrors().filter((e) => e.code.startsWith('placeholder:'));
    expect(codes.sort((a, b) => a.code.localeCompare(b.code))).toEqual([
      { code: 'placeholder:function.signature.invalid', status: 400 },
      { code: 'placeholder:function.too.complex', status: 400 },
      { code: 'placeholder:function.unknown', status: 400 },
      { code: 'placeholder:placeholder.notresolvable', status: 400 },
      { code: 'placeholder:placeholder.unknown', status: 400 },
    ]);
  });
});
