import { describe, expect, it } from 'vitest';
import { SortedPairs } from '../../../src/search/path-index.js';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe('SortedPairs', () => {
  it('stays sorted through bulk load, many inserts (block splits) and removes', () => {
    const rnd = random(3);
    const pairs = new SortedPairs<number>((a, b) => a - b);
    let reference: Array<[number, number]> = Array.from({ length: 700 }, (_, id) => [
      Math.floor(rnd() * 100),
      id,
    ]);
    pairs.load(reference.map((p) => [...p] as [number, number]));
    for (let id = 700; id < 6000; id++) {
      const value = Math.floor(rnd() * 100);
      pairs.insert(value, id);
      reference.push([value, id]);
      if (rnd() < 0.3) {
        const [v, i] = reference[Math.floor(rnd() * reference.length)];
        pairs.remove(v, i);
        reference = reference.filter((p) => p[1] !== i);
      }
    }
    pairs.remove(1000, 1); // absent: no effect
    reference.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const forward: Array<[number, number]> = [];
    pairs.scan(0, 1, (v, id) => (forward.push([v, id]), true));
    expect(pairs.size).toBe(reference.length);
    expect(forward).toEqual(reference);
    const backward: Array<[number, number]> = [];
    pairs.scan(pairs.size - 1, -1, (v, id) => (backward.push([v, id]), true));
    expect(backward).toEqual([...reference].reverse());
    for (const probe of [-1, 0, 17, 50, 99, 100]) {
      expect(pairs.bound(probe, false)).toBe(
        reference.findIndex((p) => p[0] >= probe) === -1
          ? reference.length
          : reference.findIndex((p) => p[0] >= probe),
      );
      expect(pairs.bound(probe, true)).toBe(
        reference.findIndex((p) => p[0] > probe) === -1
          ? reference.length
          : reference.findIndex((p) => p[0] > probe),
      );
    }
    const middle: number[] = [];
    pairs.scan(2500, 1, (_v, id) => (middle.push(id), middle.length < 3));
    expect(middle).toEqual(reference.slice(2500, 2503).map((p) => p[1]));
  });
});
