import { describe, expect, it } from 'vitest';
import { DittoError } from '../../../src/errors/ditto-error.js';
import { MAX_POLICY_SIZE, validatePolicy } from '../../../src/policies/validate.js';

const owner = {
  subjects: { 'nginx:ditto': { type: 'nginx basic auth user' } },
  resources: {
    'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
    'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
    'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
  },
};
const valid = () => ({ policyId: 'com.acme:policy-a', entries: { owner: structuredClone(owner) } });

/** Runs `fn` and returns the DittoError it throws (fails the test when it does not throw one). */
function errorOf(fn: () => unknown): DittoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DittoError) return e;
    throw e;
  }
  throw new Error('expected a DittoError');
}

describe('validatePolicy', () => {
  it('returns the typed policy for a valid body', () => {
    const policy = validatePolicy(valid());
    expect(policy.policyId).toBe('com.acme:policy-a');
    expect(policy.entries.owner.resources['thing:/'].grant).toEqual(['READ', 'WRITE']);
  });

  it('accepts the §7.1 example with imports, expiry, announcement, namespaces and references', () => {
    const policy = validatePolicy({
      policyId: 'ns:policy-a',
      imports: { 'ns:other': { entries: ['EXPLICIT_LABEL'], transitiveImports: ['ns:deeper'] } },
      entries: {
        owner: {
          subjects: {
            'nginx:ditto': {
              type: 'nginx basic auth user',
              expiry: '2099-12-31T23:59:59Z',
              announcement: {
                beforeExpiry: '1h',
                whenDeleted: true,
                randomizationInterval: '5m',
                requestedAcks: { labels: ['conn:ack'], timeout: '10s' },
              },
            },
          },
          resources: owner.resources,
          namespaces: ['com.acme', 'com.acme.*'],
          importable: 'implicit',
          references: [{ entry: 'local-label' }, { import: 'ns:other', entry: 'x' }],
          allowedAdditions: ['subjects'],
        },
      },
    });
    expect(policy.imports).toEqual({
      'ns:other': { entries: ['EXPLICIT_LABEL'], transitiveImports: ['ns:deeper'] },
    });
  });

  it('accepts EXECUTE for policy actions', () => {
    const body = valid();
    (body.entries.owner.resources as Record<string, unknown>)[
      'policy:/entries/owner/actions/activateTokenIntegration'
    ] = { grant: ['EXECUTE'], revoke: [] };
    expect(() => validatePolicy(body)).not.toThrow();
  });

  it('drops read-only fields from the body', () => {
    const policy = validatePolicy({ ...valid(), _revision: 3, _modified: '2026-01-01T00:00:00Z' });
    expect(policy).not.toHaveProperty('_revision');
    expect(policy).not.toHaveProperty('_modified');
  });

  it('takes the policyId of the path when the body has none', () => {
    const { entries } = valid();
    expect(validatePolicy({ entries }, 'com.acme:from-path').policyId).toBe('com.acme:from-path');
  });

  it('rejects a body policyId different from the path one with 400 policies:id.notsettable', () => {
    const e = errorOf(() => validatePolicy(valid(), 'com.acme:other'));
    expect([e.status, e.error]).toEqual([400, 'policies:id.notsettable']);
  });

  it.each(['no-colon', 'foo.1bar:name', 'ns:with/slash', 'ns:caf\u00e9', `ns:${'x'.repeat(254)}`])(
    'rejects the invalid policy ID %j with 400 policies:id.invalid',
    (policyId) => {
      const e = errorOf(() => validatePolicy({ ...valid(), policyId }));
      expect([e.status, e.error]).toEqual([400, 'policies:id.invalid']);
    },
  );

  it.each([':empty-namespace', 'com.some-domain:name', 'foo.bar_42:x', 'ns:名前', 'ns:a:b %+'])(
    'accepts the valid policy ID %j',
    (policyId) => {
      expect(validatePolicy({ ...valid(), policyId }).policyId).toBe(policyId);
    },
  );

  it('rejects an invalid path policy ID with 400 policies:id.invalid', () => {
    const e = errorOf(() => validatePolicy({ entries: valid().entries }, 'bad id'));
    expect(e.error).toBe('policies:id.invalid');
  });

  it.each(['imported', 'imported-ns:p-label', 'importedFoo', 'nsimported-x', ''])(
    'rejects the label %j with 400 policies:label.invalid',
    (label) => {
      const e = errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { [label]: owner } }));
      expect([e.status, e.error]).toEqual([400, 'policies:label.invalid']);
    },
  );

  it('accepts labels that merely contain "imported"', () => {
    expect(() =>
      validatePolicy({ policyId: 'ns:p', entries: { 'not-imported': owner, nsimported: owner } }),
    ).not.toThrow();
  });

  it.each(['nosubjectissuer', ':subject', 'issuer:'])(
    'rejects the subject ID %j with 400 policies:subjectid.invalid',
    (subjectId) => {
      const entry = { ...owner, subjects: { [subjectId]: { type: 't' } } };
      const e = errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } }));
      expect([e.status, e.error, e.message]).toEqual([
        400,
        'policies:subjectid.invalid',
        `Subject ID '${subjectId}' is not valid!`,
      ]);
    },
  );

  it('accepts subject IDs whose subject part contains colons', () => {
    const entry = { ...owner, subjects: { 'integration:label:aud': { type: 't' } } };
    expect(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } })).not.toThrow();
  });

  it.each([
    'attributes/x',
    'thing/attributes',
    'things:/',
    'thing:attributes',
    'event:/x',
    'thing:/a\u0001b',
  ])('rejects the resource key %j with 400 policies:entry.invalid', (key) => {
    const entry = {
      subjects: owner.subjects,
      resources: { ...owner.resources, [key]: { grant: ['READ'], revoke: [] } },
    };
    const e = errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } }));
    expect([e.status, e.error]).toEqual([400, 'policies:entry.invalid']);
  });

  it('rejects an unknown permission with a 400', () => {
    const entry = { subjects: owner.subjects, resources: { 'thing:/': { grant: ['DELETE'], revoke: [] } } };
    const e = errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } }));
    expect([e.status, e.error]).toEqual([400, 'json.format.invalid']);
  });

  it('rejects a resource without revoke with 400 json.field.missing', () => {
    const entry = { subjects: owner.subjects, resources: { 'thing:/': { grant: ['READ'] } } };
    const e = errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } }));
    expect([e.status, e.error]).toEqual([400, 'json.field.missing']);
  });

  it('rejects a subject without type with 400 json.field.missing', () => {
    const entry = { subjects: { 'nginx:ditto': {} }, resources: owner.resources };
    const e = errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } }));
    expect(e.error).toBe('json.field.missing');
  });

  it('rejects a body without entries with 400 json.field.missing', () => {
    const e = errorOf(() => validatePolicy({ policyId: 'ns:p' }));
    expect([e.status, e.error]).toEqual([400, 'json.field.missing']);
  });

  it('rejects a non-object body with 400 json.format.invalid', () => {
    expect(errorOf(() => validatePolicy([])).error).toBe('json.format.invalid');
    expect(errorOf(() => validatePolicy('x')).error).toBe('json.format.invalid');
  });

  it('rejects an expiry that is not a date-time', () => {
    const entry = {
      subjects: { 'nginx:ditto': { type: 't', expiry: 'tomorrow' } },
      resources: owner.resources,
    };
    expect(errorOf(() => validatePolicy({ policyId: 'ns:p', entries: { owner: entry } })).error).toBe(
      'json.format.invalid',
    );
  });

  it('rejects an unknown importable value', () => {
    const e = errorOf(() =>
      validatePolicy({ policyId: 'ns:p', entries: { owner: { ...owner, importable: 'always' } } }),
    );
    expect(e.status).toBe(400);
  });

  it('accepts 10 imports and rejects 11 with 400 policies:imports.toolarge', () => {
    const imports = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`ns:imported-${i}`, {}]));
    expect(() => validatePolicy({ ...valid(), imports: imports(10) })).not.toThrow();
    const e = errorOf(() => validatePolicy({ ...valid(), imports: imports(11) }));
    expect([e.status, e.error]).toEqual([400, 'policies:imports.toolarge']);
  });

  it('rejects an import whose key is not a policy ID with 400 policies:id.invalid', () => {
    const e = errorOf(() => validatePolicy({ ...valid(), imports: { 'not a policy id': {} } }));
    expect(e.error).toBe('policies:id.invalid');
  });

  it('rejects a policy larger than 100 kB with 413 policies:policy.toolarge', () => {
    const subjects = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`nginx:user-${i}`, { type: 'a user of the system' }]),
    );
    const big = { policyId: 'ns:p', entries: { owner: { ...owner, subjects } } };
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(MAX_POLICY_SIZE);
    const e = errorOf(() => validatePolicy(big));
    expect([e.status, e.error]).toEqual([413, 'policies:policy.toolarge']);
  });

  it('honours a configured size limit', () => {
    expect(errorOf(() => validatePolicy(valid(), undefined, { maxSize: 100 })).status).toBe(413);
  });
});
