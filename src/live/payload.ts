/**
 * Message payloads between HTTP bodies and the Ditto Protocol `value` (ditto-interfaces.md §2.6, §4.4):
 * JSON content types travel as JSON, `text/*` as a string, anything else as base64 text. The content type
 * stays in the `content-type` header either way.
 */
import { parseJson } from '../util/json-parse.js';

export function isJsonContentType(contentType: string | undefined): boolean {
  const base = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return base === 'application/json' || base.endsWith('+json');
}

export function isTextContentType(contentType: string | undefined): boolean {
  const base = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return (
    base.startsWith('text/') ||
    base === 'application/xml' ||
    base.endsWith('+xml') ||
    base === 'application/x-www-form-urlencoded'
  );
}

/** The protocol value of a raw body; undefined for an empty body. Invalid JSON stays text. */
export function payloadOf(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (isJsonContentType(contentType)) {
    const text = body.toString('utf8');
    try {
      return parseJson(text);
    } catch {
      return text; // not JSON after all: forwarded as the text it is
    }
  }
  if (isTextContentType(contentType) || contentType === undefined) return body.toString('utf8');
  return body.toString('base64');
}

/** The raw body of a protocol value, for HTTP responses and SSE `data:`. */
export function bodyOf(value: unknown, contentType: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (isJsonContentType(contentType)) return Buffer.from(JSON.stringify(value));
  if (typeof value !== 'string') return Buffer.from(JSON.stringify(value));
  if (isTextContentType(contentType) || contentType === undefined) return Buffer.from(value);
  return Buffer.from(value, 'base64');
}
