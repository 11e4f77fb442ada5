/**
 * Text versus bytes for inbound messages (ditto-interfaces.md §12.2: "text types give `textPayload`,
 * binary content types give `bytePayload`").
 *
 * Contract of `scriptPayload`: the script receives EITHER `textPayload` (a string) OR `bytePayload` (an
 * ArrayBuffer), never both; the other is `null`.
 *   - text content type (`text/*`, `application/json`, `*+json`, `application/xml`, `*+xml`,
 *     `application/javascript`, `application/x-www-form-urlencoded`), or no content type at all
 *     ⇒ `textPayload`, decoded from the bytes with the `charset` parameter (default UTF-8) when bytes were given;
 *   - any other content type ⇒ `bytePayload`, UTF-8-encoded from the text when only text was given.
 * `bytePayload` wins when a connector passes both.
 */

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

/** True when a payload of this content type is text. A missing content type counts as text. */
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

function decode(bytes: Uint8Array, charset: string | undefined): string {
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return utf8.decode(bytes);
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch (error) {
    if (error instanceof RangeError) return utf8.decode(bytes); // unknown charset label: fall back to UTF-8
    throw error;
  }
}

export interface ScriptPayload {
  contentType: string | undefined;
  textPayload: string | null;
  bytePayload: Uint8Array | null;
}

/** Decides what the inbound script receives for this message (see the module contract). */
export function scriptPayload(message: {
  headers: Record<string, string>;
  textPayload?: string;
  bytePayload?: Uint8Array;
  contentType?: string;
}): ScriptPayload {
  const contentType = message.contentType ?? findHeader(message.headers, 'content-type');
  const { textPayload, bytePayload } = message;
  if (isTextContentType(contentType)) {
    if (bytePayload !== undefined)
      return { contentType, textPayload: decode(bytePayload, charsetOf(contentType)), bytePayload: null };
    return { contentType, textPayload: textPayload ?? null, bytePayload: null };
  }
  if (bytePayload !== undefined) return { contentType, textPayload: null, bytePayload };
  return {
    contentType,
    textPayload: null,
    bytePayload: textPayload === undefined ? null : encoder.encode(textPayload),
  };
}
