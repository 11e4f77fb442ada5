/**
 * Thing commands, responses and events ↔ Ditto Protocol (ditto-interfaces.md §4.3, §10 live channel).
 * The same functions serve the twin and the live channel; the channel is taken from / put into the topic.
 */
import { isDittoError } from '../errors/ditto-error.js';
import { jsonFieldMissing } from '../errors/general.js';
import { illegalAdaptable, unknownCommand, unknownPath, unknownTopicPath } from '../errors/protocol.js';
import { thingIdInvalid, thingIdsMissing, thingPathInvalid } from '../errors/things.js';
import { parseNamespacedId } from '../model/ids.js';
import type {
  Channel,
  RetrieveThings,
  RetrieveThingsResponse,
  ThingCommand,
  ThingCommandAction,
  ThingCommandResponse,
  ThingEvent,
  ThingEventAction,
} from '../model/signals.js';
import { thingResourceAt } from '../model/thing.js';
import { isPlainObject } from '../util/json-pointer.js';
import type { ProtocolMessage } from './message.js';
import { formatTopic, WILDCARD, type TopicPath } from './topic.js';
import { extended } from '../util/objects.js';

export const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';

const COMMAND_ACTIONS: readonly string[] = ['create', 'retrieve', 'modify', 'merge', 'delete'];
const EVENT_ACTIONS: readonly string[] = ['created', 'modified', 'merged', 'deleted'];

/** The topic of a thing signal: `{ns}/{name}/things/{channel}/{criterion}[/{action}]`. */
export function thingTopic(
  thingId: string,
  channel: Channel,
  criterion: TopicPath['criterion'],
  action?: string,
): TopicPath {
  const colon = thingId.indexOf(':');
  const topic: TopicPath = {
    namespace: colon < 0 ? '' : thingId.slice(0, colon),
    name: colon < 0 ? thingId : thingId.slice(colon + 1),
    group: 'things',
    channel,
    criterion,
  };
  if (action !== undefined) topic.action = action;
  return topic;
}

/** `ns:name` of a thing topic, validated as a thing ID (§1.1) → `things:id.invalid`. */
export function thingIdOf(topic: TopicPath): string {
  const thingId = `${topic.namespace}:${topic.name}`;
  if (!parseNamespacedId(thingId)) throw thingIdInvalid({ id: thingId });
  return thingId;
}

/** Checks that `path` addresses a resource of a thing (§4.3) → `protocoladapter:unknown.path`. */
export function checkThingPath(path: string): void {
  try {
    thingResourceAt(path);
  } catch (e) {
    if (isDittoError(e) && e.error === thingPathInvalid.code) throw unknownPath({ path }, { cause: e });
    throw e;
  }
}

function expectThings(msg: ProtocolMessage, criterion: 'commands' | 'events'): Channel {
  const { topic } = msg;
  if (topic.group !== 'things' || topic.criterion !== criterion || topic.channel === undefined) {
    throw unknownTopicPath(
      { topic: formatTopic(topic) },
      { description: `Expected a things ${criterion} topic.` },
    );
  }
  return topic.channel;
}

/** True for `{ns}/_/things/{channel}/commands/retrieve` (or `_/_/…`) with `value.thingIds` (§4.2). */
export function isRetrieveThings(msg: ProtocolMessage): boolean {
  const { topic } = msg;
  return (
    topic.group === 'things' &&
    topic.criterion === 'commands' &&
    topic.action === 'retrieve' &&
    (topic.namespace === WILDCARD || topic.name === WILDCARD) &&
    isPlainObject(msg.value) &&
    'thingIds' in msg.value
  );
}

function commandAction(msg: ProtocolMessage): ThingCommandAction {
  const action = msg.topic.action ?? '';
  if (!COMMAND_ACTIONS.includes(action)) throw unknownCommand({ command: formatTopic(msg.topic) });
  return action as ThingCommandAction;
}

