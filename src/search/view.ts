/**
 * The caller's view of an indexed thing, which is all that filters, sort keys and cursors ever see
 * (ditto-interfaces.md §2.7: for a caller, a field they may not READ does not exist — also for `not()`,
 * `exists()`, `ne` and the sort order). Evaluating on the full state and checking the view afterwards would
 * let negation invert the check and let the order and the cursor carry hidden values.
 *
 * A filter or sort reads only some paths, so the view it is evaluated on holds only those: the subtree of
 * the caller's pruned thing at each path (the enforcer prunes a subtree exactly as it prunes that part of
 * the whole thing), plus the fields every reader of a thing sees.
 */
import type { RqlNode } from './rql/ast.js';
import type { SortField } from './rql/options.js';
import { propertySegments } from './rql/properties.js';
import type { ThingJson } from './values.js';

/**
 * The caller's view of a thing, or undefined when the caller may read nothing of it. The view may hold
 * more than the caller may read where the query does not look: it equals the caller's pruned thing at
 * every path the query's filter and sort read (the thing as indexed itself when it is readable there).
 */
export type ThingView = (thing: ThingJson) => ThingJson | undefined;

/** Fields that whoever may read some of a thing sees: its identity and the index's revision data. */
const ALWAYS_VISIBLE = ['thingId', '_namespace', '_revision', '_created', '_modified'] as const;
const ALWAYS_VISIBLE_SET: ReadonlySet<string> = new Set(ALWAYS_VISIBLE);

export function isAlwaysVisible(property: string): boolean {
  return ALWAYS_VISIBLE_SET.has(property.startsWith('/') ? property.slice(1) : property);
}

/** Every property an RQL filter reads. */
export function propertiesOf(node: RqlNode, out: Set<string> = new Set()): Set<string> {
  switch (node.op) {
    case 'and':
    case 'or':
      for (const child of node.children) propertiesOf(child, out);
      return out;
    case 'not':
      return propertiesOf(node.child, out);
    default:
      out.add(node.property);
      return out;
  }
}

/** Whether the filter reads only fields every reader sees (then its result is the same on any view). */
export function readsOnlyAlwaysVisible(node: RqlNode): boolean {
  for (const property of propertiesOf(node)) if (!isAlwaysVisible(property)) return false;
  return true;
}

/** The decisions of a policy that a caller's view needs (an enforcer: src/policies/enforcer.ts). */
export interface ViewEnforcer {
  hasUnrestricted(resource: string, subjects: readonly string[], permissions: readonly 'READ'[]): boolean;
  hasPartial(resource: string, subjects: readonly string[], permissions: readonly 'READ'[]): boolean;
  filterReadable(type: 'thing', path: string, value: unknown, subjects: readonly string[]): unknown;
}

const READ = ['READ'] as const;

/**
 * The caller's view for one query, for things of any policy: `enforcerOf(policyId)` is the policy's
 * enforcer (undefined: no such policy, nothing readable). Per distinct enforcer (things with policies of
 * the same content share one) the caller's access is decided once: nothing, all of `thing:/` (the view is
 * the thing as indexed), or a partial viewer of the paths the filter and the sort read.
 */
export function callerView(
  filter: RqlNode | undefined,
  sort: readonly SortField[] | undefined,
  subjects: readonly string[],
  enforcerOf: (policyId: string | undefined) => ViewEnforcer | undefined,
): ThingView {
  const byPolicy = new Map<string | undefined, ViewEnforcer | undefined>();
  const byEnforcer = new Map<ViewEnforcer, ((thing: ThingJson) => ThingJson) | undefined>();
  const whole = (thing: ThingJson) => thing;
  return (thing) => {
    const policyId = thing.policyId as string | undefined;
    let enforcer = byPolicy.get(policyId);
    if (enforcer === undefined && !byPolicy.has(policyId))
      byPolicy.set(policyId, (enforcer = enforcerOf(policyId)));
    if (enforcer === undefined) return undefined;
    let view = byEnforcer.get(enforcer);
    if (view === undefined && !byEnforcer.has(enforcer)) {
      const e = enforcer;
      view = !e.hasPartial('thing:/', subjects, READ)
        ? undefined
        : e.hasUnrestricted('thing:/', subjects, READ)
          ? whole
          : partialViewer(
              filter,
              sort,
              (pointer, value) => e.filterReadable('thing', pointer, value, subjects),
              (pointer) => e.hasUnrestricted(`thing:${pointer}`, subjects, READ),
            );
      byEnforcer.set(enforcer, view);
    }
    return view?.(thing);
  };
}

