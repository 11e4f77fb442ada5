/**
 * Acknowledgements ↔ Ditto Protocol (ditto-interfaces.md §4.6, §9):
 * single `{ns}/{name}/things/{channel}/acks/{label}` (path `/`, `status`, optional `value`) and aggregated
 * `{ns}/{name}/things/{channel}/acks` with `value: {"<label>": {"status", "payload", "headers"}}`.
 */
import {
  ackCorrelationIdMissing,
  ackLabelForbidden,
  ackLabelInvalid,
  illegalAdaptable,
  unknownTopicPath,
} from '../errors/protocol.js';
import type { Acknowledgement, Acknowledgements, Channel, DittoHeaders } from '../model/signals.js';
import { isPlainObject } from '../util/json-pointer.js';
import { headerList, parseHeaders, renderHeaders } from './headers.js';
import type { ProtocolMessage } from './message.js';
import { ACK_LABEL, formatTopic } from './topic.js';
import { thingIdOf, thingTopic } from './things.js';

/** Labels Ditto issues itself (§9); clients and devices must not issue them. */
export const BUILT_IN_ACK_LABELS: ReadonlySet<string> = new Set([
  'twin-persisted',
  'live-response',
  'search-persisted',
]);

export function isValidAckLabel(label: string): boolean {
  return ACK_LABEL.test(label);
}

export interface AckParseOptions {
  /** Accept built-in labels; only for trusted internal transports. Default false. */
  allowBuiltInLabels?: boolean;
}

/** Throws `acknowledgement:label.invalid` or, for external issuers, `acknowledgement:ditto.acklabel.forbidden`. */
export function checkIssuedLabel(label: string, options: AckParseOptions = {}): void {
  if (!ACK_LABEL.test(label)) throw ackLabelInvalid({ label });
  if (!options.allowBuiltInLabels && BUILT_IN_ACK_LABELS.has(label)) throw ackLabelForbidden({ label });
}

/**
 * Headers of an event or live signal as published to subscribers (§4.3, §9): `requested-acks` keeps only
 * custom labels (subscribers cannot issue built-in ones); the header is dropped when none remain.
 */
export function subscriberHeaders(headers: DittoHeaders): DittoHeaders {
  const requested = headers['requested-acks'];
  if (requested === undefined) return headers;
  const { 'requested-acks': _dropped, ...rest } = headers;
  const custom = headerList(requested).filter((label) => !BUILT_IN_ACK_LABELS.has(label));
  return custom.length === 0 ? rest : { ...rest, 'requested-acks': custom.join(',') };
}

/** §4.6 aggregated status: a single ack keeps its status; otherwise 200 if all are 2xx, else 424. */
export function aggregateAckStatus(acks: ReadonlyArray<Pick<Acknowledgement, 'status'>>): number {
  if (acks.length === 1) return acks[0].status;
  return acks.every((a) => a.status >= 200 && a.status < 300) ? 200 : 424;
}

function expectAcks(msg: ProtocolMessage): { thingId: string; channel: Channel } {
  const { topic } = msg;
  if (topic.group !== 'things' || topic.criterion !== 'acks' || topic.channel === undefined) {
    throw unknownTopicPath({ topic: formatTopic(topic) }, { description: 'Expected a things acks topic.' });
  }
  if (!msg.headers['correlation-id']) throw ackCorrelationIdMissing();
  if (msg.status === undefined) throw illegalAdaptable({ detail: 'An acknowledgement needs a status.' });
  return { thingId: thingIdOf(topic), channel: topic.channel };
}

/**
 * A single acknowledgement issued by a subscriber (WebSocket client, connection). Errors:
 * `acknowledgement:correlation-id.missing`, `acknowledgement:ditto.acklabel.forbidden`,
 * `acknowledgement:label.invalid`, `protocoladapter:illegal.adaptable` (no status).
 */
export function toAcknowledgement(msg: ProtocolMessage, options: AckParseOptions = {}): Acknowledgement {
  const { thingId, channel } = expectAcks(msg);
  const label = msg.topic.label;
  if (label === undefined) {
    throw unknownTopicPath(
      { topic: formatTopic(msg.topic) },
      { description: 'A single acknowledgement needs a label.' },
    );
  }
  checkIssuedLabel(label, options);
  const ack: Acknowledgement = {
    thingId,
    channel,
    label,
    status: msg.status as number,
    headers: msg.headers,
  };
  if (msg.value !== undefined) ack.payload = msg.value;
  return ack;
}

export function fromAcknowledgement(ack: Acknowledgement): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: { ...thingTopic(ack.thingId, ack.channel, 'acks'), label: ack.label },
    headers: ack.headers,
    path: '/',
    status: ack.status,
  };
  if (ack.payload !== undefined) msg.value = ack.payload;
  return msg;
}

/** Aggregated acknowledgements; the labels inside are not checked against the built-in list (Ditto sends them). */
export function toAcknowledgements(msg: ProtocolMessage): Acknowledgements {
  const { thingId, channel } = expectAcks(msg);
  if (msg.topic.label !== undefined) {
    throw unknownTopicPath(
      { topic: formatTopic(msg.topic) },
      { description: 'Aggregated acknowledgements have no label.' },
    );
  }
  if (!isPlainObject(msg.value))
    throw illegalAdaptable({ detail: 'The value of acknowledgements must be a JSON object.' });
  const acknowledgements: Acknowledgement[] = [];
  for (const [label, entry] of Object.entries(msg.value)) {
    if (!ACK_LABEL.test(label)) throw ackLabelInvalid({ label });
    if (!isPlainObject(entry) || !Number.isInteger(entry.status)) {
      throw illegalAdaptable({ detail: `The acknowledgement '${label}' needs an integer status.` });
    }
    if (entry.headers !== undefined && !isPlainObject(entry.headers)) {
      throw illegalAdaptable({ detail: `The headers of acknowledgement '${label}' must be a JSON object.` });
    }
    const ack: Acknowledgement = {
      thingId,
      channel,
      label,
      status: entry.status as number,
      headers: entry.headers === undefined ? {} : parseHeaders(entry.headers as Record<string, unknown>),
    };
    if (entry.payload !== undefined) ack.payload = entry.payload;
    acknowledgements.push(ack);
  }
  return { thingId, channel, status: msg.status as number, acknowledgements, headers: msg.headers };
}

/** Renders aggregated acknowledgements (A.6 shape inside `value`). */
export function fromAcknowledgements(acks: Acknowledgements): ProtocolMessage {
  const value: Record<string, unknown> = {};
  for (const ack of acks.acknowledgements) {
    const entry: Record<string, unknown> = { status: ack.status };
    if (ack.payload !== undefined) entry.payload = ack.payload;
    entry.headers = renderHeaders(ack.headers);
    value[ack.label] = entry;
  }
  return {
    topic: thingTopic(acks.thingId, acks.channel, 'acks'),
    headers: acks.headers,
    path: '/',
    value,
    status: acks.status,
  };
}
