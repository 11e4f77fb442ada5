import { CursorCodec, queryHash } from './cursor.js';
import { Deadline } from './deadline.js';
import { compileFilter, resolveLiteral, type ThingPredicate } from './evaluate.js';
import { compileGlob, literalPrefix } from '../util/glob.js';
import type { RqlNode } from './rql/ast.js';
import { DEFAULT_PAGE_SIZE, type SortField } from './rql/options.js';
import { propertySegments } from './rql/properties.js';
import { compileSort, type CompiledSort, type SortValue } from './sort.js';
import { PathIndex, type SortedPairs } from './path-index.js';
import { namespaceOf, type ThingJson } from './values.js';
import { isAlwaysVisible, readsOnlyAlwaysVisible, type ThingView } from './view.js';

// The in-memory search index (ditto-interfaces.md §2.7, §3). Keeps things and answers RQL queries with
// search semantics. Per-path indexes (path-index.ts) are built the first time a query needs a path and
// maintained on every write afterwards; a query narrows its candidates with them and scans only where
// no index helps (`empty`, `not` of an inexact plan, or no filter at all). Results are exactly those of `compileFilter`
// in mode `search`; the corpus test checks both against the same expectations.
//
// With a caller's view (policy enforcement, view.ts) the path indexes, built on the full state, only
// narrow the candidates: for every positive condition the view's values are a subset of the full state's,
// so a candidate set computed on the full state is a superset of the view's matches, as long as negated
// conditions (`not`, `ne`) on fields the caller might not see do not narrow. Every candidate is then
// decided by the filter on its view, and sorted by the view's key; the answer depends on the view alone.

export interface QueryInput {
  filter?: RqlNode;
  namespaces?: readonly string[];
  sort?: readonly SortField[];
  /** Page size (default 25); with `offset` the count of the deprecated `limit(offset,count)`. */
  size?: number;
  cursor?: string;
  /** Deprecated offset paging (`limit`); answers `nextPageOffset` instead of a cursor. */
  offset?: number;
  /**
   * Policy enforcement: only things of which this returns a view are counted and paged, and the filter and
   * the sort are evaluated on that view (not on the thing as indexed).
   */
  view?: ThingView;
  /** Binds cursors to a caller (their subjects): a cursor issued in another scope is rejected. */
  scope?: string;
  /** Throws `thing-search:query.time.exceeded` when the query runs longer. */
  timeoutMs?: number;
  /** Clock for `time:` placeholders (tests). */
  now?: Date;
}

export interface QueryResult {
  items: ThingJson[];
  /** Absent on the last page. */
  cursor?: string;
  /** Only with `offset`: the offset of the next page or -1. */
  nextPageOffset?: number;
}

/**
 * A query plan node: candidate ids that are a superset of the matches, produced lazily so that `and` can
 * skip materialising a large range when a small sibling already narrows the result (the rest is then
 * verified with the evaluator).
 */
interface Plan {
  /** Candidate count, or an upper bound of it (cheap to know before materialising). */
  estimate: number;
  /** Candidate ids; undefined = every document (no index helps). */
  ids?: () => Set<number>;
  /** True when the candidates are exactly the matches (no verification needed). */
  exact: boolean;
}

/** Materialise a sibling of `and` only when it is at most this many times larger than the smallest one. */
const AND_MATERIALISE_RATIO = 8;
/** Walk the order of the first sort field (instead of selecting among candidates) when at least 1/8 of all things are candidates. */
const WALK_FRACTION = 8;

function intersect(sets: Set<number>[]): Set<number> {
  sets.sort((a, b) => a.size - b.size);
  const [smallest, ...rest] = sets;
  const out = new Set<number>();
  for (const id of smallest) if (rest.every((s) => s.has(id))) out.add(id);
  return out;
}

/**
 * `items` from the smallest key up, ordered lazily: a binary heap is built in O(n) and each item taken
 * costs O(log n), so taking the first few of many is linear. Reorders `items`.
 */
function* inKeyOrder(items: Ranked[], compare: CompiledSort['compare']): Generator<Ranked> {
  const less = (i: number, j: number) => compare(items[i].key, items[j].key) < 0;
  const down = (start: number, size: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const m = l + 1 < size && less(l + 1, l) ? l + 1 : l;
      if (!less(m, i)) return;
      [items[i], items[m]] = [items[m], items[i]];
      i = m;
    }
  };
  for (let i = (items.length >>> 1) - 1; i >= 0; i--) down(i, items.length);
  for (let size = items.length; size > 0; size--) {
    yield items[0];
    items[0] = items[size - 1];
    down(0, size - 1);
  }
}

