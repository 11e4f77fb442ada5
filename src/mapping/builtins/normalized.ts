/**
 * `Normalized` (ditto-interfaces.md §12.1; ditto: NormalizedMessageMapper), outbound only: thing events
 * `created|modified|merged` (and `deleted` of the whole thing) become one Thing-shaped JSON object:
 *   `{ thingId, <the event value at its path>, _modified?, _revision?, _deleted?, _deletedFields?, _context }`
 * with `_context = { topic, path, value (null when absent), fields?, headers }`, `extra` (enrichment) merged
 * underneath (the event wins), then the `fields` selector applied. For `merged` events nulls and empty
 * objects are removed. Everything else (commands, messages, other events, inbound) is dropped.
 * Options: `fields` (field selector), `includeDeletedFields` (3.9: `_deletedFields` with the timestamps of
 * deleted paths and merge-patch nulls; also lets `deleted` events of sub-resources through).
 * Output: text JSON with `content-type: application/json`.
 */
import { parseTopic } from '../../protocol/index.js';
import { applyFieldSelector, parseFieldSelector } from '../../util/field-selector.js';
import { isPlainObject, parsePointer, setAt } from '../../util/json-pointer.js';
import type { ExternalMessage, MappingEngine, ProtocolJson } from '../types.js';
import { configInvalid, failure, optionFlag, optionText, stringHeaders } from './shared.js';

const CHANGES = new Set(['created', 'modified', 'merged']);

interface NormalizedOptions {
  fields?: string[][];
  includeDeletedFields: boolean;
}

function readOptions(options: Record<string, unknown>): NormalizedOptions {
  const fields = optionText(options, 'fields');
  let parsed: string[][] | undefined;
  if (fields !== undefined) {
    try {
      parsed = parseFieldSelector(fields);
    } catch (error) {
      throw configInvalid(
        `the option 'fields' is not a valid field selector: ${(error as Error).message}`,
        error,
      );
    }
  }
  return { fields: parsed, includeDeletedFields: optionFlag(options, 'includeDeletedFields', false) };
}

/** Deep merge where `primary` wins (ditto: JsonFactory.mergeJsonValues). */
function mergeUnder(primary: unknown, secondary: unknown): unknown {
  if (!isPlainObject(primary) || !isPlainObject(secondary)) return primary;
  const out: Record<string, unknown> = { ...secondary };
  for (const [k, v] of Object.entries(primary)) out[k] = k in secondary ? mergeUnder(v, secondary[k]) : v;
  // keep the primary's key order first, as Ditto's builder does
  const ordered: Record<string, unknown> = {};
  for (const k of Object.keys(primary)) ordered[k] = out[k];
  for (const k of Object.keys(out)) if (!(k in ordered)) ordered[k] = out[k];
  return ordered;
}

function withoutNullsAndEmptyObjects(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    if (v === null) continue;
    if (isPlainObject(v)) {
      const inner = withoutNullsAndEmptyObjects(v);
      if (Object.keys(inner).length > 0) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

const isRegexDeletionKey = (key: string) =>
  key.startsWith('{{') && key.endsWith('}}') && (key.includes('~') || key.includes('/'));

/** `_deletedFields`: the deleted path, or every null of a merge patch, mapped to the event timestamp. */
function deletedFields(
  action: string,
  segments: string[],
  value: unknown,
  timestamp: string,
): Record<string, unknown> {
  let out: unknown = {};
  if (action === 'deleted' && segments.length > 0)
    return setAt(out, segments, timestamp) as Record<string, unknown>;
  if (action !== 'merged') return {};
  if (value === null && segments.length > 0)
    return setAt(out, segments, timestamp) as Record<string, unknown>;
  const visit = (node: Record<string, unknown>, base: string[]) => {
    for (const [k, v] of Object.entries(node)) {
      if (isRegexDeletionKey(k)) continue;
      if (v === null) out = setAt(out, [...base, k], timestamp);
      else if (isPlainObject(v)) visit(v, [...base, k]);
    }
  };
  if (isPlainObject(value)) visit(value, segments);
  return out as Record<string, unknown>;
}

export function normalize(message: ProtocolJson, options: NormalizedOptions): ExternalMessage[] {
  const topic = parseTopic(String(message.topic));
  const path = typeof message.path === 'string' ? message.path : '/';
  const segments = parsePointer(path);
  const action = topic.action ?? '';
  const thingDeleted = action === 'deleted' && segments.length === 0;
  const isChange =
    CHANGES.has(action) || thingDeleted || (options.includeDeletedFields && action === 'deleted');
  if (topic.group !== 'things' || topic.criterion !== 'events' || !isChange) return [];

  let json: Record<string, unknown> = { thingId: `${topic.namespace}:${topic.name}` };
  const hasValue = Object.prototype.hasOwnProperty.call(message, 'value');
  if (segments.length === 0 && hasValue) {
    if (!isPlainObject(message.value)) {
      throw failure('application/json', 'a thing event at path "/" must carry a JSON object value');
    }
    json = { ...json, ...message.value };
  } else if (hasValue) {
    json = setAt(json, segments, message.value) as Record<string, unknown>;
  }
  const timestamp = typeof message.timestamp === 'string' ? message.timestamp : undefined;
  if (timestamp !== undefined) json._modified = timestamp;
  if (typeof message.revision === 'number') json._revision = message.revision;
  if (thingDeleted && timestamp !== undefined) json._deleted = timestamp;
  if (options.includeDeletedFields && timestamp !== undefined) {
    const deleted = deletedFields(action, segments, message.value, timestamp);
    if (Object.keys(deleted).length > 0) json._deletedFields = deleted;
  }
  const context: Record<string, unknown> = {
    topic: message.topic,
    path,
    value: hasValue ? message.value : null,
  };
  if (typeof message.fields === 'string') context.fields = message.fields;
  context.headers = stringHeaders(message.headers);
  json._context = context;

  let result = (isPlainObject(message.extra) ? mergeUnder(json, message.extra) : json) as Record<
    string,
    unknown
  >;
  if (options.fields !== undefined) result = applyFieldSelector(result, options.fields);
  if (action === 'merged') result = withoutNullsAndEmptyObjects(result);
  return [
    {
      headers: { 'content-type': 'application/json' },
      textPayload: JSON.stringify(result),
      contentType: 'application/json',
    },
  ];
}

export const normalizedEngine: MappingEngine = {
  alias: 'Normalized',
  configurationMandatory: false,
  validate: (options) => void readOptions(options),
  create(options) {
    const parsed = readOptions(options);
    return { mapOutgoing: (message) => normalize(message, parsed) };
  },
};
