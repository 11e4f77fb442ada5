import type { SortField } from './rql/options.js';
import { propertySegments } from './rql/properties.js';
import { compareStrings, flattenValues, resolvePath, type ThingJson } from './values.js';

// Sort keys (ditto-interfaces.md §2.7, §3.3). Default `+thingId`; `+thingId` is always appended as the
// tie-breaker, so keys are unique and cursors stable. Values of different types order like MongoDB's
// BSON order, which Ditto's search relies on: missing/null < numbers < strings < objects < booleans.
// A multi-valued (array) field sorts by its smallest element ascending and its largest descending.

/** One component of a sort key: a primitive, null for missing, or OBJECT for an object value. */
export type SortValue = string | number | boolean | null | { object: true };
export const OBJECT_VALUE: SortValue = Object.freeze({ object: true as const });

export interface CompiledSort {
  fields: SortField[];
  key(thing: ThingJson): SortValue[];
  compare(a: readonly SortValue[], b: readonly SortValue[]): number;
}

/** Type rank of a sort value: missing/null < numbers < strings < objects < booleans (MongoDB order, as Ditto's index). */
export function rank(v: SortValue): number {
  if (v === null) return 0;
  switch (typeof v) {
    case 'number':
      return 1;
    case 'string':
      return 2;
    case 'object':
      return 3;
    default:
      return 4; // boolean
  }
}

export function compareSortValues(a: SortValue, b: SortValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return (a as number) - (b as number);
  if (ra === 2) return compareStrings(a as string, b as string);
  if (ra === 4) return Number(a) - Number(b);
  return 0;
}

function toSortValue(v: unknown): SortValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return OBJECT_VALUE;
  return v as SortValue;
}

/** Adds the `+thingId` tie-breaker (unless thingId is already sorted on) and compiles key/compare. */
export function compileSort(sort: readonly SortField[] | undefined): CompiledSort {
  const fields: SortField[] = [...(sort ?? [])];
  if (!fields.some((f) => f.property === 'thingId' || f.property === '/thingId'))
    fields.push({ property: 'thingId', direction: 'asc' });
  const paths = fields.map((f) => propertySegments(f.property));
  const signs = fields.map((f) => (f.direction === 'asc' ? 1 : -1));
  const key = (thing: ThingJson): SortValue[] =>
    paths.map((segments, i) => {
      const values = flattenValues(resolvePath(thing, segments));
      if (values.length === 0) return null;
      let best = toSortValue(values[0]);
      for (let j = 1; j < values.length; j++) {
        const v = toSortValue(values[j]);
        if (compareSortValues(v, best) * signs[i] < 0) best = v;
      }
      return best;
    });
  const compare = (a: readonly SortValue[], b: readonly SortValue[]): number => {
    for (let i = 0; i < signs.length; i++) {
      const c = compareSortValues(a[i], b[i]);
      if (c !== 0) return c * signs[i];
    }
    return 0;
  };
  return { fields, key, compare };
}
