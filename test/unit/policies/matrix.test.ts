import { describe, expect, it } from 'vitest';
import { createEnforcer } from '../../../src/policies/enforcer.js';
import { validatePolicy } from '../../../src/policies/validate.js';
import { MATRIX_NOW, matrix, type MatrixCase } from './matrix.js';

function decide(c: MatrixCase): unknown {
  const enforcer = createEnforcer(c.policy, {
    now: c.now ?? MATRIX_NOW,
    resolveImport: (id) => c.imported?.[id],
  });
  const { check } = c;
  switch (check.kind) {
    case 'read':
      return enforcer.hasUnrestricted(check.resource, c.subjects, ['READ']);
    case 'write':
      return enforcer.hasUnrestricted(check.resource, c.subjects, ['WRITE']);
    case 'partial':
      return enforcer.hasPartial(check.resource, c.subjects, ['READ']);
    case 'filter':
      return enforcer.filterReadable(check.type ?? 'thing', check.path, check.value, c.subjects);
  }
}

describe('policy decision matrix (ditto-interfaces.md §7.3, §7.4, Appendix A.1)', () => {
  it('has at least 40 cases with unique names', () => {
    expect(matrix.length).toBeGreaterThanOrEqual(40);
    expect(new Set(matrix.map((c) => c.name)).size).toBe(matrix.length);
  });

  it('contains only policies that pass validation', () => {
    for (const c of [
      ...matrix.map((m) => m.policy),
      ...matrix.flatMap((m) => Object.values(m.imported ?? {})),
    ]) {
      expect(() => validatePolicy(c)).not.toThrow();
    }
  });

  it.each(matrix.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(decide(c)).toStrictEqual(c.expected);
  });
});
