/**
 * Resource keys (ditto-interfaces.md §7.2): `type:path`, the type being `thing`, `policy` or `message`,
 * the path a JSON pointer below the entity. `thing:/` is the root of the thing.
 *
 * Paths are normalised: empty segments (a trailing `/`, `a//b`) are dropped, so `thing:/attributes/`
 * equals `thing:/attributes`. Segments are taken literally (no `~1` unescaping): JSON keys of things
 * may not contain `/` (§1.2), so a segment is always a plain key.
 */
import { RESOURCE_TYPES, type ResourceType } from './model.js';

export interface ParsedResource {
  /** The text before the first `:`; may be a type the policy does not know (then nothing is granted). */
  type: string;
  segments: string[];
}

/** Splits a JSON pointer into its non-empty segments. */
export function splitPath(path: string): string[] {
  if (path === '' || path === '/') return [];
  const segments: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47 /* '/' */) {
      if (i > start) segments.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return segments;
}

/** Lenient parse for permission checks: `thing:/a/b` → `{ type: 'thing', segments: ['a', 'b'] }`. */
export function parseResource(resource: string): ParsedResource {
  const colon = resource.indexOf(':');
  if (colon < 0) return { type: resource, segments: [] };
  return { type: resource.slice(0, colon), segments: splitPath(resource.slice(colon + 1)) };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F]/;

/**
 * Why a resource key written in a policy is invalid, or undefined when it is valid: it must be
 * `thing:/…`, `policy:/…` or `message:/…` without control characters.
 */
export function resourceKeyProblem(key: string): string | undefined {
  if (CONTROL.test(key)) return 'it contains control characters';
  const colon = key.indexOf(':');
  if (colon < 0) return "it is not in the format 'type:path'";
  const type = key.slice(0, colon);
  if (!RESOURCE_TYPES.includes(type as ResourceType))
    return `the resource type '${type}' is not one of thing, policy, message`;
  if (!key.startsWith('/', colon + 1)) return "the resource path must start with '/'";
  return undefined;
}

/** The canonical spelling of a resource key: `type:/a/b` (root: `type:/`). */
export function normaliseResourceKey(key: string): string {
  const { type, segments } = parseResource(key);
  return `${type}:/${segments.join('/')}`;
}