/**
 * A twin or live thing command (§4.3). Errors: `protocoladapter:unknown.command` (a response, `migrate`, a
 * multiple-thing retrieve), `protocoladapter:unknown.path`, `things:id.invalid`,
 * `protocoladapter:illegal.adaptable` (create/modify/merge without `value`).
 */
export function toThingCommand(msg: ProtocolMessage): ThingCommand {
  const channel = expectThings(msg, 'commands');
  const action = commandAction(msg);
  if (msg.status !== undefined) {
    throw unknownCommand(
      { command: formatTopic(msg.topic) },
      { description: 'A message with a status is a response.' },
    );
  }
  if (isRetrieveThings(msg)) {
    throw unknownCommand(
      { command: formatTopic(msg.topic) },
      { description: 'Retrieving several things is a RetrieveThings signal.' },
    );
  }
  const thingId = thingIdOf(msg.topic);
  // ditto: §4.3 `create` exists only for the whole thing
  if (action === 'create' && msg.path !== '/') throw unknownPath({ path: msg.path });
  checkThingPath(msg.path);
  const command: ThingCommand = { thingId, channel, action, path: msg.path, headers: msg.headers };
  if (action === 'create' || action === 'modify' || action === 'merge') {
    if (!('value' in msg)) throw illegalAdaptable({ detail: `A '${action}' command needs a 'value'.` });
    command.value = msg.value;
  }
  if (action === 'retrieve' && msg.fields !== undefined) command.fields = msg.fields;
  return command;
}

export function fromThingCommand(command: ThingCommand): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: thingTopic(command.thingId, command.channel, 'commands', command.action),
    headers: command.headers,
    path: command.path,
  };
  if (command.value !== undefined) msg.value = command.value;
  if (command.fields !== undefined) msg.fields = command.fields;
  return msg;
}

/** A response to a thing command, e.g. a live device answering a live command (§10). The status is required. */
export function toThingCommandResponse(msg: ProtocolMessage): ThingCommandResponse {
  const channel = expectThings(msg, 'commands');
  const action = commandAction(msg);
  if (msg.status === undefined) throw illegalAdaptable({ detail: 'A command response needs a status.' });
  const thingId = thingIdOf(msg.topic);
  checkThingPath(msg.path);
  const response: ThingCommandResponse = {
    thingId,
    channel,
    action,
    path: msg.path,
    status: msg.status,
    headers: msg.headers,
  };
  if ('value' in msg) response.value = msg.value;
  return response;
}

function isErrorJson(value: unknown): boolean {
  return isPlainObject(value) && typeof value.error === 'string' && typeof value.message === 'string';
}

/** §4.3: the command's topic (criterion stays `commands`), its path, `status`, and `value` only when present. */
export function fromThingCommandResponse(response: ThingCommandResponse): ProtocolMessage {
  // ditto: §4.2 errors travel on the `errors` criterion, never as a command response
  const isError = response.status >= 400 && isErrorJson(response.value);
  const msg: ProtocolMessage = {
    topic: isError
      ? thingTopic(response.thingId, response.channel, 'errors')
      : thingTopic(response.thingId, response.channel, 'commands', response.action),
    headers: response.headers,
    path: response.path,
    status: response.status,
  };
  if (response.value !== undefined) msg.value = response.value;
  return msg;
}

/**
 * A thing event (§4.3, §14 items 6, 12) on the twin or live channel: criterion `events`, `revision`,
 * `timestamp`; merged events carry `content-type: application/merge-patch+json` and the patch as value.
 */
export function fromThingEvent(event: ThingEvent): ProtocolMessage {
  const headers =
    event.action === 'merged'
      ? extended(event.headers, { 'content-type': MERGE_PATCH_CONTENT_TYPE })
      : event.headers;
  const msg: ProtocolMessage = {
    topic: thingTopic(event.thingId, event.channel, 'events', event.action),
    headers,
    path: event.path,
  };
  if (event.value !== undefined && event.action !== 'deleted') msg.value = event.value;
  msg.revision = event.revision;
  msg.timestamp = event.timestamp;
  return msg;
}

