/**
 * Field selectors (`fields=`, `extraFields=`, search/SSE/protocol `fields`; ditto-interfaces.md §2.3;
 * ditto: ImmutableJsonFieldSelectorFactory):
 *   selector := entry ( ',' entry )*
 *   entry    := pointer | pointer '(' selector ')'        e.g. `attributes/address/postal(city,street)`
 *   pointer  := JSON pointer, leading '/' optional        (grouping nests: `a/b(c,d(e,f))`)
 * `*` is only allowed as the feature-ID wildcard: the segment right after a leading `features`, e.g.
 * `features/*` alone or followed by `/properties/on` (all features' `on` property).
 * Empty entries (`a,,b`, a trailing comma) are ignored; an empty selector, unbalanced parentheses, an empty
 * group `a()`, text after `)`, empty segments (`a//b`) or a misplaced `*` are `json.fieldselector.invalid`.
 * Keys are taken verbatim (no trimming; URL decoding is the HTTP layer's job); `~1`/`~0` are unescaped.
 * Groups nest at most MAX_FIELD_SELECTOR_DEPTH levels (checked before descending: no stack overflow).
 */
import { fieldSelectorInvalid } from '../errors/general.js';
import { copyOf, setKey } from './objects.js';

/** A parsed selector: the selected pointers as segment lists, deduplicated, in order of appearance. */
export type FieldSelector = readonly (readonly string[])[];

const WILDCARD = '*';
export const MAX_FIELD_SELECTOR_DEPTH = 100;

export function parseFieldSelector(text: string): string[][] {
  const invalid = (detail: string) => fieldSelectorInvalid({ selector: text, detail });
  let i = 0;

  const segmentsOf = (path: string): string[] => {
    let body = path.startsWith('/') ? path.slice(1) : path;
    if (body.endsWith('/')) body = body.slice(0, -1);
    if (body === '') return [];
    return body.split('/').map((s) => {
      if (s === '') throw invalid(`empty segment in '${path}'`);
      return s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s;
    });
  };

  // Parses entries until ')' (nested) or the end (top level); i is left on the ')' or at the end.
  const parseList = (depth: number): string[][] => {
    const nested = depth > 0;
    const pointers: string[][] = [];
    for (;;) {
      const start = i;
      while (i < text.length && text[i] !== ',' && text[i] !== '(' && text[i] !== ')') i++;
      const path = text.slice(start, i);
      if (text[i] === '(') {
        const root = segmentsOf(path);
        if (root.length === 0) throw invalid(`'(' at position ${i + 1} has no field before it`);
        if (depth + 1 >= MAX_FIELD_SELECTOR_DEPTH)
          throw invalid(`groups nest more than ${MAX_FIELD_SELECTOR_DEPTH} levels`);
        i++;
        const inner = parseList(depth + 1);
        if (text[i] !== ')') throw invalid(`missing ')' for '(' after '${path}'`);
        if (inner.length === 0) throw invalid(`empty group '${path}()'`);
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== ')') {
          throw invalid(`unexpected '${text[i]}' at position ${i + 1} after ')'`);
        }
        for (const p of inner) pointers.push([...root, ...p]);
      } else {
        const segments = segmentsOf(path);
        if (segments.length > 0) pointers.push(segments);
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ')') {
        if (!nested) throw invalid(`unbalanced ')' at position ${i + 1}`);
        return pointers;
      }
      return pointers; // end of text
    }
  };

  const parsed = parseList(0);
  if (parsed.length === 0) throw invalid('no field selected');
  const seen = new Set<string>();
  const result: string[][] = [];
  for (const p of parsed) {
    p.forEach((segment, index) => {
      if (segment === WILDCARD && !(index === 1 && p[0] === 'features')) {
        throw invalid(
          `'*' is only allowed as feature ID wildcard (features/*/...), not in '/${p.join('/')}'`,
        );
      }
    });
    const key = JSON.stringify(p);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(p);
    }
  }
  return result;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasKey(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Copies the value at `segments` of `source` into `target` (creating the objects on the way); does nothing
 * when the path is missing. Objects of the result that were created or copied here are in `owned` and may be
 * written; others are shared with `source` and are copied before writing. */
function copyPath(
  source: Record<string, unknown>,
  target: Record<string, unknown>,
  segments: readonly string[],
  owned: Set<object>,
): void {
  let node: unknown = source;
  for (const s of segments) {
    if (!isObject(node) || !hasKey(node, s)) return;
    node = node[s];
  }
  let out = target;
  for (let k = 0; k < segments.length - 1; k++) {
    const s = segments[k];
    const existing = hasKey(out, s) ? out[s] : undefined;
    let next: Record<string, unknown>;
    if (isObject(existing) && owned.has(existing)) {
      next = existing;
    } else {
      next = isObject(existing) ? copyOf(existing) : {};
      owned.add(next);
      setKey(out, s, next);
    }
    out = next;
  }
  setKey(out, segments[segments.length - 1], node);
}

/** Keeps the selected parts of `json` with their structure; missing paths are silently omitted and
 * `features/*` expands over the features present. Returns `{}` when nothing is selected. The input is not
 * modified; selected values are shared with it (not deep-copied), so treat the result as read-only. */
export function applyFieldSelector(json: unknown, selector: string | FieldSelector): Record<string, unknown> {
  const pointers = typeof selector === 'string' ? parseFieldSelector(selector) : selector;
  const result: Record<string, unknown> = {};
  if (!isObject(json)) return result;
  const owned = new Set<object>([result]);
  for (const p of pointers) {
    if (p.length >= 2 && p[0] === 'features' && p[1] === WILDCARD) {
      const features = json.features;
      if (!isObject(features)) continue;
      for (const featureId of Object.keys(features))
        copyPath(json, result, ['features', featureId, ...p.slice(2)], owned);
    } else {
      copyPath(json, result, p, owned);
    }
  }
  return result;
}
