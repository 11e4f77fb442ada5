/**
 * JSON text of an immutable value, computed once per object. Stored things are never mutated (a change
 * replaces the objects along its path), so the text made to check a write's size is the one the journal
 * writes and the one a read of the unchanged thing sends.
 */
const texts = new WeakMap<object, string>();

export function jsonText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  let text = texts.get(value);
  if (text === undefined) texts.set(value, (text = JSON.stringify(value)));
  return text;
}

/** The cached text when `jsonText` made one, else a fresh one that is not cached (the value may be mutable). */
export function jsonTextIfCached(value: unknown): string {
  return (typeof value === 'object' && value !== null && texts.get(value)) || JSON.stringify(value);
}
