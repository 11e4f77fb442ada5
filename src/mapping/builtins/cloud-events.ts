/**
 * `CloudEvents` (ditto-interfaces.md §12.1; CloudEvents 1.0; ditto: CloudEventsMapper).
 *   - inbound, binary mode: `content-type: application/vnd.eclipse.ditto+json` with the headers `ce-id`,
 *     `ce-source`, `ce-type`, `ce-specversion`; the payload is the Ditto Protocol message.
 *   - inbound, structured mode: `content-type: application/cloudevents+json`; the payload is a CloudEvent
 *     with `specversion`, `id`, `source`, `type` and the Ditto Protocol message in `data` (JSON) or
 *     `data_base64`.
 *   In both modes the event ID becomes the message's `correlation-id`; a Ditto Protocol / CloudEvents
 *   content type without the required attributes fails ("This is not a CloudEvent"); other content
 *   types are dropped.
 *   - outbound: always a structured CloudEvent (as Ditto does): `content-type: application/cloudevents+json`,
 *     `{data: <protocol message>, specversion: "1.0", id: <correlation-id or a UUID>, source, type:
 *     "org.eclipse.ditto.outbound:<topic without namespace/name>", datacontenttype, time: <timestamp or now>,
 *     subject: <namespace:name>}`. `source` and the `type` prefix are Ditto's values, so consumers written
 *     for Ditto keep matching.
 */
import { randomUUID } from 'node:crypto';
import { formatInstant } from '../../placeholders/index.js';
import { isPlainObject } from '../../util/json-pointer.js';
import { findHeader } from '../payload.js';
import type { ExternalMessage, MapperContext, MappingEngine, ProtocolJson } from '../types.js';
import {
  contentTypeOf,
  DITTO_PROTOCOL_CONTENT_TYPE,
  failure,
  headerOf,
  mediaTypeOf,
  payloadText,
  readProtocolJson,
} from './shared.js';
import { parseJson } from '../../util/json-parse.js';

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';
const OUTBOUND_TYPE = 'org.eclipse.ditto.outbound';
const OUTBOUND_SOURCE = 'https://github.com/eclipse-ditto/ditto';
const NOT_A_CLOUD_EVENT = 'This is not a CloudEvent';
const BINARY_HEADERS = ['ce-id', 'ce-source', 'ce-type', 'ce-specversion'];
const STRUCTURED_FIELDS = ['specversion', 'type', 'id', 'source'];

function withCorrelationId(message: ProtocolJson, id: string): ProtocolJson {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message.headers as Record<string, unknown>)) {
    if (k.toLowerCase() !== 'correlation-id') headers[k] = v;
  }
  headers['correlation-id'] = id;
  return { ...message, headers };
}

export function cloudEventsIncoming(message: ExternalMessage): ProtocolJson[] {
  const contentType = contentTypeOf(message);
  const type = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (type === DITTO_PROTOCOL_CONTENT_TYPE) {
    const payload = payloadText(message);
    if (!BINARY_HEADERS.every((h) => findHeader(message.headers, h) !== undefined))
      throw failure(contentType, NOT_A_CLOUD_EVENT);
    return [withCorrelationId(readProtocolJson(payload), findHeader(message.headers, 'ce-id')!)];
  }
  if (type !== STRUCTURED_CONTENT_TYPE) return [];
  const payload = payloadText(message);
  let event: unknown;
  try {
    event = parseJson(payload);
  } catch (error) {
    throw failure(contentType, `${NOT_A_CLOUD_EVENT}: ${(error as Error).message}`, error);
  }
  if (!isPlainObject(event) || !STRUCTURED_FIELDS.every((f) => event[f] !== undefined))
    throw failure(contentType, NOT_A_CLOUD_EVENT);
  let data: string;
  if (event.data_base64 !== undefined) {
    if (typeof event.data_base64 !== 'string')
      throw failure(contentType, `${NOT_A_CLOUD_EVENT}: data_base64 must be a string`);
    data = Buffer.from(event.data_base64, 'base64').toString('utf8');
  } else if (event.data !== undefined) {
    data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  } else {
    throw failure(contentType, NOT_A_CLOUD_EVENT);
  }
  const id = typeof event.id === 'string' ? event.id : JSON.stringify(event.id);
  return [withCorrelationId(readProtocolJson(data), id)];
}

export function cloudEventsOutgoing(message: ProtocolJson, context: MapperContext): ExternalMessage[] {
  const topic = String(message.topic);
  const parts = topic.split('/');
  const event = {
    data: message,
    specversion: '1.0',
    id: headerOf(message.headers, 'correlation-id') ?? randomUUID(),
    source: OUTBOUND_SOURCE,
    type: `${OUTBOUND_TYPE}:${parts.slice(2).join('/')}`,
    datacontenttype: DITTO_PROTOCOL_CONTENT_TYPE,
    time: typeof message.timestamp === 'string' ? message.timestamp : formatInstant(context.now()),
    subject: `${parts[0]}:${parts[1]}`,
  };
  return [
    {
      headers: { 'content-type': STRUCTURED_CONTENT_TYPE },
      textPayload: JSON.stringify(event),
      contentType: STRUCTURED_CONTENT_TYPE,
    },
  ];
}

export const cloudEventsEngine: MappingEngine = {
  alias: 'CloudEvents',
  configurationMandatory: false,
  validate: () => undefined,
  create: (_options, context) => ({
    mapIncoming: cloudEventsIncoming,
    mapOutgoing: (message) => cloudEventsOutgoing(message, context),
  }),
};
