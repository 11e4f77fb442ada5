/**
 * JSON text of an immutable value, computed once per object. Stored things are never mutated (a change
 * replaces the objects along its path), so repeated reads of an unchanged thing send the text made for the
 * first. Writes do not fill the cache (a WeakMap entry per write cost more than it saved): the writer hands
 * its text to the store with the change (`Change.valueJson`).
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
