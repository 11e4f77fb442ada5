/**
 * Live messages ↔ Ditto Protocol (ditto-interfaces.md §4.4):
 * topic `{ns}/{name}/things/live/messages/{subject}`, path `[/features/{fid}]/{inbox|outbox}/messages/{subject}`.
 * A message needs a `content-type` header; a response (with `status`) needs one when it carries a value.
 */
import { headerInvalid } from '../errors/general.js';
import { invalidPath, unknownTopicPath } from '../errors/protocol.js';
import type { ThingMessage } from '../model/signals.js';
import type { ProtocolMessage } from './message.js';
import { formatTopic } from './topic.js';
import { thingIdOf, thingTopic } from './things.js';

/** The subject of claim messages; thing level only (§4.4). */
export const CLAIM_SUBJECT = 'claim';

const FEATURE_PREFIX = '/features/';

/** The message path of a ThingMessage. */
export function messagePath(message: Pick<ThingMessage, 'featureId' | 'direction' | 'subject'>): string {
  const mailbox = message.direction === 'to' ? 'inbox' : 'outbox';
  const feature = message.featureId === undefined ? '' : FEATURE_PREFIX + message.featureId;
  return `${feature}/${mailbox}/messages/${message.subject}`;
}

/**
 * Reads a live message or message response. Errors: `protocoladapter:unknown.topicpath` (not a messages
 * topic), `protocoladapter:invalid.path` (path not matching the topic subject, claim to a feature),
 * `header.invalid` (no content-type), `things:id.invalid`.
 */
export function toThingMessage(msg: ProtocolMessage): ThingMessage {
  const { topic } = msg;
  if (topic.group !== 'things' || topic.criterion !== 'messages' || topic.subject === undefined) {
    throw unknownTopicPath({ topic: formatTopic(topic) }, { description: 'Expected a live messages topic.' });
  }
  const thingId = thingIdOf(topic);
  const subject = topic.subject;
  const { featureId, direction } = parseMessagePath(msg.path, subject);
  if (subject === CLAIM_SUBJECT && featureId !== undefined) {
    throw invalidPath(
      { path: msg.path },
      { description: 'Claim messages can only be sent to a thing, not to a feature.' },
    );
  }
  const needsContentType = msg.status === undefined || msg.value !== undefined;
  if (needsContentType && !msg.headers['content-type']) {
    throw headerInvalid({
      name: 'content-type',
      detail: 'a message must declare the content-type of its value',
    });
  }
  const message: ThingMessage = { thingId, direction, subject, headers: msg.headers };
  if (featureId !== undefined) message.featureId = featureId;
  if (msg.value !== undefined) message.payload = msg.value;
  if (msg.status !== undefined) message.status = msg.status;
  return message;
}

// ditto: AbstractMessageMappingStrategies.validatePathForLiveMessages — the path must end with the subject.
function parseMessagePath(path: string, subject: string): Pick<ThingMessage, 'featureId' | 'direction'> {
  const fail = (): never => {
    throw invalidPath(
      { path },
      { description: `It should match the pattern: (/features/[^/]+)?/(inbox|outbox)/messages/${subject}` },
    );
  };
  let rest = path;
  let featureId: string | undefined;
  if (rest.startsWith(FEATURE_PREFIX)) {
    const end = rest.indexOf('/', FEATURE_PREFIX.length);
    if (end <= FEATURE_PREFIX.length) fail();
    featureId = rest.slice(FEATURE_PREFIX.length, end);
    rest = rest.slice(end);
  }
  let direction: ThingMessage['direction'] | undefined;
  if (rest === `/inbox/messages/${subject}`) direction = 'to';
  else if (rest === `/outbox/messages/${subject}`) direction = 'from';
  else return fail();
  return featureId === undefined ? { direction } : { featureId, direction };
}

/** Renders a live message (or its response when `status` is set). */
export function fromThingMessage(message: ThingMessage): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: { ...thingTopic(message.thingId, 'live', 'messages'), subject: message.subject },
    headers: message.headers,
    path: messagePath(message),
  };
  if (message.payload !== undefined) msg.value = message.payload;
  if (message.status !== undefined) msg.status = message.status;
  return msg;
}
