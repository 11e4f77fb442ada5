/**
 * What a target's endpoint answered to a signal (HTTP push; ditto-interfaces.md §9, §11.6), as the live
 * response or the acknowledgement it stands for (ditto: HttpPublisherActor.toCommandResponseOrAcknowledgement):
 *
 * - a body of content type `application/vnd.eclipse.ditto+json` holding a Ditto Protocol message response,
 *   live command response, error response or acknowledgement is that signal;
 * - else, with the target label `live-response`, the HTTP status and body become the response of a live
 *   message (a live command gets none: it needs a Ditto Protocol response);
 * - else, with a custom label, the HTTP status and body become the acknowledgement of that label.
 *
 * Bodies travel like message payloads (src/live/payload.ts): JSON content types as JSON, text as a string,
 * anything else as base64; the `content-type` header is kept.
 */
import { headerInvalid } from '../errors/general.js';
import { unknownSignal } from '../errors/protocol.js';
import type { LiveResponse } from '../live/router.js';
import { payloadOf } from '../live/payload.js';
import type { Acknowledgement, Channel, DittoHeaders, ThingCommand, ThingMessage } from '../model/signals.js';
import {
  DITTO_PROTOCOL_CONTENT_TYPE,
  formatTopic,
  parseProtocolMessage,
  toSignal,
} from '../protocol/index.js';
import type { WriteResponse } from './connector.js';

/** The signal a target published, as far as an answer refers to it. */
export interface SentSignal {
  thingId: string;
  channel: Channel;
  correlationId: string;
  /** The live message or live command a response answers; absent for events. */
  live?: { kind: 'message'; signal: ThingMessage } | { kind: 'command'; signal: ThingCommand };
}

export type Answer = { kind: 'response'; response: LiveResponse } | { kind: 'ack'; ack: Acknowledgement };

/**
 * The answer `response` stands for, or undefined when it stands for none (`live-response` to a live command
 * or an event, no label). Throws the DittoError of a Ditto Protocol body that cannot be used: not parsable,
 * not a response or acknowledgement (`protocoladapter:unknown.signal`), another `correlation-id`
 * (`header.invalid`).
 */
export function answerOf(
  sent: SentSignal,
  response: WriteResponse,
  label: string | undefined,
): Answer | undefined {
  const contentType = response.headers['content-type'];
  if ((contentType ?? '').split(';')[0].trim().toLowerCase() === DITTO_PROTOCOL_CONTENT_TYPE)
    return protocolAnswer(sent, response);
  if (label === undefined) return undefined;
  const payload = payloadOf(response.payload, contentType);
  const headers: DittoHeaders = { 'correlation-id': sent.correlationId };
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (label !== 'live-response') {
    const ack: Acknowledgement = {
      thingId: sent.thingId,
      channel: sent.channel,
      label,
      status: response.status,
      headers,
    };
    if (payload !== undefined) ack.payload = payload;
    return { kind: 'ack', ack };
  }
  if (sent.live?.kind !== 'message') return undefined;
  const { thingId, featureId, direction, subject } = sent.live.signal;
  const signal: ThingMessage = { thingId, direction, subject, status: response.status, headers };
  if (featureId !== undefined) signal.featureId = featureId;
  if (payload !== undefined) signal.payload = payload;
  return { kind: 'response', response: { kind: 'message', signal } };
}

function protocolAnswer(sent: SentSignal, response: WriteResponse): Answer {
  const msg = parseProtocolMessage(response.payload.toString('utf8'));
  const correlationId = msg.headers['correlation-id'];
  if (correlationId === undefined) msg.headers['correlation-id'] = sent.correlationId;
  else if (correlationId !== sent.correlationId) {
    throw headerInvalid({
      name: 'correlation-id',
      detail: `the answer's correlation-id <${correlationId}> is not the one of the published signal <${sent.correlationId}>`,
    });
  }
  const adapted = toSignal(msg);
  if (adapted.kind === 'ack') return { kind: 'ack', ack: adapted.signal };
  if (sent.live !== undefined) {
    if (adapted.kind === 'error')
      return { kind: 'response', response: { kind: 'error', signal: adapted.signal } };
    if (
      sent.live.kind === 'message' &&
      adapted.kind === 'thing.message' &&
      adapted.signal.status !== undefined
    ) {
      return { kind: 'response', response: { kind: 'message', signal: adapted.signal } };
    }
    if (
      sent.live.kind === 'command' &&
      adapted.kind === 'thing.response' &&
      adapted.signal.channel === 'live'
    ) {
      return { kind: 'response', response: { kind: 'command', signal: adapted.signal } };
    }
  }
  throw unknownSignal({ signal: formatTopic(msg.topic) });
}
