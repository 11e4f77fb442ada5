import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '../../../src/util/merge-patch.js';
import { deleteAt, setAt } from '../../../src/util/json-pointer.js';
import { copyOf, deepMerge, extended } from '../../../src/util/objects.js';

// JSON.parse makes `__proto__` an own key; copies must keep it as data, never as the copy's prototype.
const withProto = () => JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;

describe('object copies on the hot path', () => {
  it('copyOf keeps keys, order and an own __proto__ key as data', () => {
    const copy = copyOf(withProto());
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it('extended adds keys after the base keys, replacing equal ones', () => {
    const base = { thingId: 'a:b', policyId: 'a:b', _revision: 1 };
    const out = extended(base, { _revision: 2, _modified: 'now' });
    expect(JSON.stringify(out)).toBe('{"thingId":"a:b","policyId":"a:b","_revision":2,"_modified":"now"}');
    expect(base._revision).toBe(1);
  });

  it('deepMerge unions objects and lets the second win elsewhere', () => {
    const a = { x: { y: 1, z: [1] }, k: 1 };
    expect(deepMerge(a, { x: { z: [2], w: 3 }, k: { n: 1 } })).toEqual({
      x: { y: 1, z: [2], w: 3 },
      k: { n: 1 },
    });
    expect(a).toEqual({ x: { y: 1, z: [1] }, k: 1 });
    const merged = deepMerge({}, withProto());
    expect(Object.keys(merged)).toEqual(['__proto__', 'a']);
    expect((merged as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('setAt, deleteAt and merge patches treat a __proto__ segment as a key', () => {
    const set = setAt({ attributes: {} }, ['attributes', '__proto__'], { polluted: true }) as {
      attributes: Record<string, unknown>;
    };
    expect(Object.keys(set.attributes)).toEqual(['__proto__']);
    expect((set.attributes as { polluted?: boolean }).polluted).toBeUndefined();
    expect(deleteAt(set, ['attributes', '__proto__'])).toEqual({ attributes: {} });
    const patched = applyMergePatch({ a: 1 }, withProto()) as Record<string, unknown>;
    expect(Object.keys(patched)).toEqual(['a', '__proto__']);
    expect((patched as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
