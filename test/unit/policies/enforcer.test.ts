import { describe, expect, it } from 'vitest';
import {
  createEnforcer,
  defaultPolicy,
  effectiveEntries,
  leavesPolicyWriter,
} from '../../../src/policies/enforcer.js';
import type { Permission, Policy } from '../../../src/policies/model.js';
import { validatePolicy } from '../../../src/policies/validate.js';

const DITTO = 'nginx:ditto';
const ALICE = 'nginx:alice';

function single(
  subject: string,
  resources: Record<string, { grant?: Permission[]; revoke?: Permission[] }>,
): Policy {
  return {
    policyId: 'ns:p',
    entries: {
      e: {
        subjects: { [subject]: { type: 't' } },
        resources: Object.fromEntries(
          Object.entries(resources).map(([k, v]) => [k, { grant: v.grant ?? [], revoke: v.revoke ?? [] }]),
        ),
      },
    },
  };
}

describe('defaultPolicy', () => {
  it("builds Ditto's default policy for a created thing (§1.2)", () => {
    const policy = defaultPolicy('com.acme:thing-1', DITTO);
    expect(policy).toEqual({
      policyId: 'com.acme:thing-1',
      entries: {
        DEFAULT: {
          subjects: { [DITTO]: { type: 'generated' } },
          resources: {
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
      },
    });
    expect(() => validatePolicy(policy)).not.toThrow();
    const enforcer = createEnforcer(policy);
    expect(enforcer.hasUnrestricted('thing:/', [DITTO], ['READ', 'WRITE'])).toBe(true);
    expect(enforcer.hasUnrestricted('message:/features/f/inbox/messages/x', [DITTO], ['WRITE'])).toBe(true);
    expect(leavesPolicyWriter(policy)).toBe(true);
  });
});

describe('leavesPolicyWriter', () => {
  it('is false when no entry grants WRITE on policy:/', () => {
    expect(
      leavesPolicyWriter(
        single(DITTO, { 'thing:/': { grant: ['READ', 'WRITE'] }, 'policy:/': { grant: ['READ'] } }),
      ),
    ).toBe(false);
  });

  it('is false when WRITE on policy:/ is granted only on a sub-resource', () => {
    expect(leavesPolicyWriter(single(DITTO, { 'policy:/entries': { grant: ['WRITE'] } }))).toBe(false);
  });

  it('is false when the only writer has WRITE revoked somewhere below policy:/', () => {
    expect(
      leavesPolicyWriter(
        single(DITTO, { 'policy:/': { grant: ['WRITE'] }, 'policy:/entries/admin': { revoke: ['WRITE'] } }),
      ),
    ).toBe(false);
  });

  it('is true when another subject keeps unrestricted WRITE', () => {
    const policy = single(DITTO, {
      'policy:/': { grant: ['WRITE'] },
      'policy:/entries/admin': { revoke: ['WRITE'] },
    });
    policy.entries.admin = {
      subjects: { [ALICE]: { type: 't' } },
      resources: { 'policy:/': { grant: ['WRITE'], revoke: [] } },
    };
    expect(leavesPolicyWriter(policy)).toBe(true);
  });

  it('is false when the only writer has expired', () => {
    const policy = single(DITTO, { 'policy:/': { grant: ['WRITE'] } });
    policy.entries.e.subjects[DITTO].expiry = '2020-01-01T00:00:00Z';
    expect(leavesPolicyWriter(policy, { now: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(leavesPolicyWriter(policy, { now: '2019-01-01T00:00:00Z' })).toBe(true);
  });
});

describe('enforcer checks', () => {
  it('requires every requested permission', () => {
    const enforcer = createEnforcer(single(DITTO, { 'thing:/': { grant: ['READ'] } }));
    expect(enforcer.hasUnrestricted('thing:/attributes', [DITTO], ['READ'])).toBe(true);
    expect(enforcer.hasUnrestricted('thing:/attributes', [DITTO], ['READ', 'WRITE'])).toBe(false);
    expect(enforcer.hasUnrestricted('thing:/attributes', [DITTO], [])).toBe(false);
  });

  it('denies everything to an empty subject list', () => {
    const enforcer = createEnforcer(single(DITTO, { 'thing:/': { grant: ['READ'] } }));
    expect(enforcer.hasPartial('thing:/', [], ['READ'])).toBe(false);
  });

  it('grants nothing on a resource type without statements or an unknown type', () => {
    const enforcer = createEnforcer(single(DITTO, { 'thing:/': { grant: ['READ', 'WRITE'] } }));
    expect(enforcer.hasPartial('policy:/', [DITTO], ['READ'])).toBe(false);
    expect(enforcer.hasPartial('foo:/', [DITTO], ['READ'])).toBe(false);
    expect(enforcer.filterReadable('policy', '/', { policyId: 'ns:p' }, [DITTO])).toBeUndefined();
  });

  it('checks EXECUTE on policy actions', () => {
    const enforcer = createEnforcer(single(DITTO, { 'policy:/entries/e/actions': { grant: ['EXECUTE'] } }));
    expect(
      enforcer.hasUnrestricted('policy:/entries/e/actions/activateTokenIntegration', [DITTO], ['EXECUTE']),
    ).toBe(true);
    expect(
      enforcer.hasUnrestricted(
        'policy:/entries/other/actions/activateTokenIntegration',
        [DITTO],
        ['EXECUTE'],
      ),
    ).toBe(false);
  });

  it('evaluates subject expiry at the given instant', () => {
    const policy = single(DITTO, { 'thing:/': { grant: ['READ'] } });
    policy.entries.e.subjects[DITTO].expiry = '2026-01-01T00:00:00Z';
    expect(
      createEnforcer(policy, { now: new Date('2025-12-31T23:59:59Z') }).hasPartial(
        'thing:/',
        [DITTO],
        ['READ'],
      ),
    ).toBe(true);
    expect(
      createEnforcer(policy, { now: Date.parse('2026-01-01T00:00:00Z') }).hasPartial(
        'thing:/',
        [DITTO],
        ['READ'],
      ),
    ).toBe(false);
  });

  it('applies entries with namespaces only to matching namespaces when a namespace is given', () => {
    const policy = single(DITTO, { 'thing:/': { grant: ['READ'] } });
    policy.entries.e.namespaces = ['com.acme', 'org.example.*'];
    const read = (namespace?: string) =>
      createEnforcer(policy, { namespace }).hasPartial('thing:/', [DITTO], ['READ']);
    expect(read('com.acme')).toBe(true);
    expect(read('com.acme.sub')).toBe(false);
    expect(read('org.example.sub')).toBe(true);
    expect(read('org.example')).toBe(false);
    expect(read(undefined)).toBe(true);
  });

  it('lists the subjects with unrestricted permission', () => {
    const policy = single(DITTO, { 'thing:/': { grant: ['WRITE'] } });
    policy.entries.other = {
      subjects: { [ALICE]: { type: 't' } },
      resources: {
        'thing:/': { grant: ['WRITE'], revoke: [] },
        'thing:/attributes/x': { grant: [], revoke: ['WRITE'] },
      },
    };
    expect([...createEnforcer(policy).subjectsWithUnrestricted('thing:/', ['WRITE'])]).toEqual([DITTO]);
    expect([...createEnforcer(policy).subjectsWithUnrestricted('thing:/features', ['WRITE'])].sort()).toEqual(
      [ALICE, DITTO].sort(),
    );
  });
});

describe('imports', () => {
  const imported: Policy = {
    policyId: 'ns:imported',
    entries: {
      a: { subjects: { [ALICE]: { type: 't' } }, resources: { 'thing:/': { grant: ['READ'], revoke: [] } } },
      b: {
        subjects: { [ALICE]: { type: 't' } },
        resources: { 'thing:/': { grant: ['WRITE'], revoke: [] } },
        importable: 'explicit',
      },
      c: {
        subjects: { [ALICE]: { type: 't' } },
        resources: { 'thing:/': { grant: ['WRITE'], revoke: [] } },
        importable: 'never',
      },
    },
  };

  it('labels imported entries imported-<policyId>-<label> (§7.4)', () => {
    const policy: Policy = {
      ...single(DITTO, { 'policy:/': { grant: ['WRITE'] } }),
      imports: { 'ns:imported': { entries: ['b', 'c'] } },
    };
    expect(
      effectiveEntries(policy, (id) => (id === 'ns:imported' ? imported : undefined)).map(([label]) => label),
    ).toEqual(['e', 'imported-ns:imported-a', 'imported-ns:imported-b']);
  });

  it('ignores imports without a resolver', () => {
    const policy: Policy = {
      ...single(DITTO, { 'policy:/': { grant: ['WRITE'] } }),
      imports: { 'ns:imported': {} },
    };
    expect(createEnforcer(policy).hasPartial('thing:/', [ALICE], ['READ'])).toBe(false);
  });
});

describe('canWriteAll (merge patches, §2.4)', () => {
  const enforcer = createEnforcer(
    single(DITTO, {
      'thing:/': { grant: ['READ', 'WRITE'] },
      'thing:/attributes/secret': { revoke: ['WRITE'] },
    }),
  );

  it('allows a patch that touches only writable paths', () => {
    expect(
      enforcer.canWriteAll(
        'thing',
        '/',
        { attributes: { location: 'hall', other: { deep: 1 } }, features: { f: null } },
        [DITTO],
      ),
    ).toBe(true);
  });

  it('refuses a patch that touches a revoked path', () => {
    expect(
      enforcer.canWriteAll('thing', '/', { attributes: { location: 'hall', secret: { pin: 1 } } }, [DITTO]),
    ).toBe(false);
    expect(enforcer.canWriteAll('thing', '/attributes', { secret: null }, [DITTO])).toBe(false);
  });

  it('refuses replacing a whole subtree that contains a revoked path', () => {
    expect(enforcer.canWriteAll('thing', '/', { attributes: 5 }, [DITTO])).toBe(false);
    expect(enforcer.canWriteAll('thing', '/', { attributes: {} }, [DITTO])).toBe(false);
    expect(enforcer.canWriteAll('thing', '/attributes', ['replaced'], [DITTO])).toBe(false);
  });

  it('treats a regex-deletion key as touching every sibling', () => {
    expect(enforcer.canWriteAll('thing', '/attributes', { '{{ ~sec.*~ }}': null }, [DITTO])).toBe(false);
    expect(enforcer.canWriteAll('thing', '/attributes', { '{{ /sec.*/ }}': null }, [DITTO])).toBe(false);
    expect(enforcer.canWriteAll('thing', '/features', { '{{ ~.*~ }}': null }, [DITTO])).toBe(true);
  });

  it('refuses a caller without WRITE', () => {
    expect(enforcer.canWriteAll('thing', '/attributes/location', 'x', [ALICE])).toBe(false);
  });
});

describe('filterReadable details', () => {
  it('returns readable subtrees by reference', () => {
    const value = { attributes: { a: { big: [1, 2, 3] } } };
    const result = createEnforcer(
      single(DITTO, { 'thing:/': { grant: ['READ'] }, 'thing:/features': { revoke: ['READ'] } }),
    ).filterReadable('thing', '/', value, [DITTO]) as typeof value;
    expect(result.attributes).toBe(value.attributes);
  });

  it('keeps thingId when the thing is partially readable although nothing present is', () => {
    const enforcer = createEnforcer(single(DITTO, { 'thing:/features/missing': { grant: ['READ'] } }));
    expect(enforcer.filterReadable('thing', '/', { thingId: 'ns:t', attributes: { a: 1 } }, [DITTO])).toEqual(
      { thingId: 'ns:t' },
    );
  });

  it("judges the objects inside an array at the array's node", () => {
    const enforcer = createEnforcer(
      single(DITTO, {
        'thing:/attributes/list': { grant: ['READ'] },
        'thing:/attributes/list/hidden': { revoke: ['READ'] },
      }),
    );
    expect(
      enforcer.filterReadable('thing', '/attributes', { list: [{ hidden: 1, shown: 2 }, 3] }, [DITTO]),
    ).toEqual({ list: [{ shown: 2 }, 3] });
  });

  it('does not treat a policy ID specially', () => {
    const enforcer = createEnforcer(single(DITTO, { 'policy:/entries': { grant: ['READ'] } }));
    expect(enforcer.filterReadable('policy', '/', { policyId: 'ns:p', entries: {} }, [DITTO])).toEqual({
      entries: {},
    });
  });
});

describe('filterReadable with hostile keys', () => {
  it('keeps a readable "__proto__" key as an own property and drops an unreadable one', () => {
    const value = JSON.parse(
      '{"attributes":{"__proto__":{"polluted":true},"secret":1,"other":{"__proto__":2}}}',
    );
    const enforcer = createEnforcer(
      single(DITTO, {
        'thing:/': { grant: ['READ'] },
        'thing:/attributes/secret': { revoke: ['READ'] },
        'thing:/attributes/other/x': { grant: ['READ'] },
      }),
    );
    const result = enforcer.filterReadable('thing', '/', value, [DITTO]) as {
      attributes: Record<string, unknown>;
    };
    expect(Object.keys(result.attributes)).toEqual(['__proto__', 'other']);
    expect(Object.getPrototypeOf(result.attributes)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
