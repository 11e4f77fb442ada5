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
import { isUtf8 } from 'node:buffer';
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

// Qpid JMS (Ditto's AMQP 1.0 client): `x-opt-jms-msg-type` values of a bytes and a text message.
const JMS_MSG_TYPE = 'x-opt-jms-msg-type';
const JMS_BYTES_MESSAGE = 3;
const JMS_TEXT_MESSAGE = 5;

/**
 * The body and the form mapping scripts get it in, as Ditto's AMQP 1.0 consumer gives it: Ditto reads AMQP
 * 1.0 through Qpid JMS (AmqpJmsMessageBuilder decides between a text and a bytes message), and its
 * AmqpConsumerActor hands a text message over as text and bytes, a bytes message as bytes only:
 *   - the annotation `x-opt-jms-msg-type` 5 (text) or 3 (bytes), when present, decides;
 *   - an amqp-value string is text (its bytes are its UTF-8);
 *   - data sections are bytes only without a content type, with `application/octet-stream` or with one
 *     that is not textual; with a textual content type (`textualCharset`) they are text in its charset, and
 *     as bytes that text's UTF-8, as Ditto encodes the text again;
 *   - an amqp-value binary is bytes only;
 *   - any other value (map, list, number, amqp-sequence), which Ditto hands over without payload, is its
 *     JSON, as text and bytes.
 */
export function bodyOf(message: Message): { payload: Buffer; text?: 'utf-8' } {
  const body: unknown = message.body;
  const jmsType = (message.message_annotations as Record<string, unknown> | undefined)?.[JMS_MSG_TYPE];
  if (typeof body === 'string')
    return jmsType === JMS_BYTES_MESSAGE
      ? { payload: Buffer.from(body, 'utf8') }
      : { payload: Buffer.from(body, 'utf8'), text: 'utf-8' };
  const bytes = Buffer.isBuffer(body) ? body : dataOf(body);
  if (bytes === undefined)
    return { payload: Buffer.from(JSON.stringify(body ?? null), 'utf8'), text: 'utf-8' };
  const charset =
    jmsType === JMS_TEXT_MESSAGE
      ? 'utf-8'
      : jmsType === JMS_BYTES_MESSAGE || Buffer.isBuffer(body)
        ? undefined
        : textualCharset(message.content_type);
  if (charset === undefined) return { payload: bytes };
  if (charset === 'utf-8')
    return { payload: isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8'), text: 'utf-8' };
  return { payload: Buffer.from(new TextDecoder(charset).decode(bytes), 'utf8'), text: 'utf-8' };
}

/** The bytes of data sections (one or several), else undefined. */
function dataOf(body: unknown): Buffer | undefined {
  if (!body || typeof body !== 'object' || (body as { typecode?: unknown }).typecode !== DATA_SECTION)
    return undefined;
  const content = (body as { content: unknown }).content;
  if (Buffer.isBuffer(content)) return content;
  if (Array.isArray(content) && content.every((c) => Buffer.isBuffer(c)))
    return Buffer.concat(content as Buffer[]);
  return undefined;
}
const DATA_SECTION = 0x75;

/**
 * The charset of a textual content type as Qpid JMS decides it (ContentTypeSupport): `text/*`, and
 * `application/` `json`, `xml`, `javascript`, `ecmascript`, `xml-dtd`, `*+json`, `*+xml`; the `charset`
 * parameter, default UTF-8. Undefined for other types, none, and a charset this runtime does not know
 * (Qpid then makes a bytes message).
 */
export function textualCharset(contentType: string | undefined): string | undefined {
  const slash = contentType?.indexOf('/') ?? -1;
  if (contentType === undefined || slash < 0) return undefined;
  const type = contentType.slice(0, slash).trim().toLowerCase();
  const semi = contentType.indexOf(';', slash);
  const subType = contentType
    .slice(slash + 1, semi < 0 ? undefined : semi)
    .trim()
    .toLowerCase();
  const textual =
    type === 'text' ||
    (type === 'application' &&
      (TEXTUAL_APPLICATION.has(subType) || subType.endsWith('+json') || subType.endsWith('+xml')));
  if (!textual || subType === '') return undefined;
  const charset =
    semi < 0
      ? undefined
      : /(?:^|;)\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType.slice(semi))?.[1]?.toLowerCase();
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return 'utf-8';
  try {
    return new TextDecoder(charset).encoding;
  } catch {
    return undefined; // a charset the decoder does not know: a bytes message, as Qpid's for an unsupported one
  }
}
const TEXTUAL_APPLICATION = new Set(['json', 'xml', 'javascript', 'ecmascript', 'xml-dtd']);

/**
 * The message to send for external headers and payload (durable). `to` is the target address unless a `to`
 * header sets it, as a JMS producer (Ditto's Qpid JMS client) sets it to the destination. The payload is one
 * data section, byte for byte: consumers of any protocol (RabbitMQ hands a data section to AMQP 0.9.1
 * consumers as the plain body) see exactly the mapped bytes; the content type says how to read them.
 */
export function toAmqpMessage(
  address: string,
  headers: Record<string, string>,
  payload: Buffer,
  contentType: string | undefined,
): Message {
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
    } else if (k.startsWith(APPLICATION_PROPERTY))
      applicationProperties[k.slice(APPLICATION_PROPERTY.length)] = v;
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
  if (address.startsWith('queue://'))
    return { address: address.slice('queue://'.length), capabilities: ['queue'] };
  if (address.startsWith('topic://'))
    return { address: address.slice('topic://'.length), capabilities: ['topic'] };
  return { address };
}
