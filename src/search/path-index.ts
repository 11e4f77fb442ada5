import {
  compareStrings,
  flattenValues,
  isPrimitive,
  resolvePath,
  type Primitive,
  type ThingJson,
} from './values.js';

// One index per property path, built on first use and kept current on every write (search-index.ts).
// - `equal`: value -> document ids (eq, in, like over distinct values); numbers, strings, booleans and
//   null are distinct Map keys, which is exactly the same-type equality of search mode (§3.2).
// - `numbers` / `strings`: (value, id) pairs sorted by value then id, for gt/ge/lt/le and like prefixes.
// - `present`: ids whose thing has any value at the path (exists).
// - `onlyStrings` / `onlyNumbers`: how many things have values there that are all strings / all numbers
//   (when that is every thing, the sorted pairs hold each thing's sort value: search-index.ts walks them).
// Array elements are indexed individually (any element matches, §2.7).

type Ids = number | Set<number>;

const BLOCK = 256; // entries per block after a bulk load; a block splits when it reaches 2 * BLOCK

interface Block<V> {
  values: V[];
  ids: number[];
}

/**
 * (value, id) pairs sorted by value then id, kept in blocks of a few hundred entries so that an insert or
 * a remove moves at most one block's elements (telemetry updates change one value at a time).
 * Positions are global indexes into the sorted sequence.
 */
export class SortedPairs<V extends number | string> {
  private blocks: Block<V>[] = [];
  size = 0;
  constructor(private readonly cmp: (a: V, b: V) => number) {}

  /** Block holding the insertion point of (value, id): the first block whose last pair is >= it. */
  private blockFor(value: V, id: number): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.blocks[mid];
      const last = b.values.length - 1;
      const c = this.cmp(b.values[last], value) || b.ids[last] - id;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private offsetIn(block: Block<V>, value: V, id: number): number {
    let lo = 0;
    let hi = block.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.cmp(block.values[mid], value) || block.ids[mid] - id;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(value: V, id: number): void {
    if (this.blocks.length === 0) this.blocks.push({ values: [], ids: [] });
    const b = this.blockFor(value, id);
    const block = this.blocks[b];
    const at = this.offsetIn(block, value, id);
    block.values.splice(at, 0, value);
    block.ids.splice(at, 0, id);
    this.size++;
    if (block.values.length >= 2 * BLOCK) {
      this.blocks.splice(b + 1, 0, { values: block.values.splice(BLOCK), ids: block.ids.splice(BLOCK) });
    }
  }

  remove(value: V, id: number): void {
    if (this.blocks.length === 0) return;
    const b = this.blockFor(value, id);
    const block = this.blocks[b];
    const at = this.offsetIn(block, value, id);
    if (block.ids[at] !== id || block.values[at] !== value) return;
    block.values.splice(at, 1);
    block.ids.splice(at, 1);
    this.size--;
    if (block.values.length === 0) this.blocks.splice(b, 1);
  }

  /** Replaces the content in one go (initial build): sorts the pairs once. */
  load(pairs: Array<[V, number]>): void {
    pairs.sort((a, b) => this.cmp(a[0], b[0]) || a[1] - b[1]);
    this.blocks = [];
    for (let i = 0; i < pairs.length; i += BLOCK) {
      const chunk = pairs.slice(i, i + BLOCK);
      this.blocks.push({ values: chunk.map((p) => p[0]), ids: chunk.map((p) => p[1]) });
    }
    this.size = pairs.length;
  }

  /** Global position of the first pair whose value is >= value (inclusive) or > value (exclusive). */
  bound(value: V, exclusive: boolean): number {
    const after = (v: V) => {
      const c = this.cmp(v, value);
      return c > 0 || (!exclusive && c === 0);
    };
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = this.blocks[mid];
      if (after(b.values[b.values.length - 1])) hi = mid;
      else lo = mid + 1;
    }
    let position = 0;
    for (let i = 0; i < lo; i++) position += this.blocks[i].values.length;
    if (lo === this.blocks.length) return position;
    const values = this.blocks[lo].values;
    let l = 0;
    let h = values.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if (after(values[mid])) h = mid;
      else l = mid + 1;
    }
    return position + l;
  }

  /** Visits pairs from global position `start` forwards (step 1) or backwards (-1) while `visit` returns true. */
  scan(start: number, step: 1 | -1, visit: (value: V, id: number) => boolean): void {
    if (start < 0 || start >= this.size) return;
    let b = 0;
    let offset = start;
    while (offset >= this.blocks[b].values.length) offset -= this.blocks[b++].values.length;
    for (; b >= 0 && b < this.blocks.length; b += step) {
      const { values, ids } = this.blocks[b];
      if (step === 1) {
        for (let i = offset; i < values.length; i++) if (!visit(values[i], ids[i])) return;
        offset = 0;
      } else {
        for (let i = offset; i >= 0; i--) if (!visit(values[i], ids[i])) return;
        if (b > 0) offset = this.blocks[b - 1].values.length - 1;
      }
    }
  }
}

