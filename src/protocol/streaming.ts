/**
 * The streaming subscription protocol ↔ Ditto Protocol (ditto: protocol-specification-streaming-subscription,
 * schemas `protocol-streaming-subscription-*.json`): `{ns}/{name}/things/twin/streaming/…` or
 * `{ns}/{name}/policies/streaming/…` with `subscribeForPersistedEvents`, `request`, `cancel` from clients and
 * `created`, `next`, `complete`, `failed` to them. The subscribe's path is the resource it streams (`/`).
 */
import { jsonFormatInvalid } from '../errors/general.js';
import { policyIdInvalid } from '../errors/policies.js';
import { unknownCommand } from '../errors/protocol.js';
import { parseNamespacedId } from '../model/ids.js';
import type { StreamingCommand, StreamingEvent } from '../model/signals.js';
import { isPlainObject } from '../util/json-pointer.js';
import type { ProtocolMessage } from './message.js';
import { checkThingPath, thingIdOf } from './things.js';
import { formatTopic, type TopicPath } from './topic.js';

const COMMANDS = new Set(['subscribeForPersistedEvents', 'request', 'cancel']);

/** ISO-8601 date-time with a zone, seconds optional (Java's Instant.parse accepts the same). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Epoch milliseconds of an ISO-8601 instant, or undefined when `text` is not one. */
export function parseInstant(text: string): number | undefined {
  if (!INSTANT.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

function entityOf(topic: TopicPath): { entityType: 'thing' | 'policy'; entityId: string } {
  if (topic.group === 'things') return { entityType: 'thing', entityId: thingIdOf(topic) };
  const entityId = `${topic.namespace}:${topic.name}`;
  if (!parseNamespacedId(entityId)) throw policyIdInvalid({ id: entityId });
  return { entityType: 'policy', entityId };
}

function streamingTopic(entityType: 'thing' | 'policy', entityId: string, action: string): TopicPath {
  const colon = entityId.indexOf(':');
  const namespace = colon < 0 ? '' : entityId.slice(0, colon);
  const name = colon < 0 ? entityId : entityId.slice(colon + 1);
  return entityType === 'thing'
    ? { namespace, name, group: 'things', channel: 'twin', criterion: 'streaming', action }
    : { namespace, name, group: 'policies', criterion: 'streaming', action };
}

const wrong = (field: string, type: string) =>
  jsonFormatInvalid({ detail: `The '${field}' of a streaming subscription command must be ${type}.` });

function subscriptionIdOf(value: Record<string, unknown>): string {
  if (typeof value.subscriptionId !== 'string' || value.subscriptionId === '')
    throw wrong('subscriptionId', 'a non-empty string');
  return value.subscriptionId;
}

/**
 * A streaming command from a client; `path` of the subscribe is returned as the resource to stream. Errors:
 * `protocoladapter:unknown.command` (an event topic), `things:id.invalid` / `policies:id.invalid`,
 * `protocoladapter:unknown.path`, `json.format.invalid` (a value not matching the payload schemas). A demand
 * that is not a positive integer is returned as is: the subscription answers it with `failed` (reactive
 * streams rule 3.9, as Ditto).
 */
export function toStreamingCommand(msg: ProtocolMessage): StreamingCommand & { path: string } {
  const action = msg.topic.action ?? '';
  if (msg.topic.criterion !== 'streaming' || !COMMANDS.has(action) || msg.status !== undefined) {
    throw unknownCommand({ command: formatTopic(msg.topic) });
  }
  const entity = entityOf(msg.topic);
  if (entity.entityType === 'thing') checkThingPath(msg.path);
  const value = msg.value ?? {};
  if (!isPlainObject(value)) throw wrong('value', 'a JSON object');
  const base = { ...entity, headers: msg.headers, path: msg.path };
  if (action === 'request') {
    if (typeof value.demand !== 'number') throw wrong('demand', 'a number');
    return { ...base, type: 'request', subscriptionId: subscriptionIdOf(value), demand: value.demand };
  }
  if (action === 'cancel') return { ...base, type: 'cancel', subscriptionId: subscriptionIdOf(value) };
  const command: StreamingCommand & { path: string } = { ...base, type: 'subscribeForPersistedEvents' };
  for (const field of ['fromHistoricalRevision', 'toHistoricalRevision'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw wrong(field, 'an integer');
    command[field] = v;
  }
  for (const field of ['fromHistoricalTimestamp', 'toHistoricalTimestamp'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || parseInstant(v) === undefined) throw wrong(field, 'an ISO-8601 date-time');
    command[field] = v;
  }
  if (value.filter !== undefined) {
    if (typeof value.filter !== 'string') throw wrong('filter', 'a string');
    command.filter = value.filter;
  }
  return command;
}

/** Renders a streaming command (used by clients of Twinbridge and by tests). */
export function fromStreamingCommand(command: StreamingCommand, path = '/'): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: streamingTopic(command.entityType, command.entityId, command.type),
    headers: command.headers,
    path,
  };
  if (command.type === 'request')
    msg.value = { subscriptionId: command.subscriptionId, demand: command.demand };
  else if (command.type === 'cancel') msg.value = { subscriptionId: command.subscriptionId };
  else {
    const value: Record<string, unknown> = {};
    for (const field of [
      'fromHistoricalRevision',
      'toHistoricalRevision',
      'fromHistoricalTimestamp',
      'toHistoricalTimestamp',
      'filter',
    ] as const) {
      if (command[field] !== undefined) value[field] = command[field];
    }
    msg.value = value;
  }
  return msg;
}

/** created/complete `{subscriptionId}`, next `{subscriptionId, item}`, failed `{subscriptionId, error}`; path `/`. */
export function fromStreamingEvent(event: StreamingEvent): ProtocolMessage {
  const value: Record<string, unknown> = { subscriptionId: event.subscriptionId };
  if (event.type === 'next') value.item = event.item;
  if (event.type === 'failed') value.error = event.error;
  return {
    topic: streamingTopic(event.entityType, event.entityId, event.type),
    headers: event.headers,
    path: '/',
    value,
  };
}

/** Reads a streaming event (clients of Twinbridge and tests). */
export function toStreamingEvent(msg: ProtocolMessage): StreamingEvent {
  const action = msg.topic.action ?? '';
  if (msg.topic.criterion !== 'streaming' || COMMANDS.has(action))
    throw unknownCommand({ command: formatTopic(msg.topic) });
  const value = isPlainObject(msg.value) ? msg.value : {};
  const base = { ...entityOf(msg.topic), subscriptionId: subscriptionIdOf(value), headers: msg.headers };
  switch (action) {
    case 'created':
    case 'complete':
      return { ...base, type: action };
    case 'next':
      if (!('item' in value)) throw wrong('item', 'present');
      return { ...base, type: 'next', item: value.item };
    default: {
      const error = value.error;
      if (
        !isPlainObject(error) ||
        typeof error.status !== 'number' ||
        typeof error.error !== 'string' ||
        typeof error.message !== 'string'
      ) {
        throw wrong('error', 'an error JSON');
      }
      return { ...base, type: 'failed', error: error as { status: number; error: string; message: string } };
    }
  }
}
