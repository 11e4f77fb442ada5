/**
 * Host-side conversion of what the sandbox returns, and Ditto's pass-through for empty scripts.
 * Pure functions; every failure is `connectivity:message.mapping.failed` for that one message.
 */
import { messageMappingFailed } from '../../errors/mapping.js';
import type { DittoError } from '../../errors/ditto-error.js';
import type { Piece } from './sandbox.js';
import type { DittoProtocolMessage, ExternalMessage } from './types.js';
import { parseJson } from '../../util/json-parse.js';

const DITTO_PROTOCOL_CONTENT_TYPE = 'application/vnd.eclipse.ditto+json';
const utf8 = new TextDecoder('utf-8', { fatal: false });

export function mappingFailed(
  contentType: string | undefined,
  reason: string,
  line?: number,
  cause?: unknown,
): DittoError {
  return messageMappingFailed({ contentType, reason, line }, cause === undefined ? undefined : { cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a JSON round-tripped inbound result minimally (ditto: §12.2 "each result is JSON.stringify-ed and
 * parsed as Ditto Protocol"): an object with a string `topic`, a string `path` and, if present, an object
 * `headers` (absent ⇒ `{}`). Returns an error reason or the message.
 */
export function toProtocolMessage(value: unknown): DittoProtocolMessage | string {
  if (!isPlainObject(value))
    return `a mapped message must be a JSON object, got ${Array.isArray(value) ? 'array' : JSON.stringify(value)}`;
  if (typeof value.topic !== 'string') return 'the mapped Ditto Protocol message has no string <topic>';
  if (typeof value.path !== 'string') return 'the mapped Ditto Protocol message has no string <path>';
  if (value.headers === undefined) value.headers = {};
  else if (!isPlainObject(value.headers))
    return 'the <headers> of the mapped Ditto Protocol message must be a JSON object';
  return value as DittoProtocolMessage;
}

/** Inbound piece → Ditto Protocol messages (empty = dropped), or throws the message's mapping failure. */
export function inboundResults(piece: Piece, contentType: string | undefined): DittoProtocolMessage[] {
  if ('e' in piece) throw mappingFailed(contentType, piece.e, piece.l);
  const out: DittoProtocolMessage[] = [];
  for (const value of piece.r) {
    const message = toProtocolMessage(value);
    if (typeof message === 'string') throw mappingFailed(contentType, message);
    out.push(message);
  }
  return out;
}

interface WireExternal {
  h: Record<string, string>;
  t?: string;
  b?: number;
  c?: string;
}

/**
 * Outbound piece → external messages (empty = dropped). `contentType` also becomes the `content-type`
 * header (ditto: ScriptedOutgoingMapping); header values are already strings (objects JSON-encoded).
 */
export function outboundResults(
  piece: Piece,
  buffers: ArrayBuffer[],
  contentType: string | undefined,
): ExternalMessage[] {
  if ('e' in piece) throw mappingFailed(contentType, piece.e, piece.l);
  return (piece.r as WireExternal[]).map((wire) => {
    const message: ExternalMessage = { headers: wire.h };
    if (wire.c !== undefined) {
      message.contentType = wire.c;
      message.headers['content-type'] = wire.c;
    }
    if (wire.b !== undefined) message.bytePayload = new Uint8Array(buffers[wire.b]);
    else message.textPayload = wire.t;
    return message;
  });
}

/**
 * Empty incomingScript (ditto: DefaultIncomingMapping): the payload (text, else bytes as UTF-8) is one Ditto
 * Protocol JSON message; no payload ⇒ dropped.
 */
export function passThroughIncoming(
  message: ExternalMessage,
  contentType: string | undefined,
): DittoProtocolMessage[] {
  const text =
    message.textPayload ?? (message.bytePayload === undefined ? undefined : utf8.decode(message.bytePayload));
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (error) {
    throw mappingFailed(
      contentType,
      `the payload is not Ditto Protocol JSON: ${(error as Error).message}`,
      undefined,
      error,
    );
  }
  const result = toProtocolMessage(parsed);
  if (typeof result === 'string') throw mappingFailed(contentType, result);
  return [result];
}

/** Header values as strings (strings unchanged, other JSON values JSON-encoded). */
export function stringifyHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [key, value] of Object.entries(headers))
    out[key] = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return out;
}

/**
 * Empty outgoingScript (ditto: DefaultOutgoingMapping): the Ditto Protocol JSON as text with the message's
 * headers and `content-type: application/vnd.eclipse.ditto+json`.
 */
export function passThroughOutgoing(message: DittoProtocolMessage): ExternalMessage[] {
  const headers = stringifyHeaders(message.headers);
  headers['content-type'] = DITTO_PROTOCOL_CONTENT_TYPE;
  return [{ headers, textPayload: JSON.stringify(message), contentType: DITTO_PROTOCOL_CONTENT_TYPE }];
}
