/**
 * `Ditto` (ditto-interfaces.md §12.1, §11.3, §14 item 10; ditto: DittoMessageMapper), the default mapper.
 *   - inbound: the payload (text, or bytes decoded with the content type's charset, default UTF-8) is one
 *     Ditto Protocol JSON message; an absent/empty payload or invalid JSON/envelope/topic fails the message.
 *     The Hono notification content types are blocked by default (see DITTO_CONTENT_TYPE_BLOCKLIST).
 *   - outbound: the protocol JSON as text, with ONLY the headers `content-type:
 *     application/vnd.eclipse.ditto+json` and `correlation-id` (when the message has one).
 */
import type { ExternalMessage, MappingEngine, MessageMapper, ProtocolJson } from '../types.js';
import { DITTO_PROTOCOL_CONTENT_TYPE, headerOf, payloadText, readProtocolJson } from './shared.js';

// ditto: DittoMessageMapper.DEFAULT_OPTIONS content-type-blocklist (Eclipse Hono device notifications).
export const DITTO_CONTENT_TYPE_BLOCKLIST = [
  'application/vnd.eclipse-hono-empty-notification',
  'application/vnd.eclipse-hono-device-provisioning-notification',
  'application/vnd.eclipse-hono-dc-notification+json',
  'application/vnd.eclipse-hono-delivery-failure-notification+json',
].join(',');

export function dittoIncoming(message: ExternalMessage): ProtocolJson[] {
  return [readProtocolJson(payloadText(message))];
}

/** `text`: the message's JSON text when the caller rendered it already (once for all subscribers of an event). */
export function dittoOutgoing(message: ProtocolJson, text?: string): ExternalMessage[] {
  const headers: Record<string, string> = { 'content-type': DITTO_PROTOCOL_CONTENT_TYPE };
  const correlationId = headerOf(message.headers, 'correlation-id');
  if (correlationId !== undefined) headers['correlation-id'] = correlationId;
  return [
    { headers, textPayload: text ?? JSON.stringify(message), contentType: DITTO_PROTOCOL_CONTENT_TYPE },
  ];
}

const DITTO_MAPPER: MessageMapper = { mapIncoming: dittoIncoming, mapOutgoing: dittoOutgoing };

export const dittoEngine: MappingEngine = {
  alias: 'Ditto',
  configurationMandatory: false,
  defaultContentTypeBlocklist: DITTO_CONTENT_TYPE_BLOCKLIST,
  validate: () => undefined,
  create: () => DITTO_MAPPER,
};
