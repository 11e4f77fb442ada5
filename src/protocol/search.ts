/**
 * The search protocol ↔ Ditto Protocol (ditto-interfaces.md §4.5, schemas `protocol-search-*.json`):
 * `_/_/things/twin/search/{subscribe|request|cancel}` from clients, `…/{created|next|complete|failed}` to them.
 * Path is always `/`.
 */
import type { DittoError } from '../errors/ditto-error.js';
import { illegalAdaptable, unknownCommand, unknownTopicPath } from '../errors/protocol.js';
import type { DittoHeaders, SearchCommand, SearchEvent } from '../model/signals.js';
import { isPlainObject } from '../util/json-pointer.js';
import type { ProtocolMessage } from './message.js';
import { formatTopic, WILDCARD, type TopicPath } from './topic.js';

function searchTopic(action: string): TopicPath {
  return {
    namespace: WILDCARD,
    name: WILDCARD,
    group: 'things',
    channel: 'twin',
    criterion: 'search',
    action,
  };
}

function searchValue(msg: ProtocolMessage): Record<string, unknown> {
  if (msg.topic.criterion !== 'search') {
    throw unknownTopicPath({ topic: formatTopic(msg.topic) }, { description: 'Expected a search topic.' });
  }
  const value = msg.value ?? {};
  if (!isPlainObject(value))
    throw illegalAdaptable({ detail: 'The value of a search message must be a JSON object.' });
  return value;
}

function subscriptionIdOf(value: Record<string, unknown>): string {
  if (typeof value.subscriptionId !== 'string' || value.subscriptionId === '') {
    throw illegalAdaptable({ detail: "A search message needs a 'subscriptionId' string." });
  }
  return value.subscriptionId;
}

const optionalString = (value: Record<string, unknown>, field: string): string | undefined => {
  const v = value[field];
  if (v !== undefined && typeof v !== 'string')
    throw illegalAdaptable({ detail: `The search '${field}' must be a string.` });
  return v;
};

/**
 * A search command from a client. Errors: `protocoladapter:unknown.command` (a Ditto → client action),
 * `protocoladapter:illegal.adaptable` (value not matching protocol-search-*-payload.json; demand not a
 * positive integer). The RQL in `filter`/`options` is not parsed here.
 */
export function toSearchCommand(msg: ProtocolMessage): SearchCommand {
  const value = searchValue(msg);
  const { headers } = msg;
  switch (msg.topic.action) {
    case 'subscribe': {
      const command: SearchCommand = { type: 'subscribe', headers };
      const filter = optionalString(value, 'filter');
      const options = optionalString(value, 'options');
      if (filter !== undefined) command.filter = filter;
      if (options !== undefined) command.options = options;
      if (value.namespaces !== undefined) {
        const ns = value.namespaces;
        if (!Array.isArray(ns) || ns.some((n) => typeof n !== 'string')) {
          throw illegalAdaptable({ detail: "The search 'namespaces' must be an array of strings." });
        }
        command.namespaces = ns as string[];
      }
      if (msg.fields !== undefined) command.fields = msg.fields;
      return command;
    }
    case 'request': {
      const subscriptionId = subscriptionIdOf(value);
      const demand = value.demand;
      if (typeof demand !== 'number' || !Number.isSafeInteger(demand) || demand < 1) {
        throw illegalAdaptable({ detail: "The search 'demand' must be a positive integer." });
      }
      return { type: 'request', subscriptionId, demand, headers };
    }
    case 'cancel':
      return { type: 'cancel', subscriptionId: subscriptionIdOf(value), headers };
    default:
      throw unknownCommand({ command: formatTopic(msg.topic) });
  }
}

export function fromSearchCommand(command: SearchCommand): ProtocolMessage {
  const msg: ProtocolMessage = { topic: searchTopic(command.type), headers: command.headers, path: '/' };
  if (command.type === 'subscribe') {
    const value: Record<string, unknown> = {};
    if (command.filter !== undefined) value.filter = command.filter;
    if (command.options !== undefined) value.options = command.options;
    if (command.namespaces !== undefined) value.namespaces = command.namespaces;
    if (command.fields !== undefined) msg.fields = command.fields;
    msg.value = value;
  } else if (command.type === 'request') {
    msg.value = { subscriptionId: command.subscriptionId, demand: command.demand };
  } else {
    msg.value = { subscriptionId: command.subscriptionId };
  }
  return msg;
}

/** Renders a search event for a client: created/complete `{subscriptionId}`, next `{…, items}`, failed `{…, error}`. */
export function fromSearchEvent(event: SearchEvent): ProtocolMessage {
  const value: Record<string, unknown> = { subscriptionId: event.subscriptionId };
  if (event.type === 'next') value.items = event.items;
  if (event.type === 'failed') value.error = event.error;
  return { topic: searchTopic(event.type), headers: event.headers, path: '/', value };
}

/** Convenience for the search service: a `failed` event carrying a DittoError. */
export function searchFailed(subscriptionId: string, error: DittoError, headers: DittoHeaders): SearchEvent {
  return { type: 'failed', subscriptionId, error: error.toJSON(), headers };
}

/** Reads a search event (used by clients of Twinbridge and by tests). */
export function toSearchEvent(msg: ProtocolMessage): SearchEvent {
  const value = searchValue(msg);
  const subscriptionId = subscriptionIdOf(value);
  const { headers } = msg;
  switch (msg.topic.action) {
    case 'created':
    case 'complete':
      return { type: msg.topic.action, subscriptionId, headers };
    case 'next':
      if (!Array.isArray(value.items))
        throw illegalAdaptable({ detail: "A search 'next' needs an 'items' array." });
      return { type: 'next', subscriptionId, items: value.items, headers };
    case 'failed': {
      const error = value.error;
      if (
        !isPlainObject(error) ||
        !Number.isInteger(error.status) ||
        typeof error.error !== 'string' ||
        typeof error.message !== 'string'
      ) {
        throw illegalAdaptable({ detail: "A search 'failed' needs an error JSON." });
      }
      return {
        type: 'failed',
        subscriptionId,
        error: error as { status: number; error: string; message: string },
        headers,
      };
    }
    default:
      throw unknownCommand({ command: formatTopic(msg.topic) });
  }
}
