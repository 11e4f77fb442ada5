/**
 * The `fn:` pipeline functions as a table: name -> signature (checked when a template is compiled, i.e. when a
 * connection is saved) + implementation (ditto-interfaces.md §11.5; Ditto basic-placeholders.md
 * "Function library"). Adding a function is one entry here.
 *
 * Each function receives the values of the previous stage (the empty list = "unresolved"/empty) and its
 * argument values, and returns new values or DELETED. Per-value functions drop the values they cannot
 * produce a result for, so an input of several values (JWT arrays) is handled element-wise.
 */
import { compileGlob, type GlobMatcher } from '../util/glob.js';
import { parseFormatTemplate, formatValue, FormatTemplateError, type FormatPart } from './format.js';
import {
  DELETED,
  UNRESOLVED,
  type CompiledArg,
  type PipelineFunction,
  type PipelineResult,
  type PipelineValues,
} from './types.js';

/** Ditto's limit on chained functions per expression (ImmutableExpressionResolver). */
export const MAX_PIPELINE_FUNCTIONS = 10;

function mapEach(input: PipelineValues, f: (value: string) => string | undefined): PipelineValues {
  if (input.length === 1) {
    const r = f(input[0]);
    return r === undefined ? UNRESOLVED : [r];
  }
  const out: string[] = [];
  for (const v of input) {
    const r = f(v);
    if (r !== undefined) out.push(r);
  }
  return out;
}

function noArgs(name: string, apply: (input: PipelineValues) => PipelineResult): PipelineFunction {
  return { name, signature: `fn:${name}()`, minArgs: 0, maxArgs: 0, placeholderArgs: false, apply };
}

function oneString(
  name: string,
  param: string,
  apply: (input: PipelineValues, arg: string) => PipelineResult,
): PipelineFunction {
  return {
    name,
    signature: `fn:${name}(String ${param})`,
    minArgs: 1,
    maxArgs: 1,
    placeholderArgs: false,
    apply: (input, args) => apply(input, args[0][0]),
  };
}

// ---------------------------------------------------------------------------------------------------------
// fn:filter — ditto: PipelineFunctionFilter, filter/*Function.java

type FilterOp = (value: string, compared?: string) => boolean;

const LIKE_CACHE = new Map<string, GlobMatcher[]>();
const LIKE_CACHE_MAX = 1024;

/**
 * `like` pattern -> full-match test: `*` any characters (also none), `?` one character, `|` alternatives,
 * everything else literal; wildcards do not match line breaks (Java's `.`, ditto: LikeHelper). Linear time
 * (util/glob.ts): the pattern may come from a header (`fn:filter(header:a,'like',header:b)`).
 */
export function likeMatches(pattern: string, value: string): boolean {
  let alternatives = LIKE_CACHE.get(pattern);
  if (alternatives === undefined) {
    alternatives = pattern.split('|').map((alternative) => compileGlob(alternative, { singleLine: true }));
    if (LIKE_CACHE.size >= LIKE_CACHE_MAX) LIKE_CACHE.clear();
    LIKE_CACHE.set(pattern, alternatives);
  }
  return alternatives.some((matches) => matches(value));
}

export const FILTER_OPS: Readonly<Record<string, FilterOp>> = {
  eq: (v, c) => c !== undefined && v === c,
  ne: (v, c) => c !== undefined && v !== c,
  like: (v, c) => c !== undefined && likeMatches(c, v),
  // `exists` without a compared value means "exists"; with 'true'/'false' (Java Boolean.parseBoolean).
  exists: (v, c) => (c === undefined ? true : c.toLowerCase() === 'true') !== (v === ''),
};

interface FilterState {
  /** 'previous': `fn:filter(op, compared)` filters each previous value; 'explicit': `fn:filter(value, op,
   * compared)` / `fn:filter(value, 'exists')` keeps or removes the previous values as a whole. */
  form: 'previous' | 'explicit';
  op: FilterOp;
  filterArg: number;
  comparedArg: number | undefined;
}

function constant(arg: CompiledArg | undefined): string | undefined {
  return arg?.kind === 'string' ? arg.value : undefined;
}

function filterForm(args: readonly CompiledArg[]): {
  opArg: number;
  filterArg: number;
  comparedArg?: number;
} {
  if (args.length === 3) return { filterArg: 0, opArg: 1, comparedArg: 2 };
  if (constant(args[1]) === 'exists') return { filterArg: 0, opArg: 1 };
  return { filterArg: -1, opArg: 0, comparedArg: 1 };
}

function anyMatch(op: FilterOp, filterValues: PipelineValues, compared: PipelineValues | undefined): boolean {
  if (compared === undefined) return filterValues.some((f) => op(f));
  if (filterValues.length > 0 && compared.length > 0)
    return filterValues.some((f) => compared.some((c) => op(f, c)));
  // ditto: a missing (unresolved) side compares as ''.
  if (filterValues.length === 0 && compared.length === 0) return op('', '');
  if (filterValues.length === 0) return compared.some((c) => op('', c));
  return filterValues.some((f) => op(f, ''));
}

