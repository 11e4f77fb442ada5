import { describe, expect, it } from 'vitest';
import { subjectsKeyOf } from '../../../src/auth/context.js';

describe('subjectsKeyOf', () => {
  it('is the same for the same subjects in the same order', () => {
    expect(subjectsKeyOf({ subjects: ['nginx:a', 'nginx:b'] })).toBe(
      subjectsKeyOf({ subjects: ['nginx:a', 'nginx:b'] }),
    );
  });

  it('never gives one subject that holds a separator the key of two subjects (a JWT claim can hold any character)', () => {
    const victim = ['keycloak:alice', 'keycloak:group-admins'];
    for (const separator of ['\n', ',', '\0', '","', '|']) {
      expect(subjectsKeyOf({ subjects: [victim.join(separator)] })).not.toBe(
        subjectsKeyOf({ subjects: victim }),
      );
    }
  });
});
