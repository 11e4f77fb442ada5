/**
 * Namespaced entity IDs (ditto-interfaces.md §1.1): `namespace:name`, split at the FIRST colon; the
 * namespace may be empty; at most 256 characters.
 */

// ditto: RegexPatterns.java. Java's `\w` is ASCII [A-Za-z0-9_], as JavaScript's without the `u` flag.
const NAMESPACE = /^(?:|[a-zA-Z]\w*(?:[.-][a-zA-Z]\w*)*)$/;
// The name excludes '/', U+0000–U+001F and U+007F–U+00FF (so 'é' is invalid but CJK is fine).
// eslint-disable-next-line no-control-regex -- the control characters are what the rule excludes
const NAME = /^[^\x00-\x1F\x7F-\xFF/]+$/;
export const MAX_ID_LENGTH = 256;

export interface NamespacedId {
  namespace: string;
  name: string;
}

/** Parses `ns:name`; undefined when the ID is not valid. */
export function parseNamespacedId(id: string): NamespacedId | undefined {
  if (typeof id !== 'string' || id.length > MAX_ID_LENGTH) return undefined;
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const namespace = id.slice(0, colon);
  const name = id.slice(colon + 1);
  if (!NAMESPACE.test(namespace) || !NAME.test(name)) return undefined;
  return { namespace, name };
}

export function isValidNamespace(namespace: string): boolean {
  return NAMESPACE.test(namespace);
}

export function isValidNamespacedId(id: string): boolean {
  return parseNamespacedId(id) !== undefined;
}

/** The namespace of a valid ID (the part before the first colon). */
export function namespaceOf(id: string): string {
  return id.slice(0, id.indexOf(':'));
}