function fixed(ids: Set<number>, exact = true): Plan {
  return { estimate: ids.size, ids: () => ids, exact };
}

/** A matching thing with its sort key. */
interface Ranked {
  key: SortValue[];
  thing: ThingJson;
}

/** A query ready to run: its candidates and the check each candidate must pass. */
interface Prepared {
  ids?: Set<number>;
  /** True when every candidate is accepted (exact plan, no view, no timeout): counting needs no visit. */
  trivial: boolean;
  /** The view of an accepted candidate (the thing itself without a caller's view), else undefined. */
  accept: (thing: ThingJson) => ThingJson | undefined;
  /** Whether sort keys may be computed on the thing as indexed (no view, or only always-visible sort fields). */
  keysOnIndexed: boolean;
  deadline: Deadline;
}

/** Planning with a caller's view: negated conditions on fields the caller may not see do not narrow. */
interface PlanContext {
  now: Date;
  viewed: boolean;
  deadline: Deadline;
}

export class SearchIndex {
  private readonly docs: Array<ThingJson | undefined> = [];
  private readonly freeIds: number[] = [];
  private readonly idsByThingId = new Map<string, number>();
  private readonly byNamespace = new Map<string, Set<number>>();
  /** Path indexes in least-recently-used order (Map insertion order); `thingId` is always kept. */
  private readonly paths = new Map<string, PathIndex>();
  private readonly maxPathIndexes: number;

  private readonly cursors: CursorCodec;

  /**
   * @param options.maxPathIndexes how many per-path indexes to keep (default 64); the least recently used
   *   one is dropped when a query needs another path, so arbitrary filters cannot grow memory unbounded.
   * @param options.cursors seals the cursors (default: a key of this process only).
   */
  constructor(options: { maxPathIndexes?: number; cursors?: CursorCodec } = {}) {
    this.maxPathIndexes = Math.max(1, options.maxPathIndexes ?? 64);
    this.cursors = options.cursors ?? CursorCodec.ephemeral();
    this.paths.set('thingId', new PathIndex(['thingId']));
  }

  get size(): number {
    return this.idsByThingId.size;
  }

  /**
   * Inserts or replaces the thing with this `thingId` (the latest write wins; callers order by revision).
   * The index keeps the object: pass a new object for every change and do not mutate it afterwards.
   */
  upsert(thing: ThingJson): void {
    const thingId = thing.thingId;
    if (typeof thingId !== 'string') throw new TypeError('a thing needs a string thingId to be indexed');
    const existing = this.idsByThingId.get(thingId);
    if (existing !== undefined) {
      const old = this.docs[existing] as ThingJson;
      this.docs[existing] = thing;
      for (const index of this.paths.values()) index.update(existing, old, thing);
      return;
    }
    const id = this.freeIds.pop() ?? this.docs.length;
    this.docs[id] = thing;
    this.idsByThingId.set(thingId, id);
    const ns = namespaceOf(thingId) ?? '';
    let nsIds = this.byNamespace.get(ns);
    if (!nsIds) this.byNamespace.set(ns, (nsIds = new Set()));
    nsIds.add(id);
    for (const index of this.paths.values()) index.add(id, thing);
  }

  remove(thingId: string): boolean {
    const id = this.idsByThingId.get(thingId);
    if (id === undefined) return false;
    const thing = this.docs[id] as ThingJson;
    for (const index of this.paths.values()) index.remove(id, thing);
    this.byNamespace.get(namespaceOf(thingId) ?? '')?.delete(id);
    this.idsByThingId.delete(thingId);
    this.docs[id] = undefined;
    this.freeIds.push(id);
    return true;
  }

  get(thingId: string): ThingJson | undefined {
    const id = this.idsByThingId.get(thingId);
    return id === undefined ? undefined : this.docs[id];
  }

  /** Names of the paths that currently have an index (for diagnostics and tests). */
  indexedPaths(): string[] {
    return [...this.paths.keys()];
  }

  private *entries(): Generator<[number, ThingJson]> {
    for (let id = 0; id < this.docs.length; id++) {
      const thing = this.docs[id];
      if (thing !== undefined) yield [id, thing];
    }
  }

