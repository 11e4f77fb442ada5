/**
 * ETags (ditto-interfaces.md §2.2): `"rev:<n>"` for a whole entity, `"hash:<hex>"` for a sub-resource. What
 * a request's If-Match / If-None-Match make of them: src/util/preconditions.ts.
 */
import { hash } from 'node:crypto';

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
