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

/** The caller's view of a thing, or undefined when the caller may read nothing of it. */
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

/**
 * A builder of partial views for the properties of `filter` and `sort`. `prune(pointer, value)` is the
 * caller's READ pruning of `value` found at `pointer` of the thing (undefined: nothing readable).
 * A path is cut where the thing has an array or a `features/*` wildcard, so the pruned subtree is the one
 * the whole-thing pruning would give (array elements are judged at the array's node).
 */
export function partialViewer(
  filter: RqlNode | undefined,
  sort: readonly SortField[] | undefined,
  prune: (pointer: string, value: unknown) => unknown,
): (thing: ThingJson) => ThingJson {
  const properties = filter ? propertiesOf(filter) : new Set<string>();
  for (const field of sort ?? []) properties.add(field.property);
  const paths = [...properties].filter((p) => !isAlwaysVisible(p)).map(propertySegments);
  return (thing) => {
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
function cutOf(thing: ThingJson, segments: readonly string[]): { length: number; value: unknown } | undefined {
  let node: Record<string, unknown> = thing;
  for (let i = 0; i < segments.length; i++) {
    if (i === 1 && segments[0] === 'features' && segments[1] === '*') return { length: 1, value: node };
    const key = segments[i];
    if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    const value = node[key];
    if (i === segments.length - 1 || value === null || typeof value !== 'object' || Array.isArray(value)) return { length: i + 1, value };
    node = value as Record<string, unknown>;
  }
  return undefined;
}

function setAt(target: ThingJson, segments: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    if (!Object.prototype.hasOwnProperty.call(node, key)) Object.defineProperty(node, key, { value: {}, enumerable: true, writable: true, configurable: true });
    node = node[key] as Record<string, unknown>;
  }
  Object.defineProperty(node, segments[segments.length - 1], { value, enumerable: true, writable: true, configurable: true });
}
