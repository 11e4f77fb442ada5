/**
 * The template language of `fn:format('...')` (ditto-interfaces.md §11.5, Ditto 3.9 basic-placeholders.md):
 * each pipeline value is a JSON object (typically an object-valued JWT claim) rendered through a template
 * so that fields of one object stay correlated:
 * - `{field}` a top-level field, `{/a/b}` a JSON pointer (at least two segments, so it is not a closing tag);
 * - `{#items}...{/items}` a section repeated for each element of the array `items` (nested sections allowed);
 *   inside, fields refer to the element, `{.}` to the element itself when it is not an object;
 * - `\{` and `\}` are literal braces;
 * - a missing or null field renders as ''; an array of primitives yields one result per element
 *   (cartesian product within one object).
 * The template is parsed once (when the function call is compiled).
 */
import { isDittoError } from '../errors/ditto-error.js';
import { parseJson } from '../util/json-parse.js';

export type FormatPart =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'field'; readonly ref: string }
  | { readonly kind: 'section'; readonly ref: string; readonly parts: readonly FormatPart[] };

export class FormatTemplateError extends Error {}

/** Parses a format template; throws FormatTemplateError on an unclosed section or a stray closing tag. */
export function parseFormatTemplate(template: string): FormatPart[] {
  const { parts, end } = parseParts(template, 0, undefined);
  if (end !== template.length) throw new FormatTemplateError(`unexpected '${template.slice(end)}'`);
  return parts;
}

function isClosingTag(ref: string): boolean {
  // `{/name}` closes a section; `{/a/b}` (two or more segments) is a JSON pointer field.
  return ref.startsWith('/') && ref.indexOf('/', 1) < 0;
}

function parseParts(
  t: string,
  start: number,
  section: string | undefined,
): { parts: FormatPart[]; end: number } {
  const parts: FormatPart[] = [];
  let text = '';
  let i = start;
  const flush = () => {
    if (text !== '') parts.push({ kind: 'static', text });
    text = '';
  };
  while (i < t.length) {
    const c = t[i];
    if (c === '\\' && (t[i + 1] === '{' || t[i + 1] === '}')) {
      text += t[i + 1];
      i += 2;
      continue;
    }
    if (c === '{') {
      const close = t.indexOf('}', i + 1);
      if (close < 0) {
        text += t.slice(i);
        break;
      }
      const ref = t.slice(i + 1, close);
      if (ref === '') {
        text += '{}';
        i = close + 1;
        continue;
      }
      if (ref.startsWith('#')) {
        flush();
        const name = ref.slice(1);
        const inner = parseParts(t, close + 1, name);
        parts.push({ kind: 'section', ref: name, parts: inner.parts });
        i = inner.end;
        continue;
      }
      if (isClosingTag(ref)) {
        if (ref.slice(1) !== section) throw new FormatTemplateError(`unexpected closing tag {${ref}}`);
        flush();
        return { parts, end: close + 1 };
      }
      flush();
      parts.push({ kind: 'field', ref });
      i = close + 1;
      continue;
    }
    text += c;
    i++;
  }
  if (section !== undefined) throw new FormatTemplateError(`unclosed section {#${section}}`);
  flush();
  return { parts, end: t.length };
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function render(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function lookup(obj: Record<string, Json>, ref: string): Json {
  if (!ref.startsWith('/')) return Object.prototype.hasOwnProperty.call(obj, ref) ? obj[ref] : undefined;
  let node: Json = obj;
  for (const raw of ref.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function product(lists: readonly (readonly string[])[]): string[] {
  let results = [''];
  for (const values of lists) {
    if (values.length === 1) {
      for (let k = 0; k < results.length; k++) results[k] += values[0];
    } else {
      const next: string[] = [];
      for (const prefix of results) for (const v of values) next.push(prefix + v);
      results = next;
    }
  }
  return results;
}

function formatObject(obj: Record<string, Json>, parts: readonly FormatPart[]): string[] {
  return product(parts.map((p) => resolvePart(obj, p)));
}

function resolvePart(obj: Record<string, Json>, part: FormatPart): readonly string[] {
  if (part.kind === 'static') return [part.text];
  const value = lookup(obj, part.ref);
  if (value === undefined || value === null) return [''];
  if (part.kind === 'field') {
    if (!Array.isArray(value)) return [render(value)];
    return value.length === 0 ? [''] : value.map(render);
  }
  if (!Array.isArray(value)) return resolveElement(value, part.parts);
  if (value.length === 0) return [''];
  return value.flatMap((element) => resolveElement(element, part.parts));
}

function resolveElement(element: Json, parts: readonly FormatPart[]): string[] {
  if (isObject(element)) return formatObject(element, parts);
  // A primitive element: only `{.}` and static text make sense; anything else renders as ''.
  return product(
    parts.map((p) =>
      p.kind === 'static' ? [p.text] : p.kind === 'field' && p.ref === '.' ? [render(element)] : [''],
    ),
  );
}

/** Formats one pipeline value (a JSON object text); undefined when it is not a JSON object. */
export function formatValue(value: string, parts: readonly FormatPart[]): string[] | undefined {
  let parsed: Json;
  try {
    parsed = parseJson(value);
  } catch (error) {
    if (isDittoError(error)) return undefined; // not JSON, or nested too deep
    throw error;
  }
  return isObject(parsed) ? formatObject(parsed, parts) : undefined;
}
