/**
 * The payload forms mappers see (ditto: ExternalMessage with a text payload, a byte payload or both;
 * ditto-interfaces.md §12.2). The transport decides, as in Ditto, and the mappers take what they get:
 *   - connection sources: per protocol (`InboundMessage.text`, stated in each connector's README);
 *   - HTTP (`POST /api/2/mappings/try`): by content type, `byContentType`.
 * A mapper that needs text takes `textPayload` when present, else decodes `bytePayload` with `decodeText`;
 * one that needs bytes takes `bytePayload`, else the UTF-8 of `textPayload`.
 */
import type { ExternalMessage } from './types.js';

const TEXT_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/x-www-form-urlencoded',
]);

/** The media type without parameters, lower case (`"Application/JSON; charset=utf-8"` → `"application/json"`). */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * True when HTTP input of this content type is text: `text/*`, `application/json`, `*+json`,
 * `application/xml`, `*+xml`, `application/javascript`, `application/x-www-form-urlencoded`, or none at all.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true;
  const type = mediaType(contentType);
  return type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml');
}

/** The `charset` parameter of a content type, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType === undefined ? null : /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match ? match[1].toLowerCase() : undefined;
}

/** Finds a header case-insensitively (header names are case-insensitive, §4.1). */
export function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) return headers[key];
  return undefined;
}

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/**
 * Bytes as text in `charset` (a WHATWG encoding label; default UTF-8, an unknown label falls back to UTF-8).
 * Malformed sequences become U+FFFD, as Java's decoders (Ditto) replace them.
 */
export function decodeText(bytes: Uint8Array, charset: string | undefined): string {
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return utf8.decode(bytes);
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch (error) {
    if (error instanceof RangeError) return utf8.decode(bytes); // unknown charset label: fall back to UTF-8
    throw error;
  }
}

/**
 * The form of an HTTP-given message by its content type (`isTextContentType`): text types keep only text
 * (decoded from given bytes with the `charset`, default UTF-8), others only bytes (the UTF-8 of given text).
 * The content type is `contentType`, else the `content-type` header.
 */
export function byContentType(message: ExternalMessage): ExternalMessage {
  const contentType = message.contentType ?? findHeader(message.headers, 'content-type');
  const { headers, textPayload, bytePayload } = message;
  const result: ExternalMessage = contentType === undefined ? { headers } : { headers, contentType };
  if (isTextContentType(contentType)) {
    const text = bytePayload === undefined ? textPayload : decodeText(bytePayload, charsetOf(contentType));
    if (text !== undefined) result.textPayload = text;
  } else {
    const bytes = bytePayload ?? (textPayload === undefined ? undefined : encoder.encode(textPayload));
    if (bytes !== undefined) result.bytePayload = bytes;
  }
  return result;
}