/**
 * A builder of partial views for the properties of `filter` and `sort`. `prune(pointer, value)` is the
 * caller's READ pruning of `value` found at `pointer` of the thing (undefined: nothing readable).
 * A path is cut where the thing has an array or a `features/*` wildcard, so the pruned subtree is the one
 * the whole-thing pruning would give (array elements are judged at the array's node).
 *
 * With `unrestricted(pointer)` (whether the caller may READ everything at and below `pointer`), a thing
 * whose every cut is unrestricted is its own view at the paths the query reads, and is returned as it is:
 * the filter and the sort read only those paths, so they decide on it exactly as on the pruned view
 * (and its index entry, built on the same values, needs no second look).
 */
export function partialViewer(
  filter: RqlNode | undefined,
  sort: readonly SortField[] | undefined,
  prune: (pointer: string, value: unknown) => unknown,
  unrestricted?: (pointer: string) => boolean,
): (thing: ThingJson) => ThingJson {
  const properties = filter ? propertiesOf(filter) : new Set<string>();
  for (const field of sort ?? []) properties.add(field.property);
  const paths = [...properties].filter((p) => !isAlwaysVisible(p)).map(propertySegments);
  // Per path, per cut length: whether the caller may read all of the subtree there (decided on first use).
  const open = paths.map(() => [] as Array<boolean | undefined>);
  const isOpen = (p: number, length: number): boolean =>
    (open[p][length] ??= unrestricted!(`/${paths[p].slice(0, length).join('/')}`));
  return (thing) => {
    if (
      unrestricted &&
      paths.every((segments, p) => {
        const cut = cutOf(thing, segments);
        return cut === undefined || isOpen(p, cut.length);
      })
    ) {
      return thing;
    }
    const view: ThingJson = {};
    for (const key of ALWAYS_VISIBLE) if (thing[key] !== undefined) view[key] = thing[key];
    const cuts: Array<{ segments: readonly string[]; length: number; value: unknown }> = [];
    for (const segments of paths) {
      const cut = cutOf(thing, segments);
      if (cut) cuts.push({ segments, ...cut });
    }
    cuts.sort((a, b) => a.length - b.length);
    const taken: Array<readonly string[]> = [];
    for (const { segments, length, value } of cuts) {
      const prefix = segments.slice(0, length);
      if (taken.some((t) => t.length <= length && t.every((s, i) => s === prefix[i]))) continue; // inside a subtree already taken
      taken.push(prefix);
      const pruned = prune(`/${prefix.join('/')}`, value);
      if (pruned !== undefined) setAt(view, prefix, pruned);
    }
    return view;
  };
}

/** Where the walk along `segments` stops (an array, a wildcard, a scalar or the end) and the value there. */
function cutOf(
  thing: ThingJson,
  segments: readonly string[],
): { length: number; value: unknown } | undefined {
  let node: Record<string, unknown> = thing;
  for (let i = 0; i < segments.length; i++) {
    if (i === 1 && segments[0] === 'features' && segments[1] === '*') return { length: 1, value: node };
    const key = segments[i];
    if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    const value = node[key];
    if (i === segments.length - 1 || value === null || typeof value !== 'object' || Array.isArray(value))
      return { length: i + 1, value };
    node = value as Record<string, unknown>;
  }
  return undefined;
}

function setAt(target: ThingJson, segments: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    if (!Object.prototype.hasOwnProperty.call(node, key))
      Object.defineProperty(node, key, { value: {}, enumerable: true, writable: true, configurable: true });
    node = node[key] as Record<string, unknown>;
  }
  Object.defineProperty(node, segments[segments.length - 1], {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
