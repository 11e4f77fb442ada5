/**
 * Consistent hashing for consumer groups (ditto-interfaces.md §15): each member owns many points on a
 * 32-bit ring; a key belongs to the member owning the first point at or after the key's hash. Adding or
 * removing a member moves only the keys of that member's points, so a thing stays with the same member
 * while membership is stable.
 */

/** FNV-1a with a final avalanche (murmur3 fmix32), so similar strings land far apart on the ring. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing<T> {
  private readonly points: Uint32Array;
  private readonly owners: T[];
  readonly size: number;

  /** @param pointsPerMember virtual nodes per member; 160 keeps the shares within a few percent. */
  constructor(members: readonly T[], idOf: (member: T) => string, pointsPerMember = 160) {
    const entries: Array<[number, T]> = [];
    for (const member of members) {
      const id = idOf(member);
      for (let i = 0; i < pointsPerMember; i++) entries.push([hash32(`${id}#${i}`), member]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(entries.map((e) => e[0]));
    this.owners = entries.map((e) => e[1]);
    this.size = members.length;
  }

  /** The members in ring order starting at the owner of `key`, each once (the owner first). */
  *walk(key: string): Generator<T> {
    const n = this.points.length;
    if (n === 0) return;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Set<T>();
    for (let k = 0; k < n && seen.size < this.size; k++) {
      const owner = this.owners[(lo + k) % n];
      if (seen.has(owner)) continue;
      seen.add(owner);
      yield owner;
    }
  }
}
