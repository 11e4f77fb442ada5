import { compileGlob } from '../util/glob.js';
import { isPlaceholder, type Literal, type RqlNode } from './rql/ast.js';
import { propertySegments, type FilterMode } from './rql/properties.js';
import { parseTimePlaceholder, resolveTime } from './rql/time.js';
import {
  compareEvent,
  compareSearch,
  flattenValues,
  isEmptyValue,
  resolvePath,
  type Primitive,
  type ThingJson,
} from './values.js';

// In-memory evaluation of an RQL AST against a Thing JSON (ditto-interfaces.md §3.2).
// Mode `search` follows the search index (same-type comparisons; `ne` requires the field to exist);
// mode `event` follows Ditto's in-memory predicate for change-notification filters and conditions
// (`ne` on a missing field is true; numbers and numeric strings compare numerically; other mixed
// types compare by their string representation).

export interface EvaluateOptions {
  mode: FilterMode;
  /** The clock for `time:` placeholders; defaults to the current time. */
  now?: Date;
  /** Event mode: values of placeholder properties such as `topic:action` or `resource:path`. */
  placeholders?: Record<string, string | undefined>;
}

export type ThingPredicate = (thing: ThingJson) => boolean;

/** Resolves a literal to a plain value (`time:` placeholders against `now`). */
export function resolveLiteral(value: Literal, now: Date): Primitive {
  if (!isPlaceholder(value)) return value;
  const spec = parseTimePlaceholder(value.placeholder);
  if (!spec) throw new Error(`unsupported placeholder ${value.placeholder}`); // the parser rejects these
  return resolveTime(spec, now);
}

const PLACEHOLDER_PROPERTY = /^(topic|resource|entity|time):/;

function valueGetter(property: string, options: EvaluateOptions, now: Date): (thing: ThingJson) => unknown[] {
  const segments = propertySegments(property);
  if (options.mode === 'event' && PLACEHOLDER_PROPERTY.test(property)) {
    return (thing) => {
      const fromThing = resolvePath(thing, segments);
      if (fromThing.length > 0) return fromThing;
      if (property.startsWith('time:')) {
        const spec = parseTimePlaceholder(property);
        return spec ? [resolveTime(spec, now)] : [];
      }
      const resolved = options.placeholders?.[property];
      return resolved === undefined ? [] : [resolved];
    };
  }
  return (thing) => resolvePath(thing, segments);
}

/** Compiles the AST once into a predicate (the clock is read once, at compile time). */
export function compileFilter(node: RqlNode, options: EvaluateOptions): ThingPredicate {
  const now = options.now ?? new Date();
  const compare = options.mode === 'search' ? compareSearch : compareEvent;
  const build = (n: RqlNode): ThingPredicate => {
    switch (n.op) {
      case 'and': {
        const children = n.children.map(build);
        return (t) => children.every((c) => c(t));
      }
      case 'or': {
        const children = n.children.map(build);
        return (t) => children.some((c) => c(t));
      }
      case 'not': {
        const child = build(n.child);
        return (t) => !child(t);
      }
      case 'exists': {
        const get = valueGetter(n.property, options, now);
        return (t) => get(t).length > 0;
      }
      case 'empty': {
        // §3.2: absent, null, [], {}, "" are empty.
        const get = valueGetter(n.property, options, now);
        return (t) => {
          const values = get(t);
          return values.length === 0 || values.some(isEmptyValue);
        };
      }
      case 'in': {
        const get = valueGetter(n.property, options, now);
        const expected = n.values.map((v) => resolveLiteral(v, now));
        return (t) => flattenValues(get(t)).some((a) => expected.some((e) => compare(a, e) === 0));
      }
      case 'like':
      case 'ilike': {
        const get = valueGetter(n.property, options, now);
        const pattern = resolveLiteral(n.value, now);
        if (typeof pattern !== 'string') return () => false;
        const matches = compileGlob(pattern, { caseInsensitive: n.op === 'ilike' });
        return (t) => flattenValues(get(t)).some((a) => typeof a === 'string' && matches(a));
      }
      case 'eq':
      case 'ne': {
        const get = valueGetter(n.property, options, now);
        const expected = resolveLiteral(n.value, now);
        const anyEqual = (values: unknown[]) => flattenValues(values).some((a) => compare(a, expected) === 0);
        if (n.op === 'eq') return (t) => anyEqual(get(t));
        // ditto: §3.2/§14.9 — search: the field must exist and no element equals; event: missing ⇒ true.
        if (options.mode === 'search') {
          return (t) => {
            const values = get(t);
            return values.length > 0 && !anyEqual(values);
          };
        }
        return (t) => !anyEqual(get(t));
      }
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le': {
        const get = valueGetter(n.property, options, now);
        const expected = resolveLiteral(n.value, now);
        if (expected === null) return () => false; // null has no order
        const accept = {
          gt: (c: number) => c > 0,
          ge: (c: number) => c >= 0,
          lt: (c: number) => c < 0,
          le: (c: number) => c <= 0,
        }[n.op];
        return (t) =>
          flattenValues(get(t)).some((a) => {
            const c = compare(a, expected);
            return c !== undefined && accept(c);
          });
      }
    }
  };
  return build(node);
}

/** Evaluates the filter against one thing (compiles each time; use compileFilter for many things). */
export function evaluate(node: RqlNode, thing: ThingJson, options: EvaluateOptions): boolean {
  return compileFilter(node, options)(thing);
}