export class PathIndex {
  readonly equal = new Map<Primitive, Ids>();
  readonly numbers = new SortedPairs<number>((a, b) => a - b);
  readonly strings = new SortedPairs<string>(compareStrings);
  readonly present = new Set<number>();
  onlyStrings = 0;
  onlyNumbers = 0;

  constructor(readonly segments: readonly string[]) {}

  /**
   * The distinct primitive values of the thing at this path, whether the path exists at all, and the type
   * when every value there (array elements included) is a string or every one a number.
   */
  private valuesOf(thing: ThingJson): {
    exists: boolean;
    values: Set<Primitive>;
    only?: 'string' | 'number';
  } {
    const raw = resolvePath(thing, this.segments);
    const values = new Set<Primitive>();
    const flat = flattenValues(raw);
    let only: 'string' | 'number' | undefined =
      typeof flat[0] === 'string' || typeof flat[0] === 'number'
        ? (typeof flat[0] as 'string' | 'number')
        : undefined;
    for (const v of flat) {
      if (isPrimitive(v)) values.add(v);
      if (only !== undefined && typeof v !== only) only = undefined;
    }
    return { exists: raw.length > 0, values, only };
  }

  private count(only: 'string' | 'number' | undefined, delta: 1 | -1): void {
    if (only === 'string') this.onlyStrings += delta;
    else if (only === 'number') this.onlyNumbers += delta;
  }

  private addId(value: Primitive, id: number): void {
    const ids = this.equal.get(value);
    if (ids === undefined) this.equal.set(value, id);
    else if (typeof ids === 'number') this.equal.set(value, new Set([ids, id]));
    else ids.add(id);
  }

  private removeId(value: Primitive, id: number): void {
    const ids = this.equal.get(value);
    if (ids === undefined) return;
    if (typeof ids === 'number') {
      if (ids === id) this.equal.delete(value);
      return;
    }
    ids.delete(id);
    if (ids.size === 1) this.equal.set(value, ids.values().next().value as number);
  }

  /** Bulk build over existing documents (sorts once instead of inserting one by one). */
  build(docs: Iterable<[number, ThingJson]>): void {
    const nums: Array<[number, number]> = [];
    const strs: Array<[string, number]> = [];
    for (const [id, thing] of docs) {
      const { exists, values, only } = this.valuesOf(thing);
      if (exists) this.present.add(id);
      this.count(only, 1);
      for (const v of values) {
        this.addId(v, id);
        if (typeof v === 'number') nums.push([v, id]);
        else if (typeof v === 'string') strs.push([v, id]);
      }
    }
    this.numbers.load(nums);
    this.strings.load(strs);
  }

  add(id: number, thing: ThingJson): void {
    const { exists, values, only } = this.valuesOf(thing);
    if (exists) this.present.add(id);
    this.count(only, 1);
    for (const v of values) {
      this.addId(v, id);
      if (typeof v === 'number') this.numbers.insert(v, id);
      else if (typeof v === 'string') this.strings.insert(v, id);
    }
  }

