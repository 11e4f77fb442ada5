/**
 * AMQP 1.0 messages ↔ external headers (ditto-interfaces.md §11.6).
 *
 * The standard properties `message-id, user-id, to, subject, reply-to, correlation-id, content-type,
 * absolute-expiry-time, creation-time, group-id, group-sequence, reply-to-group-id` map to headers of the same
 * name (times as epoch milliseconds); every other header is an application property. A header named
 * `amqp.application.property:<n>` addresses application property `<n>` explicitly (needed when `<n>` is one of
 * the standard names), `amqp.message.annotation:<n>` message annotation `<n>`. Inbound, an application
 * property whose name is a standard one arrives under the prefixed name.
 */
import rhea, { type Message } from 'rhea';

export const APPLICATION_PROPERTY = 'amqp.application.property:';
export const MESSAGE_ANNOTATION = 'amqp.message.annotation:';

/** Header name → rhea message field. */
const STANDARD: Record<string, string> = {
  'message-id': 'message_id',
  'user-id': 'user_id',
  to: 'to',
  subject: 'subject',
  'reply-to': 'reply_to',
  'correlation-id': 'correlation_id',
  'content-type': 'content_type',
  'absolute-expiry-time': 'absolute_expiry_time',
  'creation-time': 'creation_time',
  'group-id': 'group_id',
  'group-sequence': 'group_sequence',
  'reply-to-group-id': 'reply_to_group_id',
};
const TIMES = new Set(['absolute-expiry-time', 'creation-time']);

function text(value: unknown): string {
  if (value instanceof Date) return String(value.getTime());
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Inbound headers of a received message (names lower-cased). */
export function headersOf(message: Message): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((message.application_properties ?? {}) as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    const name = k.toLowerCase();
    headers[name in STANDARD ? `${APPLICATION_PROPERTY}${name}` : name] = text(v);
  }
  for (const [k, v] of Object.entries((message.message_annotations ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) headers[`${MESSAGE_ANNOTATION}${k}`] = text(v);
  }
  for (const [header, field] of Object.entries(STANDARD)) {
    const v = (message as unknown as Record<string, unknown>)[field];
    if (v !== undefined && v !== null) headers[header] = text(v);
  }
  return headers;
}

/** The body as bytes: a data section, an AMQP string value, or any other value as JSON. */
export function bodyOf(message: Message): Buffer {
  const body: unknown = message.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body && typeof body === 'object' && 'typecode' in body && 'content' in body) {
    const content = (body as { content: unknown }).content;
    if (Buffer.isBuffer(content)) return content;
    if (Array.isArray(content) && content.every((c) => Buffer.isBuffer(c))) return Buffer.concat(content as Buffer[]);
  }
  return Buffer.from(JSON.stringify(body ?? null), 'utf8');
}

/**
 * The message to send for external headers and payload (durable). `to` is the target address unless a `to`
 * header sets it, as a JMS producer (Ditto's Qpid JMS client) sets it to the destination. The payload is one
 * data section, byte for byte: consumers of any protocol (RabbitMQ hands a data section to AMQP 0.9.1
 * consumers as the plain body) see exactly the mapped bytes; the content type says how to read them.
 */
export function toAmqpMessage(address: string, headers: Record<string, string>, payload: Buffer, contentType: string | undefined): Message {
  const message: Record<string, unknown> = { durable: true, to: address };
  const applicationProperties: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const field = STANDARD[k];
    if (field !== undefined) {
      if (TIMES.has(k)) {
        const ms = Number(v);
        if (Number.isFinite(ms)) message[field] = new Date(ms);
      } else if (k === 'group-sequence') {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 0) message[field] = n;
      } else message[field] = v;
    } else if (k.startsWith(APPLICATION_PROPERTY)) applicationProperties[k.slice(APPLICATION_PROPERTY.length)] = v;
    else if (k.startsWith(MESSAGE_ANNOTATION)) annotations[k.slice(MESSAGE_ANNOTATION.length)] = v;
    else applicationProperties[k] = v;
  }
  if (message.content_type === undefined && contentType !== undefined) message.content_type = contentType;
  if (Object.keys(applicationProperties).length > 0) message.application_properties = applicationProperties;
  if (Object.keys(annotations).length > 0) message.message_annotations = annotations;
  message.body = rhea.message.data_section(payload);
  return message as unknown as Message;
}

/** `queue://name` and `topic://name` name a node with that capability (as JMS destinations do); else the address as is. */
export function targetTerminus(address: string): { address: string; capabilities?: string[] } {
  if (address.startsWith('queue://')) return { address: address.slice('queue://'.length), capabilities: ['queue'] };
  if (address.startsWith('topic://')) return { address: address.slice('topic://'.length), capabilities: ['topic'] };
  return { address };
}
