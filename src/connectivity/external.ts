/**
 * Connector messages as the mappers see them and back (ditto: ExternalMessage): the inbound payload with its
 * text decoded on first read, and the bytes a mapped outbound message is written with.
 */
import { charsetOf, decodeText } from '../mapping/payload.js';
import type { InboundMessage } from './connector.js';
import type { ExternalMessage } from './mapping-port.js';

/** The bytes of a mapped outbound message (its byte payload as is, or its text as UTF-8). */
export function payloadOf(ext: ExternalMessage): Buffer {
  if (ext.bytePayload !== undefined)
    return Buffer.from(ext.bytePayload.buffer, ext.bytePayload.byteOffset, ext.bytePayload.byteLength);
  return Buffer.from(ext.textPayload ?? '', 'utf8');
}

/**
 * The message as the mappers see it: the bytes, and the text when the connector gives text too
 * (`InboundMessage.text`). The text is decoded when a mapper first reads it: an accessor in the literal,
 * which copies and serialisations read like a plain property.
 */
export function externalOf(message: InboundMessage): ExternalMessage {
  const { headers, payload, text } = message;
  const contentType = headers['content-type'];
  if (text === undefined) return { headers, contentType, bytePayload: payload };
  let decoded: string | undefined;
  return {
    headers,
    contentType,
    bytePayload: payload,
    get textPayload(): string {
      return (decoded ??=
        text === 'utf-8' ? payload.toString('utf8') : decodeText(payload, charsetOf(contentType)));
    },
  };
}
