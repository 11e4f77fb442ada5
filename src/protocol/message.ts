/**
 * The Ditto Protocol envelope (ditto-interfaces.md §4.1, jsonschema/protocol-envelope.json): parsed once at
 * the edge into a ProtocolMessage with a typed topic and DittoHeaders, and rendered back to JSON.
 */
import { jsonFieldMissing, jsonFormatInvalid } from '../errors/general.js';
import type { DittoHeaders } from '../model/signals.js';
import { isPlainObject } from '../util/json-pointer.js';
import { parseJson } from '../util/json-parse.js';
import { parseHeaders, renderHeaders } from './headers.js';
import { formatTopic, parseTopic, type TopicPath } from './topic.js';

/** The media type of a Ditto Protocol message (§4). */
export const DITTO_PROTOCOL_CONTENT_TYPE = 'application/vnd.eclipse.ditto+json';

export interface ProtocolMessage {
  topic: TopicPath;
  headers: DittoHeaders;
  /** JSON pointer; `/` addresses the whole entity. */
  path: string;
  /** Present (possibly `null`) only when the message carried a `value`. */
  value?: unknown;
  fields?: string;
  extra?: Record<string, unknown>;
  status?: number;
  revision?: number;
  timestamp?: string;
}

/** The JSON form of a protocol message. */
export interface ProtocolJson {
  topic: string;
  headers: Record<string, unknown>;
  path: string;
  fields?: string;
  value?: unknown;
  status?: number;
  revision?: number;
  timestamp?: string;
  extra?: Record<string, unknown>;
}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function wrongType(field: string, type: string) {
  return jsonFormatInvalid({ detail: `The field '${field}' of a Ditto Protocol message must be ${type}.` });
}

/**
 * Parses Ditto Protocol JSON (text or an already parsed value).
 * Errors: `json.invalid` (not JSON), `json.field.missing` (`topic`/`path`), `json.format.invalid` (a field of
 * the wrong type), `protocoladapter:unknown.topicpath`, `header.invalid`.
 * A missing `headers` object is read as `{}` as Ditto does (code `ImmutableJsonifiableAdaptable.fromJson`).
 */
export function parseProtocolMessage(input: unknown): ProtocolMessage {
  let json = input;
  if (typeof input === 'string') json = parseJson(input);
  if (!isPlainObject(json))
    throw jsonFormatInvalid({ detail: 'A Ditto Protocol message must be a JSON object.' });

  if (!has(json, 'topic')) throw jsonFieldMissing({ field: 'topic' });
  if (typeof json.topic !== 'string') throw wrongType('topic', 'a string');
  if (!has(json, 'path')) throw jsonFieldMissing({ field: 'path' });
  if (typeof json.path !== 'string') throw wrongType('path', 'a string');
  const rawHeaders = has(json, 'headers') ? json.headers : {};
  if (!isPlainObject(rawHeaders)) throw wrongType('headers', 'a JSON object');

  const msg: ProtocolMessage = {
    topic: parseTopic(json.topic),
    headers: parseHeaders(rawHeaders),
    path: normalisePath(json.path),
  };
  if (has(json, 'value')) msg.value = json.value;
  if (json.fields !== undefined) {
    if (typeof json.fields !== 'string') throw wrongType('fields', 'a string');
    msg.fields = json.fields;
  }
  if (json.extra !== undefined) {
    if (!isPlainObject(json.extra)) throw wrongType('extra', 'a JSON object');
    msg.extra = json.extra;
  }
  if (json.status !== undefined) {
    if (!Number.isInteger(json.status) || (json.status as number) < 100 || (json.status as number) > 599) {
      throw wrongType('status', 'an HTTP status code');
    }
    msg.status = json.status as number;
  }
  if (json.revision !== undefined) {
    if (!Number.isInteger(json.revision)) throw wrongType('revision', 'an integer');
    msg.revision = json.revision as number;
  }
  if (json.timestamp !== undefined) {
    if (typeof json.timestamp !== 'string' || Number.isNaN(Date.parse(json.timestamp))) {
      throw wrongType('timestamp', 'an ISO-8601 date-time string');
    }
    msg.timestamp = json.timestamp;
  }
  return msg;
}

/** '' is the root; a missing leading '/' is added (Ditto accepts both). */
function normalisePath(path: string): string {
  if (path === '') return '/';
  return path.startsWith('/') ? path : '/' + path;
}

/**
 * Renders a message to Ditto Protocol JSON. Field order: topic, headers, path, fields, value, status,
 * revision, timestamp, extra (the order of the examples in ditto-interfaces.md §4.8, A.5, A.7).
 */
export function renderProtocolMessage(msg: ProtocolMessage): ProtocolJson {
  const json: ProtocolJson = {
    topic: formatTopic(msg.topic),
    headers: renderHeaders(msg.headers),
    path: msg.path,
  };
  if (msg.fields !== undefined) json.fields = msg.fields;
  if (msg.value !== undefined) json.value = msg.value;
  if (msg.status !== undefined) json.status = msg.status;
  if (msg.revision !== undefined) json.revision = msg.revision;
  if (msg.timestamp !== undefined) json.timestamp = msg.timestamp;
  if (msg.extra !== undefined) json.extra = msg.extra;
  return json;
}

/** `JSON.stringify(renderProtocolMessage(msg))`: the text frame for WebSocket and connections. */
export function stringifyProtocolMessage(msg: ProtocolMessage): string {
  return JSON.stringify(renderProtocolMessage(msg));
}