const filter: PipelineFunction = {
  name: 'filter',
  signature:
    "fn:filter([String filterValue,] String rqlFunction /* 'eq'|'ne'|'like'|'exists' */, String comparedValue)",
  minArgs: 2,
  maxArgs: 3,
  placeholderArgs: true,
  check(args) {
    const { opArg } = filterForm(args);
    const op = constant(args[opArg]);
    if (op === undefined) return `the rqlFunction (argument ${opArg + 1}) must be a quoted string`;
    if (!Object.prototype.hasOwnProperty.call(FILTER_OPS, op)) {
      return `unknown rqlFunction '${op}', expected one of ${Object.keys(FILTER_OPS).join(', ')}`;
    }
    return undefined;
  },
  prepare(args): FilterState {
    const { opArg, filterArg, comparedArg } = filterForm(args);
    return {
      form: filterArg < 0 ? 'previous' : 'explicit',
      op: FILTER_OPS[constant(args[opArg]) as string],
      filterArg,
      comparedArg,
    };
  },
  apply(input, args, state) {
    const s = state as FilterState;
    if (input.length === 0) return UNRESOLVED;
    const compared = s.comparedArg === undefined ? undefined : args[s.comparedArg];
    if (s.form === 'explicit') return anyMatch(s.op, args[s.filterArg], compared) ? input : UNRESOLVED;
    const kept: string[] = [];
    for (const v of input) {
      if (compared !== undefined && compared.some((c) => s.op(v, c)) && !kept.includes(v)) kept.push(v);
    }
    return kept;
  },
};

// ---------------------------------------------------------------------------------------------------------
// Encodings, matching Java's URLEncoder/URLDecoder (form encoding, UTF-8) and java.util.Base64 as Ditto uses.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function javaUrlEncode(value: string): string {
  return encodeURIComponent(value.replace(LONE_SURROGATE, '?'))
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

/** URL-decodes (`+` is a space); undefined for malformed input (Java throws IllegalArgumentException). */
export function javaUrlDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch (error) {
    if (error instanceof URIError) return undefined;
    throw error;
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes standard Base64 as UTF-8; undefined when the input is not Base64 (Java's decoder rejects it). */
export function base64Decode(value: string): string | undefined {
  if (!BASE64.test(value) || value.replace(/=+$/, '').length % 4 === 1) return undefined;
  if (value.includes('=') && value.length % 4 !== 0) return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

/** Java's String.split drops trailing empty strings. */
function splitLikeJava(value: string, separator: string): string[] {
  const parts = value.split(separator);
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return end === parts.length ? parts : parts.slice(0, end);
}

// ---------------------------------------------------------------------------------------------------------

const format: PipelineFunction = {
  name: 'format',
  signature: "fn:format(String template /* e.g. '{field}#{/json/pointer}' or '{#array}{.}{/array}' */)",
  minArgs: 1,
  maxArgs: 1,
  placeholderArgs: false,
  check(args) {
    try {
      parseFormatTemplate((args[0] as { value: string }).value);
      return undefined;
    } catch (error) {
      if (error instanceof FormatTemplateError) return error.message;
      throw error;
    }
  },
  prepare: (args) => parseFormatTemplate((args[0] as { value: string }).value),
  apply(input, _args, state) {
    const out: string[] = [];
    for (const v of input) {
      const formatted = formatValue(v, state as FormatPart[]);
      if (formatted !== undefined) out.push(...formatted);
    }
    // ditto: inputs that are no JSON objects are skipped; a resolved input then formats to ''.
    if (out.length === 0) return input.length === 0 ? UNRESOLVED : [''];
    return out;
  },
};

const FUNCTIONS: readonly PipelineFunction[] = [
  filter,
  {
    name: 'default',
    signature: 'fn:default(String defaultValue /* a quoted string or a placeholder */)',
    minArgs: 1,
    maxArgs: 1,
    placeholderArgs: true,
    apply: (input, args) => (input.length === 0 ? args[0] : input),
  },
  oneString('substring-before', 'givenString', (input, s) =>
    mapEach(input, (v) => {
      const i = v.indexOf(s);
      return i < 0 ? undefined : v.slice(0, i);
    }),
  ),
  oneString('substring-after', 'givenString', (input, s) =>
    mapEach(input, (v) => {
      const i = v.indexOf(s);
      return i < 0 ? undefined : v.slice(i + s.length);
    }),
  ),
  noArgs('lower', (input) => mapEach(input, (v) => v.toLowerCase())),
  noArgs('upper', (input) => mapEach(input, (v) => v.toUpperCase())),
  noArgs('trim', (input) => mapEach(input, (v) => v.trim())),
  noArgs('url-encode', (input) => mapEach(input, javaUrlEncode)),
  noArgs('url-decode', (input) => mapEach(input, javaUrlDecode)),
  noArgs('base64-encode', (input) => mapEach(input, (v) => Buffer.from(v, 'utf8').toString('base64'))),
  noArgs('base64-decode', (input) => mapEach(input, base64Decode)),
  noArgs('delete', () => DELETED),
  {
    name: 'replace',
    signature: 'fn:replace(String from, String to)',
    minArgs: 2,
    maxArgs: 2,
    placeholderArgs: false,
    // Literal replacement of every occurrence (Java String::replace); a function replacer avoids `$` patterns.
    apply: (input, args) => {
      const from = args[0][0];
      const to = args[1][0];
      return mapEach(input, (v) => v.replaceAll(from, () => to));
    },
  },
  // Splits at a literal separator (Ditto's Java split takes a regex; for the documented ' ' and ',' that is
  // the same); values without the separator pass unchanged.
  oneString('split', 'separator', (input, sep) =>
    input.flatMap((v) => (v.includes(sep) ? splitLikeJava(v, sep) : [v])),
  ),
  oneString('join', 'delimiter', (input, d) => (input.length === 0 ? UNRESOLVED : [input.join(d)])),
  format,
];

/** The function table by name (without `fn:`). */
export const PIPELINE_FUNCTIONS: ReadonlyMap<string, PipelineFunction> = new Map(
  FUNCTIONS.map((f) => [f.name, f]),
);