  remove(id: number, thing: ThingJson): void {
    const { values, only } = this.valuesOf(thing);
    this.present.delete(id);
    this.count(only, -1);
    for (const v of values) {
      this.removeId(v, id);
      if (typeof v === 'number') this.numbers.remove(v, id);
      else if (typeof v === 'string') this.strings.remove(v, id);
    }
  }

  /** Replaces the old version of a thing by the new one, touching only values that changed. */
  update(id: number, old: ThingJson, next: ThingJson): void {
    // Things are copied on write: a subtree the change did not touch is the same object in both versions.
    if (unchangedAt(old, next, this.segments)) return;
    const before = this.valuesOf(old);
    const after = this.valuesOf(next);
    if (after.exists) this.present.add(id);
    else this.present.delete(id);
    this.count(before.only, -1);
    this.count(after.only, 1);
    for (const v of before.values) {
      if (after.values.has(v)) continue;
      this.removeId(v, id);
      if (typeof v === 'number') this.numbers.remove(v, id);
      else if (typeof v === 'string') this.strings.remove(v, id);
    }
    for (const v of after.values) {
      if (before.values.has(v)) continue;
      this.addId(v, id);
      if (typeof v === 'number') this.numbers.insert(v, id);
      else if (typeof v === 'string') this.strings.insert(v, id);
    }
  }

  /** Ids of things with a value equal to `value` (search semantics). */
  lookup(value: Primitive, into: Set<number>): void {
    const ids = this.equal.get(value);
    if (ids === undefined) return;
    if (typeof ids === 'number') into.add(ids);
    else for (const id of ids) into.add(id);
  }

  /** Number of things with a value equal to `value` (a cheap estimate for query planning). */
  countEqual(value: Primitive): number {
    const ids = this.equal.get(value);
    return ids === undefined ? 0 : typeof ids === 'number' ? 1 : ids.size;
  }

  /** The things with a value in the range of `op` relative to `value` (same type only): count and collector. */
  range(
    op: 'gt' | 'ge' | 'lt' | 'le',
    value: number | string,
  ): { count: number; collect: (into: Set<number>) => void } {
    const pairs = (typeof value === 'number' ? this.numbers : this.strings) as SortedPairs<number | string>;
    let from = 0;
    let to = pairs.size;
    if (op === 'gt' || op === 'ge') from = pairs.bound(value, op === 'gt');
    else to = pairs.bound(value, op === 'le');
    let remaining = to - from;
    return {
      count: remaining,
      collect: (into) => {
        if (remaining > 0) {
          pairs.scan(from, 1, (_v, id) => {
            into.add(id);
            return --remaining > 0;
          });
        }
      },
    };
  }

  /**
   * Ids whose string values match; uses the sorted strings when the pattern has a literal prefix. `tick`
   * is called once per value looked at (the query's deadline check).
   */
  matching(
    matches: (value: string) => boolean,
    literalPrefix: string,
    into: Set<number>,
    tick: () => void,
  ): void {
    if (literalPrefix !== '') {
      this.strings.scan(this.strings.bound(literalPrefix, false), 1, (v, id) => {
        if (!v.startsWith(literalPrefix)) return false;
        tick();
        if (matches(v)) into.add(id);
        return true;
      });
      return;
    }
    for (const [value, ids] of this.equal) {
      if (typeof value !== 'string') continue;
      tick();
      if (!matches(value)) continue;
      if (typeof ids === 'number') into.add(ids);
      else for (const id of ids) into.add(id);
    }
  }
}

/**
 * Whether the values at `segments` are certainly the same in both versions of a thing: the walk meets the
 * same object (an untouched subtree) or equal primitives. Arrays end the walk (a path applies to their
 * elements); the caller then compares the values.
 */
function unchangedAt(a: unknown, b: unknown, segments: readonly string[]): boolean {
  let x = a;
  let y = b;
  for (const segment of segments) {
    if (x === y) return true;
    if (!isObjectNode(x) || !isObjectNode(y)) return false;
    x = Object.prototype.hasOwnProperty.call(x, segment) ? x[segment] : undefined;
    y = Object.prototype.hasOwnProperty.call(y, segment) ? y[segment] : undefined;
  }
  return x === y;
}

function isObjectNode(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
