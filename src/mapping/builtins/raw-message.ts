/**
 * `RawMessage` (ditto-interfaces.md §12.1, §4.4; ditto: RawMessageMapper): the payload of live messages
 * without the Ditto Protocol envelope.
 *   - inbound: the headers of `incomingMessageHeaders` (templates with `header:`, `time:`, `request:`;
 *     configured entries override the defaults below) give the message: `content-type` (a Ditto Protocol
 *     content type ⇒ the payload is handed to the `Ditto` mapper instead), `ditto-message-thing-id`,
 *     `ditto-message-subject` (both required), `ditto-message-direction` (`TO` ⇒ inbox, `FROM` ⇒ outbox),
 *     `ditto-message-feature-id`, `status` (⇒ a message response). The value is the payload as text, as
 *     JSON for JSON content types, and base64 of the bytes for any other content type. The resulting
 *     protocol headers hold only `content-type`.
 *   - outbound: live messages (criterion `messages`) whose content type (`content-type`, else the option
 *     `outgoingContentType`, default `text/plain; charset=UTF-8`) is not Ditto Protocol are published as
 *     their `value` alone (text/JSON as text; other types must be base64 strings and are decoded to bytes)
 *     with the `ditto-message-*` headers, `content-type` and `status`. Everything else goes through `Ditto`.
 */
import { parseNamespacedId } from '../../model/ids.js';
import { validateTemplate, type CompiledTemplate } from '../../placeholders/index.js';
import { parseTopic } from '../../protocol/index.js';
import { parsePointer } from '../../util/json-pointer.js';
import type {
  ExternalMessage,
  InboundOptions,
  MapperContext,
  MappingEngine,
  ProtocolJson,
} from '../types.js';
import { DITTO_CONTENT_TYPE_BLOCKLIST, dittoIncoming, dittoOutgoing } from './ditto.js';
import {
  configInvalid,
  DITTO_PROTOCOL_CONTENT_TYPE,
  failure,
  headerOf,
  inboundResolvers,
  mediaTypeOf,
  optionObject,
  optionText,
  payloadClass,
  resolveFirstValue,
} from './shared.js';
import { parseJson } from '../../util/json-parse.js';

const DEFAULT_OUTGOING_CONTENT_TYPE = 'text/plain; charset=UTF-8';

// ditto: RawMessageMapper.DEFAULT_INCOMING_HEADERS
export const DEFAULT_INCOMING_MESSAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': "{{header:content-type|fn:default('application/octet-stream')}}",
  'ditto-message-direction': "{{header:ditto-message-direction|fn:default('TO')}}",
  'ditto-message-thing-id': '{{header:ditto-message-thing-id}}',
  'ditto-message-subject': '{{header:ditto-message-subject}}',
  status: '{{header:status}}',
  'ditto-message-feature-id': '{{header:ditto-message-feature-id}}',
};

interface Options {
  outgoingContentType: string;
  incoming: Array<[string, CompiledTemplate]>;
}

function readOptions(options: Record<string, unknown>): Options {
  const configured = optionObject(options, 'incomingMessageHeaders');
  const headers = { ...DEFAULT_INCOMING_MESSAGE_HEADERS, ...configured };
  const incoming = Object.entries(headers).map(([name, text]): [string, CompiledTemplate] => {
    try {
      return [name.toLowerCase(), validateTemplate(text, { allowedPrefixes: ['header', 'time', 'request'] })];
    } catch (error) {
      throw configInvalid(`incomingMessageHeaders '${name}' is invalid: ${(error as Error).message}`, error);
    }
  });
  return {
    outgoingContentType: optionText(options, 'outgoingContentType') ?? DEFAULT_OUTGOING_CONTENT_TYPE,
    incoming,
  };
}

const isDittoProtocol = (contentType: string) => mediaTypeOf(contentType) === DITTO_PROTOCOL_CONTENT_TYPE;
const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function payloadValue(message: ExternalMessage, contentType: string): unknown {
  const kind = payloadClass(contentType);
  if (kind === 'text' || kind === 'json') {
    // ditto: RawMessageMapper.getPayloadValue — text first for text and JSON, bytes first otherwise.
    const text =
      message.textPayload ??
      (message.bytePayload === undefined ? undefined : new TextDecoder().decode(message.bytePayload));
    if (text === undefined) return undefined;
    if (kind === 'text') return text;
    try {
      return parseJson(text) as unknown;
    } catch (error) {
      throw failure(contentType, `the payload is not JSON: ${(error as Error).message}`, error);
    }
  }
  const bytes =
    message.bytePayload ??
    (message.textPayload === undefined ? undefined : new TextEncoder().encode(message.textPayload));
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('base64');
}

