// Value access and comparison shared by the evaluator, the index and sorting (ditto-interfaces.md §3.2).

export type Primitive = string | number | boolean | null;
export type ThingJson = Record<string, unknown>;

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** The namespace of a thing ID: everything before the FIRST colon (§1.1). */
export function namespaceOf(thingId: unknown): string | undefined {
  if (typeof thingId !== 'string') return undefined;
  const colon = thingId.indexOf(':');
  return colon < 0 ? undefined : thingId.slice(0, colon);
}

function collect(node: unknown, segments: readonly string[], i: number, out: unknown[]): void {
  if (i === segments.length) {
    out.push(node);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const segment = segments[i];
  if (Array.isArray(node)) {
    // §2.7: a path through an array addresses the objects inside it (any element); a numeric segment
    // may also address an element by index.
    if (ARRAY_INDEX.test(segment) && Number(segment) < node.length)
      collect(node[Number(segment)], segments, i + 1, out);
    for (const element of node) {
      if (element !== null && typeof element === 'object' && !Array.isArray(element))
        collect(element, segments, i, out);
    }
    return;
  }
  if (segment === '*' && i === 1 && segments[0] === 'features') {
    // §3.1: `features/*/…` addresses any feature.
    for (const key of Object.keys(node))
      collect((node as Record<string, unknown>)[key], segments, i + 1, out);
    return;
  }
  if (Object.prototype.hasOwnProperty.call(node, segment))
    collect((node as Record<string, unknown>)[segment], segments, i + 1, out);
}

/**
 * All values found at the path (more than one through arrays or `features/*`); empty when absent.
 * `_namespace` is derived from `thingId` when the thing does not carry it.
 */
export function resolvePath(thing: ThingJson, segments: readonly string[]): unknown[] {
  if (segments.length === 1 && segments[0] === '_namespace' && thing._namespace === undefined) {
    const ns = namespaceOf(thing.thingId);
    return ns === undefined ? [] : [ns];
  }
  // Plain objects along the whole path (the common case): one value or none, found without recursion.
  let node: unknown = thing;
  for (let i = 0; i < segments.length; i++) {
    if (node === null || typeof node !== 'object') return [];
    if (Array.isArray(node) || (i === 1 && segments[1] === '*' && segments[0] === 'features')) {
      const out: unknown[] = [];
      collect(node, segments, i, out);
      return out;
    }
    if (!Object.prototype.hasOwnProperty.call(node, segments[i])) return [];
    node = (node as Record<string, unknown>)[segments[i]];
  }
  return [node];
}

/** The values a comparison looks at: arrays at the end of the path contribute each element (§2.7). */
export function flattenValues(values: readonly unknown[]): unknown[] {
  if (!values.some(Array.isArray)) return values as unknown[];
  const out: unknown[] = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out;
}

export function isPrimitive(value: unknown): value is Primitive {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

/** Compares strings by Unicode code point (not UTF-16 code unit). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (U+D800–DFFF, i.e. code points above U+FFFF) sort after U+E000–FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Search semantics (§3.2): only values of the same type compare (number/number, string/string by code
 * point, boolean/boolean, null/null); anything else is incomparable (undefined).
 */
export function compareSearch(actual: unknown, expected: Primitive): number | undefined {
  if (expected === null) return actual === null ? 0 : undefined;
  if (typeof actual !== typeof expected) return undefined;
  if (typeof expected === 'number') return (actual as number) - expected;
  if (typeof expected === 'string') return compareStrings(actual as string, expected);
  return Number(actual) - Number(expected);
}

const NUMERIC_STRING = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * In-memory (event filter) semantics (§3.2, Ditto's ThingPredicatePredicateVisitor): numbers compare
 * numerically, a number and a numeric string compare numerically, other mixed types compare by their
 * string representation; null only equals null; objects compare with nothing.
 */
export function compareEvent(actual: unknown, expected: Primitive): number | undefined {
  if (expected === null || actual === null) return expected === actual ? 0 : undefined;
  if (!isPrimitive(actual)) return undefined;
  if (typeof actual === typeof expected) return compareSearch(actual, expected);
  if (typeof actual === 'number' && typeof expected === 'string' && NUMERIC_STRING.test(expected))
    return actual - Number(expected);
  if (typeof actual === 'string' && typeof expected === 'number' && NUMERIC_STRING.test(actual))
    return Number(actual) - expected;
  return compareStrings(String(actual), String(expected));
}

/** `empty` (§3.2, 3.9+): null, [], {} and "" are empty; 0 and false are not. Absence is handled by the caller. */
export function isEmptyValue(value: unknown): boolean {
  if (value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value as object).length === 0;
  return false;
}
