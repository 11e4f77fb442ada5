/** JSON helpers of the console: JSON pointers (RFC 6901), applying a twin event to a thing, formatting. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parsePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function pointerOf(segments: readonly string[]): string {
  return segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** A copy of `root` with `value` at `segments` (objects created on the way). */
function setAt(root: Json, segments: readonly string[], value: Json): Json {
  if (segments.length === 0) return value;
  const [head, ...rest] = segments;
  const object = isObject(root) ? root : {};
  return { ...object, [head]: setAt(object[head] ?? {}, rest, value) };
}

/** A copy of `root` without what is at `segments`. */
function deleteAt(root: Json, segments: readonly string[]): Json {
  if (segments.length === 0 || !isObject(root) || !(segments[0] in root)) return root;
  const [head, ...rest] = segments;
  const copy = { ...root };
  if (rest.length === 0) delete copy[head];
  else copy[head] = deleteAt(root[head], rest);
  return copy;
}

export function getAt(root: Json | undefined, segments: readonly string[]): Json | undefined {
  let node: Json | undefined = root;
  for (const s of segments) {
    if (!isObject(node)) return undefined;
    node = node[s];
  }
  return node;
}

/** RFC 7396 JSON merge patch. */
function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

/** The Ditto Protocol message of a twin event (`_context` of an SSE event with `fields`). */
export interface ProtocolEvent {
  topic: string;
  path: string;
  value?: Json;
  revision?: number;
}

/**
 * The thing after `event`, or null when the event deleted it. `created`/`modified` set the value at the
 * path, `merged` merge-patches it, `deleted` removes it (ditto: protocol-specification-things-*).
 */
export function applyEvent(thing: JsonObject, event: ProtocolEvent): JsonObject | null {
  const action = event.topic.split('/').pop();
  const segments = parsePointer(event.path);
  let next: Json;
  switch (action) {
    case 'created':
    case 'modified':
      next = setAt(thing, segments, event.value ?? null);
      break;
    case 'merged':
      next = setAt(thing, segments, mergePatch(getAt(thing, segments), event.value ?? null));
      break;
    case 'deleted':
      if (segments.length === 0) return null;
      next = deleteAt(thing, segments);
      break;
    default:
      return thing;
  }
  return isObject(next) ? next : thing;
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Parses JSON text, or returns the parser's message. */
export function parseJson(text: string): { value: Json } | { error: string } {
  try {
    return { value: JSON.parse(text) as Json };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A short text of a JSON value for tables. */
export function summary(value: Json | undefined, max = 40): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
