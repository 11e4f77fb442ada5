/**
 * ETags (ditto-interfaces.md §2.2): `"rev:<n>"` for a whole entity, `"hash:<hex>"` for a sub-resource, and
 * the evaluation of If-Match / If-None-Match, and the `if-equal` option.
 */
import { hash } from 'node:crypto';
import { headerInvalid } from '../errors/general.js';

export function revisionTag(revision: number): string {
  return `"rev:${revision}"`;
}

export function hashTag(value: unknown): string {
  // One-shot hashing: a third of createHash's cost, and this runs for every sub-resource write.
  return `"hash:${hash('sha1', canonicalJson(value)).slice(0, 16)}"`;
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Splits a header value like `"rev:1", "rev:2"` or `*` into its tags (weak prefixes dropped). */
function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .filter((t) => t.length > 0);
}

/** If-Match holds when the resource exists and (`*` or) one tag equals the current one. */
export function ifMatchHolds(header: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  const tags = tagsOf(header);
  return tags.includes('*') || tags.includes(current);
}

/** If-None-Match holds when the resource is missing, or (not `*` and) no tag equals the current one. */
export function ifNoneMatchHolds(header: string, current: string | undefined): boolean {
  if (current === undefined) return true;
  const tags = tagsOf(header);
  return !tags.includes('*') && !tags.includes(current);
}

const IF_EQUAL = ['update', 'skip', 'skip-minimizing-merge'] as const;
type IfEqual = (typeof IF_EQUAL)[number];

/** ditto: §2.2 `if-equal` (default `update`); anything else is 400 `header.invalid`. */
export function ifEqualOf(headers: Readonly<Record<string, string | undefined>>): IfEqual {
  const value = headers['if-equal'];
  if (value === undefined) return 'update';
  const option = IF_EQUAL.find((o) => o === value.trim().toLowerCase());
  if (!option) throw headerInvalid({ name: 'if-equal', detail: `'${value}' is not one of ${IF_EQUAL.join(', ')}.` });
  return option;
}

export const IF_EQUAL_SKIPPED = "The new value equals the current one and 'if-equal' asks to skip such writes: nothing was changed, which is probably what you wanted.";