/**
 * A thing event from the protocol, typically a live event sent by a device (§10). `revision` is required
 * (`json.field.missing`, as Ditto); a missing `timestamp` becomes the time of receipt.
 */
export function toThingEvent(msg: ProtocolMessage, now: () => Date = () => new Date()): ThingEvent {
  const channel = expectThings(msg, 'events');
  const action = msg.topic.action ?? '';
  if (!EVENT_ACTIONS.includes(action)) throw unknownCommand({ command: formatTopic(msg.topic) });
  const thingId = thingIdOf(msg.topic);
  checkThingPath(msg.path);
  if (msg.revision === undefined) throw jsonFieldMissing({ field: 'revision' });
  const event: ThingEvent = {
    thingId,
    channel,
    action: action as ThingEventAction,
    path: msg.path,
    revision: msg.revision,
    timestamp: msg.timestamp ?? now().toISOString(),
    headers: msg.headers,
  };
  if (action !== 'deleted') {
    if (!('value' in msg)) throw illegalAdaptable({ detail: `A '${action}' event needs a 'value'.` });
    event.value = msg.value;
  }
  return event;
}

// ---- retrieve of several things (§4.2 wildcards) ----

/** `{ns}/_/things/{channel}/commands/retrieve` with `value: {"thingIds": [...]}` and optional `fields`. */
export function toRetrieveThings(msg: ProtocolMessage): RetrieveThings {
  const channel = expectThings(msg, 'commands');
  if (!isRetrieveThings(msg)) throw unknownCommand({ command: formatTopic(msg.topic) });
  if (msg.status !== undefined) {
    throw unknownCommand(
      { command: formatTopic(msg.topic) },
      { description: 'A message with a status is a response.' },
    );
  }
  if (msg.path !== '/') throw unknownPath({ path: msg.path });
  const ids = (msg.value as Record<string, unknown>).thingIds;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw illegalAdaptable({ detail: "'thingIds' must be a JSON array of strings." });
  }
  if (ids.length === 0) throw thingIdsMissing();
  for (const id of ids) if (!parseNamespacedId(id)) throw thingIdInvalid({ id });
  const command: RetrieveThings = { channel, thingIds: ids as string[], headers: msg.headers };
  if (msg.topic.namespace !== WILDCARD) command.namespace = msg.topic.namespace;
  if (msg.fields !== undefined) command.fields = msg.fields;
  return command;
}

function retrieveThingsTopic(namespace: string | undefined, channel: Channel): TopicPath {
  return {
    namespace: namespace ?? WILDCARD,
    name: WILDCARD,
    group: 'things',
    channel,
    criterion: 'commands',
    action: 'retrieve',
  };
}

export function fromRetrieveThings(command: RetrieveThings): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: retrieveThingsTopic(command.namespace, command.channel),
    headers: command.headers,
    path: '/',
    value: { thingIds: command.thingIds },
  };
  if (command.fields !== undefined) msg.fields = command.fields;
  return msg;
}

/** The response keeps the wildcard topic; `value` is the array of things (§4.2). */
export function fromRetrieveThingsResponse(response: RetrieveThingsResponse): ProtocolMessage {
  return {
    topic: retrieveThingsTopic(response.namespace, response.channel),
    headers: response.headers,
    path: '/',
    value: response.things,
    status: response.status,
  };
}

export function toRetrieveThingsResponse(msg: ProtocolMessage): RetrieveThingsResponse {
  const channel = expectThings(msg, 'commands');
  const { topic } = msg;
  if (topic.action !== 'retrieve' || topic.name !== WILDCARD)
    throw unknownCommand({ command: formatTopic(topic) });
  if (msg.status === undefined) throw illegalAdaptable({ detail: 'A command response needs a status.' });
  if (!Array.isArray(msg.value))
    throw illegalAdaptable({ detail: 'The value of a RetrieveThings response must be an array.' });
  const response: RetrieveThingsResponse = {
    channel,
    status: msg.status,
    things: msg.value,
    headers: msg.headers,
  };
  if (topic.namespace !== WILDCARD) response.namespace = topic.namespace;
  return response;
}
