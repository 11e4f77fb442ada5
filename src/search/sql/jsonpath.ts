// RQL properties → PostgreSQL SQL/JSON paths (lax mode) that address exactly the values the in-memory
// evaluator's resolvePath finds (src/search/values.ts, ditto-interfaces.md §2.7, §3.1):
//   - a key step on an array visits the array's OBJECT elements (one level; nested arrays are skipped):
//     lax mode's member accessor does exactly that;
//   - `features/*/…` visits every feature: the wildcard member accessor `.*`;
//   - a numeric segment ("0") is also an array index: a second path variant `[0]`, guarded so that it
//     applies to arrays only (lax mode would treat an object as a one-element array). Several numeric
//     segments give every combination (2^n variants; a property has few numeric segments).
// Keys and literals are rendered as jsonpath string literals with JSON escapes, so a property or a value
// can never change the structure of the path; the path text itself is passed to SQL as a bind parameter.
import type { Primitive } from '../values.js';

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const MAX_INDEX = 2 ** 31 - 1;
const MAX_VARIANTS = 16;

/** A string without lone surrogates (jsonb and jsonpath cannot hold them; they become U+FFFD). */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udfff]/gu, '\ufffd');
}

/** A jsonpath string literal (double quoted, JSON escapes). */
export function pathString(text: string): string {
  return JSON.stringify(wellFormed(text));
}

/** A jsonpath literal for an RQL value. */
export function pathLiteral(value: Primitive): string {
  if (typeof value === 'string') return pathString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a JSON number: ${value}`);
    return JSON.stringify(value);
  }
  return JSON.stringify(value); // true, false, null
}

/**
 * The lax paths (without the leading `lax`) whose union is the set of values at the property, e.g.
 * `$."attributes"."location"."floor"`.
 */
export function pathVariants(segments: readonly string[]): string[] {
  // Each variant as its steps; `simple` tells whether its last step is a plain member accessor.
  let variants: Array<{ steps: string[]; simple: boolean }> = [{ steps: ['$'], simple: false }];
  segments.forEach((segment, i) => {
    if (segment === '*' && i === 1 && segments[0] === 'features') {
      variants = variants.map((v) => ({ steps: [...v.steps, '.*'], simple: false }));
      return;
    }
    const key = `.${pathString(segment)}`;
    const indexable = ARRAY_INDEX.test(segment) && Number(segment) <= MAX_INDEX;
    variants = variants.flatMap((v) => {
      const byKey = { steps: [...v.steps, key], simple: true };
      if (!indexable || !v.simple || variants.length * 2 > MAX_VARIANTS) return [byKey];
      // The index variant filters the PARENT on "my child is an array" (a filter on the array itself would
      // unwrap it in lax mode), then steps into the child by index.
      const last = v.steps[v.steps.length - 1];
      const guarded = ` ? (@${last}.type() == "array")${last}[${segment}]`;
      return [byKey, { steps: [...v.steps.slice(0, -1), guarded], simple: false }];
    });
  });
  return variants.map((v) => v.steps.join(''));
}
