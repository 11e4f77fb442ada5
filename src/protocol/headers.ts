/**
 * Ditto headers between their internal form (lower-case keys, string values as on HTTP) and their Ditto
 * Protocol JSON form (ditto-interfaces.md §4.1; code `DittoHeaderDefinition`: each well-known header has a
 * JSON type, e.g. `requested-acks` is a JSON array and `response-required` a boolean).
 */
import { headerInvalid, timeoutInvalid } from '../errors/general.js';
import type { DittoHeaders } from '../model/signals.js';
import { ACK_LABEL } from './topic.js';
import { parseDuration } from '../util/duration.js';
import { parseJson } from '../util/json-parse.js';

type HeaderJsonType = 'list' | 'boolean' | 'integer' | 'json';

// ditto: DittoHeaderDefinition — headers whose JSON form is not a string.
const JSON_TYPES: Record<string, HeaderJsonType> = {
  'requested-acks': 'list',
  'declared-acks': 'list',
  'response-required': 'boolean',
  'allow-policy-lockout': 'boolean',
  'ditto-weak-ack': 'boolean',
  version: 'integer',
  'put-metadata': 'json',
  'historical-headers': 'json',
};

const LIST_HEADERS = new Set(['requested-acks', 'declared-acks']);

// ditto: §4.1 headers a client may not set; Ditto sets or ignores them.
const INTERNAL_HEADERS = new Set([
  'channel',
  'raw-request-url',
  'read-subjects',
  'subject',
  'timeout-access',
]);

/**
 * ditto: DittoHeaderDefinition.ORIGIN, the streaming session a signal came from. Internal: never read from
 * a client nor written to one; Twinbridge keeps the session beside the signal (`ThingCommand.session`), so
 * transports only drop this header from client input.
 */
export const ORIGIN_HEADER = 'ditto-origin';

/** Whether `name` (lower-case) is an internal header that external input must not set (§4.1). */
export function isInternalHeader(name: string): boolean {
  return name.startsWith('ditto-') || INTERNAL_HEADERS.has(name);
}

/** A copy of `headers` without internal headers; transports call it on input from clients and devices. */
export function withoutInternalHeaders(headers: DittoHeaders): DittoHeaders {
  const result: DittoHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!isInternalHeader(k)) result[k] = v;
  return result;
}

/**
 * Converts the `headers` object of a protocol message to DittoHeaders: keys lower-cased (a later duplicate
 * wins), arrays of `requested-acks`/`declared-acks` to comma lists, booleans to "true"/"false", numbers to
 * their decimal form, other JSON (objects, arrays, null) to its JSON text as Ditto does.
 * Throws `header.invalid` for a `requested-acks`/`declared-acks` or `response-required` of the wrong shape.
 */
export function parseHeaders(json: Record<string, unknown>): DittoHeaders {
  const headers: DittoHeaders = {};
  for (const [key, raw] of Object.entries(json)) {
    const name = key.toLowerCase();
    if (LIST_HEADERS.has(name)) headers[name] = parseLabelList(name, raw);
    else if (typeof raw === 'string') headers[name] = raw;
    else if (typeof raw === 'boolean' || typeof raw === 'number') headers[name] = String(raw);
    else headers[name] = JSON.stringify(raw);
  }
  const rr = headers['response-required'];
  if (rr !== undefined && rr !== 'true' && rr !== 'false') {
    throw headerInvalid({ name: 'response-required', detail: `<${rr}> is not a boolean` });
  }
  return headers;
}

/** `requested-acks`/`declared-acks`: a JSON array of labels, a string holding one, or a comma list. */
function parseLabelList(name: string, raw: unknown): string {
  let labels: unknown;
  if (Array.isArray(raw)) labels = raw;
  else if (typeof raw === 'string' && raw.trimStart().startsWith('[')) {
    try {
      labels = parseJson(raw);
    } catch (cause) {
      throw headerInvalid({ name, detail: 'not a JSON array' }, { cause });
    }
  } else if (typeof raw === 'string') labels = raw === '' ? [] : raw.split(',').map((s) => s.trim());
  if (!Array.isArray(labels))
    throw headerInvalid({ name, detail: 'expected a JSON array of acknowledgement labels' });
  for (const label of labels) {
    if (typeof label !== 'string' || !ACK_LABEL.test(label)) {
      throw headerInvalid({ name, detail: `<${String(label)}> is not a valid acknowledgement label` });
    }
  }
  return labels.join(',');
}

/** Splits a comma list header (`requested-acks`, `declared-acks`) into its labels. */
export function headerList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Renders DittoHeaders in their protocol JSON form; values that do not fit their JSON type stay strings. */
export function renderHeaders(headers: DittoHeaders): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const type = JSON_TYPES[name];
    if (type === undefined) json[name] = value;
    else if (type === 'list') json[name] = headerList(value);
    else if (type === 'boolean') json[name] = value === 'true' ? true : value === 'false' ? false : value;
    else if (type === 'integer') json[name] = /^-?\d+$/.test(value) ? Number(value) : value;
    else json[name] = parseJsonOr(value);
  }
  return json;
}

function parseJsonOr(value: string): unknown {
  try {
    return parseJson(value);
  } catch {
    // not JSON: rendered as the string it is (Ditto would have rejected it on input)
    return value;
  }
}

/** ditto: §4.1 the `timeout` header's default. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The `timeout` header (§4.1, a Ditto duration: src/util/duration.ts) in milliseconds; `defaultMs` when it is
 * absent or empty. Throws `timeout.invalid` when it is not a duration or exceeds `maxMs` (no bound when absent).
 * The same for HTTP, WebSocket and connection sources.
 */
export function parseTimeout(value: string | undefined, defaultMs: number, maxMs?: number): number {
  if (value === undefined || value === '') return defaultMs;
  const max = maxMs === undefined ? undefined : maxMs % 1000 === 0 ? `${maxMs / 1000}s` : `${maxMs}ms`;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    throw timeoutInvalid({ value, max }, { cause: err });
  }
  if (maxMs !== undefined && ms > maxMs) throw timeoutInvalid({ value, max });
  return ms;
}