export function rawIncoming(
  message: ExternalMessage,
  options: Options,
  context: MapperContext,
  inbound: InboundOptions,
): ProtocolJson[] {
  const resolvers = inboundResolvers(message, context, inbound);
  const resolved: Record<string, string> = {};
  for (const [name, template] of options.incoming) {
    const value = resolveFirstValue(template, resolvers);
    if (value !== undefined) resolved[name] = value;
  }
  const contentType = resolved['content-type'];
  if (contentType === undefined) {
    throw failure(
      undefined,
      "the RawMessage mapper could not resolve the content-type of the message; make sure 'content-type' is defined and resolvable in 'incomingMessageHeaders'",
    );
  }
  if (isDittoProtocol(contentType)) return dittoIncoming(message);

  const thingId = resolved['ditto-message-thing-id'];
  const subject = resolved['ditto-message-subject'];
  const direction = resolved['ditto-message-direction'];
  if (thingId === undefined || subject === undefined || direction === undefined) {
    const missing = ['ditto-message-thing-id', 'ditto-message-subject', 'ditto-message-direction'].filter(
      (h) => resolved[h] === undefined,
    );
    throw failure(
      contentType,
      `the headers did not contain a value for the mandatory message header(s) ${missing.join(', ')}`,
    );
  }
  if (subject === '') throw failure(contentType, 'the message subject may not be empty');
  const id = parseNamespacedId(thingId);
  if (!id) throw failure(contentType, `the thing ID <${thingId}> of the message is invalid`);
  if (direction !== 'TO' && direction !== 'FROM')
    throw failure(contentType, `the message direction <${direction}> must be one of TO, FROM`);
  const featureId = resolved['ditto-message-feature-id'];
  const mailbox = direction === 'TO' ? 'inbox' : 'outbox';
  const path = `${featureId === undefined ? '' : `/features/${escape(featureId)}`}/${mailbox}/messages/${subject}`;
  const json: ProtocolJson = {
    topic: `${id.namespace}/${id.name}/things/live/messages/${subject}`,
    headers: { 'content-type': contentType },
    path,
  };
  const value = payloadValue(message, contentType);
  if (value !== undefined) json.value = value;
  const status = resolved.status;
  if (status !== undefined) {
    const code = /^\d{3}$/.test(status.trim()) ? Number(status.trim()) : NaN;
    if (!(code >= 100 && code <= 599))
      throw failure(contentType, `the status <${status}> is not an HTTP status code`);
    json.status = code;
  }
  return [json];
}

/** Strict base64 (ditto: java.util.Base64 basic decoder: padding optional, no other characters). */
function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function rawOutgoing(message: ProtocolJson, options: Options, text?: string): ExternalMessage[] {
  const topic = parseTopic(String(message.topic));
  if (topic.criterion !== 'messages' || topic.subject === undefined) return dittoOutgoing(message, text);
  // ditto: ContentType.of lower-cases the value
  const contentType = (
    headerOf(message.headers, 'content-type') ?? options.outgoingContentType
  ).toLowerCase();
  if (isDittoProtocol(contentType)) return dittoOutgoing(message, text);

  const segments = parsePointer(typeof message.path === 'string' ? message.path : '/');
  const featureId = segments[0] === 'features' ? segments[1] : undefined;
  const mailbox = featureId === undefined ? segments[0] : segments[2];
  const headers: Record<string, string> = {
    'content-type': contentType,
    'ditto-message-direction': mailbox === 'outbox' ? 'FROM' : 'TO',
    'ditto-message-thing-id': `${topic.namespace}:${topic.name}`,
    'ditto-message-subject': topic.subject,
  };
  if (featureId !== undefined) headers['ditto-message-feature-id'] = featureId;
  if (typeof message.status === 'number') headers.status = String(message.status);
  const external: ExternalMessage = { headers, contentType };
  if (Object.prototype.hasOwnProperty.call(message, 'value')) {
    const value = message.value;
    const kind = payloadClass(contentType);
    if (kind === 'text' || kind === 'json') {
      external.textPayload = typeof value === 'string' ? value : JSON.stringify(value);
    } else {
      const bytes = typeof value === 'string' ? decodeBase64(value) : undefined;
      if (bytes === undefined) {
        throw failure(
          contentType,
          `expected the payload of a message of content-type <${contentType}> to be a base64 encoded string`,
        );
      }
      external.bytePayload = bytes;
    }
  }
  return [external];
}

export const rawMessageEngine: MappingEngine = {
  alias: 'RawMessage',
  configurationMandatory: false,
  defaultContentTypeBlocklist: DITTO_CONTENT_TYPE_BLOCKLIST,
  validate: (options) => void readOptions(options),
  create(options, context) {
    const parsed = readOptions(options);
    return {
      mapIncoming: (message, inbound) => rawIncoming(message, parsed, context, inbound),
      mapOutgoing: (message, text) => rawOutgoing(message, parsed, text),
    };
  },
};
