/**
 * JSON merge patch (RFC 7396) with Ditto's regex deletion extension (ditto-interfaces.md §2.4): within a
 * patch object, a key `{{ ~<regex>~ }}` with value null deletes every sibling key of the target matching
 * the regex, before the rest of the patch applies.
 */
import { isPlainObject } from './json-pointer.js';
import { copyOf, setKey } from './objects.js';

const REGEX_KEY = /^\{\{\s*~(.*)~\s*\}\}$/s;

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? copyOf(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    const m = REGEX_KEY.exec(key);
    if (m && value === null) {
      const regex = new RegExp(m[1]);
      for (const existing of Object.keys(result)) if (regex.test(existing)) delete result[existing];
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (REGEX_KEY.test(key) && value === null) continue;
    if (value === null) delete result[key];
    else setKey(result, key, applyMergePatch(Object.prototype.hasOwnProperty.call(result, key) ? result[key] : undefined, value));
  }
  return result;
}

/** Every JSON pointer (as segments) a merge patch touches: its leaves, and keys it deletes. */
export function touchedPaths(patch: unknown, base: readonly string[] = []): (readonly string[])[] {
  if (!isPlainObject(patch) || Object.keys(patch).length === 0) return [base];
  const out: (readonly string[])[] = [];
  for (const [key, value] of Object.entries(patch)) {
    // A regex deletion may touch any sibling: count it as touching the parent.
    if (REGEX_KEY.test(key)) out.push(base);
    else out.push(...touchedPaths(value, [...base, key]));
  }
  return out;
}

/** Equality of JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/**
 * The part of a merge patch that changes `target` (ditto: `if-equal: skip-minimizing-merge`): members that
 * would leave their value as it is are left out; undefined when nothing changes. Regex deletions are kept.
 */
export function minimizeMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch) || !isPlainObject(target)) return jsonEqual(applyMergePatch(target, patch), target) ? undefined : patch;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (REGEX_KEY.test(key) && value === null) {
      out[key] = value;
      continue;
    }
    if (value === null) {
      if (Object.hasOwn(target, key)) out[key] = null;
      continue;
    }
    const changed = Object.hasOwn(target, key) && isPlainObject(value) ? minimizeMergePatch(target[key], value) : jsonEqual(target[key], applyMergePatch(undefined, value)) ? undefined : value;
    if (changed !== undefined) out[key] = changed;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