  private pathIndex(property: string): PathIndex {
    const segments = propertySegments(property);
    const key = segments.join('/');
    let index = this.paths.get(key);
    if (index) {
      if (key !== 'thingId') {
        this.paths.delete(key); // mark as most recently used
        this.paths.set(key, index);
      }
      return index;
    }
    index = new PathIndex(segments);
    index.build(this.entries());
    this.paths.set(key, index);
    for (const candidate of this.paths.keys()) {
      if (this.paths.size <= this.maxPathIndexes + 1) break; // + 1: thingId does not count
      if (candidate !== 'thingId' && candidate !== key) this.paths.delete(candidate);
    }
    return index;
  }

  private plan(node: RqlNode, ctx: PlanContext): Plan {
    const { now } = ctx;
    switch (node.op) {
      case 'eq':
      case 'in': {
        const index = this.pathIndex(node.property);
        const values = (node.op === 'in' ? node.values : [node.value]).map((v) => resolveLiteral(v, now));
        return {
          estimate: values.reduce<number>((sum, v) => sum + index.countEqual(v), 0),
          ids: () => {
            const ids = new Set<number>();
            for (const v of values) index.lookup(v, ids);
            return ids;
          },
          exact: true,
        };
      }
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le': {
        const value = resolveLiteral(node.value, now);
        if (typeof value === 'number' || typeof value === 'string') {
          const range = this.pathIndex(node.property).range(node.op, value);
          return {
            estimate: range.count,
            ids: () => {
              const ids = new Set<number>();
              range.collect(ids);
              return ids;
            },
            exact: true,
          };
        }
        if (typeof value === 'boolean') {
          const index = this.pathIndex(node.property);
          const ids = new Set<number>();
          index.lookup(true, ids);
          index.lookup(false, ids);
          return fixed(ids, false);
        }
        return fixed(new Set()); // null has no order: nothing matches
      }
      case 'like':
      case 'ilike': {
        const ids = new Set<number>();
        const glob = resolveLiteral(node.value, now);
        if (typeof glob !== 'string') return fixed(ids); // like only matches strings
        const matches = compileGlob(glob, { caseInsensitive: node.op === 'ilike' });
        this.pathIndex(node.property).matching(
          matches,
          node.op === 'like' ? literalPrefix(glob) : '',
          ids,
          () => ctx.deadline.check(),
        );
        return fixed(ids);
      }
      case 'exists':
        return fixed(this.pathIndex(node.property).present);
      case 'and': {
        const plans = node.children.map((c) => this.plan(c, ctx));
        const indexed = plans.filter((p) => p.ids !== undefined).sort((a, b) => a.estimate - b.estimate);
        if (indexed.length === 0) return { estimate: this.size, exact: false };
        const smallest = indexed[0].estimate;
        const used = indexed.filter((p, i) => i === 0 || p.estimate <= AND_MATERIALISE_RATIO * smallest);
        return {
          estimate: smallest,
          ids: () =>
            used.length === 1
              ? (used[0].ids as () => Set<number>)()
              : intersect(used.map((p) => (p.ids as () => Set<number>)())),
          exact: used.length === plans.length && plans.every((p) => p.exact),
        };
      }
      case 'or': {
        const plans = node.children.map((c) => this.plan(c, ctx));
        if (plans.some((p) => p.ids === undefined)) return { estimate: this.size, exact: false };
        return {
          estimate: plans.reduce((sum, p) => sum + p.estimate, 0),
          ids: () => {
            const ids = new Set<number>();
            for (const p of plans) for (const id of (p.ids as () => Set<number>)()) ids.add(id);
            return ids;
          },
          exact: plans.every((p) => p.exact),
        };
      }
      case 'ne': {
        // ditto: §3.2 — search `ne` = the field exists and no value equals: present minus the equal ones.
        const index = this.pathIndex(node.property);
        // A hidden equal value must not exclude the thing: only "present" narrows then.
        if (ctx.viewed && !isAlwaysVisible(node.property)) return fixed(index.present, false);
        const value = resolveLiteral(node.value, now);
        return {
          estimate: index.present.size - index.countEqual(value),
          ids: () => {
            const equal = new Set<number>();
            index.lookup(value, equal);
            const ids = new Set<number>();
            for (const id of index.present) if (!equal.has(id)) ids.add(id);
            return ids;
          },
          exact: true,
        };
      }
      case 'not': {
        if (ctx.viewed && !readsOnlyAlwaysVisible(node.child)) return { estimate: this.size, exact: false };
        const child = this.plan(node.child, ctx);
        if (!child.ids || !child.exact) return { estimate: this.size, exact: false };
        const childIds = child.ids;
        return {
          estimate: this.size - child.estimate,
          ids: () => {
            const excluded = childIds();
            const ids = new Set<number>();
            for (let id = 0; id < this.docs.length; id++)
              if (this.docs[id] !== undefined && !excluded.has(id)) ids.add(id);
            return ids;
          },
          exact: true,
        };
      }
      default:
        return { estimate: this.size, exact: false }; // empty: absent fields match, no index narrows
    }
  }

  /**
   * Candidates from the path indexes and namespaces, and the per-thing check: the caller's view, then the
   * evaluator on it (without a view only when the plan is inexact), with the deadline checked on the way.
   */
  private prepare(input: QueryInput, sort?: CompiledSort): Prepared {
    const now = input.now ?? new Date();
    const deadline = new Deadline(input.timeoutMs);
    const { view } = input;
    const plan: Plan = input.filter
      ? this.plan(input.filter, { now, viewed: view !== undefined, deadline })
      : { estimate: this.size, exact: true };
    let ids = plan.ids?.();
    if (input.namespaces) {
      const nsIds = new Set<number>();
      for (const ns of input.namespaces) for (const id of this.byNamespace.get(ns) ?? []) nsIds.add(id);
      ids = ids ? intersect([ids, nsIds]) : nsIds;
    }
    const predicate: ThingPredicate | undefined =
      input.filter && (view || !plan.exact)
        ? compileFilter(input.filter, { mode: 'search', now })
        : undefined;
    // A candidate of an exact plan that is its own view (readable wherever the filter looks) matches.
    const exact = plan.exact && (ids !== undefined || !input.filter);
    const accept = (thing: ThingJson): ThingJson | undefined => {
      deadline.check();
      const seen = view ? view(thing) : thing;
      return seen !== undefined && (!predicate || (exact && seen === thing) || predicate(seen))
        ? seen
        : undefined;
    };
    const keysOnIndexed = !view || (sort?.fields.every((f) => isAlwaysVisible(f.property)) ?? true);
    return {
      ids,
      accept,
      keysOnIndexed,
      deadline,
      trivial: !predicate && !view && input.timeoutMs === undefined,
    };
  }

  /** Number of readable things matching filter and namespaces (§2.7 `/search/things/count`). */
  count(input: Pick<QueryInput, 'filter' | 'namespaces' | 'view' | 'timeoutMs' | 'now'>): number {
    const prepared = this.prepare(input);
    if (prepared.trivial) return prepared.ids ? prepared.ids.size : this.size;
    let n = 0;
    const { ids, accept } = prepared;
    if (ids) {
      for (const id of ids) if (accept(this.docs[id] as ThingJson)) n++;
      return n;
    }
    for (let id = 0; id < this.docs.length; id++) {
      const thing = this.docs[id];
      if (thing !== undefined && accept(thing)) n++;
    }
    return n;
  }

  /**
   * One page of readable matching things in sort order (§2.7): `size + 1` of them (the extra one tells
   * whether another page exists), read off the sorted values of the first sort field where it can
   * (walkable), else selected among all candidates.
   */
  query(input: QueryInput): QueryResult {
    const sort = compileSort(input.sort);
    const hash = queryHash(input.filter, sort.fields, input.scope);
    const after =
      input.cursor !== undefined ? this.cursors.decode(input.cursor, hash, sort.fields.length) : undefined;
    const size = input.size ?? DEFAULT_PAGE_SIZE;
    const offset = input.offset ?? 0;
    const keep = offset + size + 1;
    const prepared = this.prepare(input, sort);
    const first = sort.fields[0];
    const pairs = this.walkable(prepared, first, after);
    const best = pairs
      ? this.walkSorted(prepared, pairs, first.direction, after, keep, sort)
      : this.selectBest(prepared, after, keep, sort);
    const page = best.slice(offset, offset + size);
    const more = best.length > offset + size;
    if (input.offset !== undefined) {
      return { items: page.map((e) => e.thing), nextPageOffset: more ? offset + size : -1 };
    }
    const result: QueryResult = { items: page.map((e) => e.thing) };
    if (more && page.length > 0) result.cursor = this.cursors.encode(hash, page[page.length - 1].key);
    return result;
  }

  /**
   * The best `keep` accepted candidates. With sort keys on the thing as indexed, the keys of all
   * candidates (after the cursor) are ordered first and candidates are accepted in key order until `keep`
   * are: the views and the filter are looked at only for those, however the candidates are ordered
   * (candidate ids follow creation, which `sort(-_modified)` visits worst first). With keys on the view,
   * each candidate's view is needed for its key: they are kept in a bounded sorted list.
   */
  private selectBest(
    prepared: Prepared,
    after: SortValue[] | undefined,
    keep: number,
    sort: CompiledSort,
    /** The candidates when not those of `prepared` (one group of a walk). */
    candidates?: readonly ThingJson[],
  ): Ranked[] {
    const visit = (consider: (thing: ThingJson) => void) => {
      if (candidates) {
        for (const thing of candidates) consider(thing);
      } else if (prepared.ids) {
        for (const id of prepared.ids) consider(this.docs[id] as ThingJson);
      } else {
        for (let id = 0; id < this.docs.length; id++) {
          const thing = this.docs[id];
          if (thing !== undefined) consider(thing);
        }
      }
    };
    if (prepared.keysOnIndexed) {
      const ranked: Ranked[] = [];
      visit((thing) => {
        prepared.deadline.check();
        const key = sort.key(thing);
        if (after === undefined || sort.compare(key, after) > 0) ranked.push({ key, thing });
      });
      const best: Ranked[] = [];
      for (const next of inKeyOrder(ranked, sort.compare)) {
        if (prepared.accept(next.thing)) best.push(next);
        if (best.length === keep) break;
      }
      return best;
    }
    const best: Ranked[] = [];
    visit((thing) => {
      const seen = prepared.accept(thing);
      if (!seen) return;
      const key = sort.key(seen);
      if (
        (after !== undefined && sort.compare(key, after) <= 0) ||
        (best.length === keep && sort.compare(key, best[keep - 1].key) >= 0)
      )
        return;
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sort.compare(best[mid].key, key) < 0) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, { key, thing });
      if (best.length > keep) best.pop();
    });
    return best;
  }

  /**
   * The sorted values of the first sort field when a page can be read off them: the field is one every
   * reader sees (its order is the views' order), every thing has values there of one type (strings, or
   * numbers), and the candidates are many (else selecting among them is cheaper than walking past the rest).
   */
  private walkable(
    prepared: Prepared,
    first: SortField,
    after: SortValue[] | undefined,
  ): SortedPairs<string | number> | undefined {
    if (!isAlwaysVisible(first.property) || (prepared.ids && prepared.ids.size * WALK_FRACTION < this.size))
      return undefined;
    const index = this.pathIndex(first.property);
    const pairs =
      index.onlyStrings === this.size
        ? index.strings
        : index.onlyNumbers === this.size
          ? index.numbers
          : undefined;
    if (
      pairs === undefined ||
      (after !== undefined && typeof after[0] !== (pairs === index.strings ? 'string' : 'number'))
    )
      return undefined;
    return pairs as SortedPairs<string | number>;
  }

  /**
   * Visits candidates in the order of the first sort field (its sorted pairs, ascending or descending from
   * the cursor) until `keep` are accepted. Things with equal first values are selected among by their
   * whole keys together (selectBest). A thing with several values there is visited at the one its key
   * takes (the least ascending, the greatest descending), passed over at the others.
   */
  private walkSorted(
    prepared: Prepared,
    pairs: SortedPairs<string | number>,
    direction: 'asc' | 'desc',
    after: SortValue[] | undefined,
    keep: number,
    sort: CompiledSort,
  ): Ranked[] {
    const out: Ranked[] = [];
    const oneValueEach = pairs.size === this.size;
    let group: ThingJson[] = [];
    let groupValue: string | number | undefined;
    /** Orders and accepts the things of one first value; true when the page is full. */
    const flush = (): boolean => {
      out.push(...this.selectBest(prepared, after, keep - out.length, sort, group));
      group = [];
      return out.length >= keep;
    };
    const visit = (value: string | number, id: number): boolean => {
      prepared.deadline.check();
      if (value !== groupValue) {
        if (group.length > 0 && flush()) return false;
        groupValue = value;
      }
      if (prepared.ids && !prepared.ids.has(id)) return true;
      const thing = this.docs[id] as ThingJson;
      if (oneValueEach || sort.key(thing)[0] === value) group.push(thing);
      return true;
    };
    const from = after?.[0] as string | number | undefined;
    if (direction === 'asc') pairs.scan(from === undefined ? 0 : pairs.bound(from, false), 1, visit);
    else pairs.scan((from === undefined ? pairs.size : pairs.bound(from, true)) - 1, -1, visit);
    if (group.length > 0) flush();
    return out.slice(0, keep);
  }
}
