/**
 * JSON pointers (RFC 6901) as used in Ditto paths: a leading `/` is optional in API input, `/` alone is
 * the root, and empty segments (`a//b`, a trailing `/`) are invalid except where callers normalise them.
 */
import { jsonPointerInvalid } from '../errors/general.js';
import { copyOf, setKey } from './objects.js';

export type Segments = readonly string[];

/** Splits a pointer into unescaped segments. `''` and `'/'` are the root (no segments). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  const body = pointer.startsWith('/') ? pointer.slice(1) : pointer;
  const raw = body.endsWith('/') ? body.slice(0, -1) : body;
  const segments = raw.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '') throw jsonPointerInvalid({ pointer });
    if (s.includes('~')) segments[i] = s.replace(/~1/g, '/').replace(/~0/g, '~');
  }
  return segments;
}

export function formatPointer(segments: Segments): string {
  return segments.length === 0 ? '/' : '/' + segments.map(escapeSegment).join('/');
}

function escapeSegment(s: string): string {
  return s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `segments`, or undefined when any segment is missing. */
export function getAt(root: unknown, segments: Segments): unknown {
  let node = root;
  for (const s of segments) {
    if (!isPlainObject(node) || !Object.prototype.hasOwnProperty.call(node, s)) return undefined;
    node = node[s];
  }
  return node;
}

/** Returns a copy of `root` with `value` set at `segments`, creating objects on the way (copy on write:
 * only the objects along the path are copied, the rest is shared). */
export function setAt(root: unknown, segments: Segments, value: unknown): unknown {
  return setFrom(root, segments, value, 0);
}

function setFrom(root: unknown, segments: Segments, value: unknown, from: number): unknown {
  if (from === segments.length) return value;
  const head = segments[from];
  const base = isPlainObject(root) ? root : {};
  // Not a spread: see util/objects.ts (the key may be new).
  const copy = copyOf(base);
  setKey(
    copy,
    head,
    setFrom(
      Object.prototype.hasOwnProperty.call(base, head) ? base[head] : undefined,
      segments,
      value,
      from + 1,
    ),
  );
  return copy;
}

/** Returns a copy of `root` without the key at `segments` (unchanged when missing). */
export function deleteAt(root: unknown, segments: Segments): unknown {
  return deleteFrom(root, segments, 0);
}

function deleteFrom(root: unknown, segments: Segments, from: number): unknown {
  if (from === segments.length) return undefined;
  if (!isPlainObject(root)) return root;
  const head = segments[from];
  if (!Object.prototype.hasOwnProperty.call(root, head)) return root;
  if (from === segments.length - 1) {
    const { [head]: _removed, ...remaining } = root;
    return remaining;
  }
  const copy = copyOf(root);
  setKey(copy, head, deleteFrom(root[head], segments, from + 1));
  return copy;
}
