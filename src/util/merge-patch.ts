/**
 * JSON merge patch (RFC 7396) with Ditto's regex deletion extension (ditto-interfaces.md §2.4): within a
 * patch object, a key `{{ ~<regex>~ }}` (or the discouraged `{{ /<regex>/ }}`) with value null deletes every
 * sibling key of the target that the regex matches as a whole (ditto: JsonMergePatch uses
 * Matcher.matches), before the rest of the patch applies. The regex runs on a linear-time engine
 * (client-regex.ts); an invalid or too large one is `json.key.invalid` and the patch applies nothing.
 */
import { jsonKeyInvalid } from '../errors/general.js';
import { ClientRegexError, compileClientRegex, MAX_REGEX_LENGTH, type ClientRegex } from './client-regex.js';
import { isPlainObject } from './json-pointer.js';
import { copyOf, setKey } from './objects.js';

/** The regex of a deletion key `{{ ~re~ }}` / `{{ /re/ }}`, or undefined when the key is a plain key. */
export function regexDeletionPattern(key: string): string | undefined {
  if (!key.startsWith('{{') || !key.endsWith('}}') || key.length < 4) return undefined;
  const inner = key.slice(2, -2).trim();
  const delimiter = inner[0];
  if ((delimiter !== '~' && delimiter !== '/') || inner.length < 2 || !inner.endsWith(delimiter))
    return undefined;
  return inner.slice(1, -1);
}

function deletionRegex(key: string, pattern: string): ClientRegex {
  try {
    return compileClientRegex(pattern);
  } catch (err) {
    if (!(err instanceof ClientRegexError)) throw err;
    throw jsonKeyInvalid(
      { key },
      {
        cause: err,
        description: `The regular expression of the deletion key is invalid: ${err.reason}. Deletion keys use RE2 syntax (no backreferences or lookaround), at most ${MAX_REGEX_LENGTH} characters.`,
      },
    );
  }
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? copyOf(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    const pattern = value === null ? regexDeletionPattern(key) : undefined;
    if (pattern === undefined) continue;
    const regex = deletionRegex(key, pattern);
    for (const existing of Object.keys(result)) if (regex.matchesWhole(existing)) delete result[existing];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null && regexDeletionPattern(key) !== undefined) continue;
    if (value === null) delete result[key];
    else
      setKey(
        result,
        key,
        applyMergePatch(Object.prototype.hasOwnProperty.call(result, key) ? result[key] : undefined, value),
      );
  }
  return result;
}

/** Every JSON pointer (as segments) a merge patch touches: its leaves, and keys it deletes. */
export function touchedPaths(patch: unknown, base: readonly string[] = []): (readonly string[])[] {
  if (!isPlainObject(patch) || Object.keys(patch).length === 0) return [base];
  const out: (readonly string[])[] = [];
  for (const [key, value] of Object.entries(patch)) {
    // A regex deletion may touch any sibling: count it as touching the parent.
    if (regexDeletionPattern(key) !== undefined) out.push(base);
    else out.push(...touchedPaths(value, [...base, key]));
  }
  return out;
}

/** Equality of JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  );
}

/**
 * The part of a merge patch that changes `target` (ditto: `if-equal: skip-minimizing-merge`): members that
 * would leave their value as it is are left out; undefined when nothing changes. Regex deletions are kept.
 */
export function minimizeMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch) || !isPlainObject(target))
    return jsonEqual(applyMergePatch(target, patch), target) ? undefined : patch;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null && regexDeletionPattern(key) !== undefined) {
      out[key] = value;
      continue;
    }
    if (value === null) {
      if (Object.hasOwn(target, key)) out[key] = null;
      continue;
    }
    const changed =
      Object.hasOwn(target, key) && isPlainObject(value)
        ? minimizeMergePatch(target[key], value)
        : jsonEqual(target[key], applyMergePatch(undefined, value))
          ? undefined
          : value;
    if (changed !== undefined) out[key] = changed;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
