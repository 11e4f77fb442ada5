/**
 * One entry point for transports (WebSocket, connections, mappers): a parsed ProtocolMessage → the typed
 * signal its topic names, and back. Each kind is converted by its module; this file only dispatches.
 */
import { unknownSignal } from '../errors/protocol.js';
import type {
  Acknowledgement,
  Acknowledgements,
  ConnectionAnnouncement,
  ErrorResponse,
  PolicyAnnouncement,
  PolicyCommand,
  PolicyCommandResponse,
  RetrieveThings,
  RetrieveThingsResponse,
  SearchCommand,
  SearchEvent,
  StreamingCommand,
  StreamingEvent,
  ThingCommand,
  ThingCommandResponse,
  ThingEvent,
  ThingMessage,
} from '../model/signals.js';
import {
  fromAcknowledgement,
  fromAcknowledgements,
  toAcknowledgement,
  toAcknowledgements,
  type AckParseOptions,
} from './acks.js';
import { fromErrorResponse, toErrorResponse } from './errors.js';
import type { ProtocolMessage } from './message.js';
import { fromThingMessage, toThingMessage } from './messages.js';
import {
  fromConnectionAnnouncement,
  fromPolicyAnnouncement,
  fromPolicyCommand,
  fromPolicyCommandResponse,
  toConnectionAnnouncement,
  toPolicyAnnouncement,
  toPolicyCommand,
  toPolicyCommandResponse,
} from './policies.js';
import { fromSearchCommand, fromSearchEvent, toSearchCommand, toSearchEvent } from './search.js';
import {
  fromStreamingCommand,
  fromStreamingEvent,
  toStreamingCommand,
  toStreamingEvent,
} from './streaming.js';
import {
  fromRetrieveThings,
  fromRetrieveThingsResponse,
  fromThingCommand,
  fromThingCommandResponse,
  fromThingEvent,
  isRetrieveThings,
  toRetrieveThings,
  toRetrieveThingsResponse,
  toThingCommand,
  toThingCommandResponse,
  toThingEvent,
} from './things.js';
import { formatTopic, WILDCARD } from './topic.js';

export type AdaptedSignal =
  | { kind: 'thing.command'; signal: ThingCommand }
  | { kind: 'thing.response'; signal: ThingCommandResponse }
  | { kind: 'thing.event'; signal: ThingEvent }
  | { kind: 'things.retrieve'; signal: RetrieveThings }
  | { kind: 'things.retrieve.response'; signal: RetrieveThingsResponse }
  | { kind: 'thing.message'; signal: ThingMessage }
  | { kind: 'ack'; signal: Acknowledgement }
  | { kind: 'acks'; signal: Acknowledgements }
  | { kind: 'error'; signal: ErrorResponse }
  | { kind: 'policy.command'; signal: PolicyCommand }
  | { kind: 'policy.response'; signal: PolicyCommandResponse }
  | { kind: 'policy.announcement'; signal: PolicyAnnouncement }
  | { kind: 'connection.announcement'; signal: ConnectionAnnouncement }
  | { kind: 'search.command'; signal: SearchCommand }
  | { kind: 'search.event'; signal: SearchEvent }
  | { kind: 'streaming.command'; signal: StreamingCommand & { path: string } }
  | { kind: 'streaming.event'; signal: StreamingEvent };

const SEARCH_COMMANDS = new Set(['subscribe', 'request', 'cancel']);
const STREAMING_COMMANDS = new Set(['subscribeForPersistedEvents', 'request', 'cancel']);

/**
 * The typed signal of a message. A `status` marks responses (§4.1). Throws the conversion's error, or
 * `protocoladapter:unknown.signal` for topics with no signal here (policy events, migrate).
 */
export function toSignal(msg: ProtocolMessage, options: AckParseOptions = {}): AdaptedSignal {
  const { topic } = msg;
  const response = msg.status !== undefined;
  switch (topic.criterion) {
    case 'commands':
      if (topic.group === 'policies') {
        return response
          ? { kind: 'policy.response', signal: toPolicyCommandResponse(msg) }
          : { kind: 'policy.command', signal: toPolicyCommand(msg) };
      }
      if (topic.action === 'retrieve' && topic.name === WILDCARD && response) {
        return { kind: 'things.retrieve.response', signal: toRetrieveThingsResponse(msg) };
      }
      if (isRetrieveThings(msg)) return { kind: 'things.retrieve', signal: toRetrieveThings(msg) };
      return response
        ? { kind: 'thing.response', signal: toThingCommandResponse(msg) }
        : { kind: 'thing.command', signal: toThingCommand(msg) };
    case 'events':
      if (topic.group === 'things') return { kind: 'thing.event', signal: toThingEvent(msg) };
      break;
    case 'messages':
      return { kind: 'thing.message', signal: toThingMessage(msg) };
    case 'acks':
      return topic.label === undefined
        ? { kind: 'acks', signal: toAcknowledgements(msg) }
        : { kind: 'ack', signal: toAcknowledgement(msg, options) };
    case 'errors':
      return { kind: 'error', signal: toErrorResponse(msg) };
    case 'announcements':
      return topic.group === 'connections'
        ? { kind: 'connection.announcement', signal: toConnectionAnnouncement(msg) }
        : { kind: 'policy.announcement', signal: toPolicyAnnouncement(msg) };
    case 'search':
      return SEARCH_COMMANDS.has(topic.action ?? '')
        ? { kind: 'search.command', signal: toSearchCommand(msg) }
        : { kind: 'search.event', signal: toSearchEvent(msg) };
    case 'streaming':
      return STREAMING_COMMANDS.has(topic.action ?? '')
        ? { kind: 'streaming.command', signal: toStreamingCommand(msg) }
        : { kind: 'streaming.event', signal: toStreamingEvent(msg) };
  }
  throw unknownSignal({ signal: formatTopic(topic) });
}

/** The protocol message of a typed signal (the inverse of `toSignal`). */
export function fromSignal(adapted: AdaptedSignal): ProtocolMessage {
  switch (adapted.kind) {
    case 'thing.command':
      return fromThingCommand(adapted.signal);
    case 'thing.response':
      return fromThingCommandResponse(adapted.signal);
    case 'thing.event':
      return fromThingEvent(adapted.signal);
    case 'things.retrieve':
      return fromRetrieveThings(adapted.signal);
    case 'things.retrieve.response':
      return fromRetrieveThingsResponse(adapted.signal);
    case 'thing.message':
      return fromThingMessage(adapted.signal);
    case 'ack':
      return fromAcknowledgement(adapted.signal);
    case 'acks':
      return fromAcknowledgements(adapted.signal);
    case 'error':
      return fromErrorResponse(adapted.signal);
    case 'policy.command':
      return fromPolicyCommand(adapted.signal);
    case 'policy.response':
      return fromPolicyCommandResponse(adapted.signal);
    case 'policy.announcement':
      return fromPolicyAnnouncement(adapted.signal);
    case 'connection.announcement':
      return fromConnectionAnnouncement(adapted.signal);
    case 'search.command':
      return fromSearchCommand(adapted.signal);
    case 'search.event':
      return fromSearchEvent(adapted.signal);
    case 'streaming.command':
      return fromStreamingCommand(adapted.signal, adapted.signal.path);
    case 'streaming.event':
      return fromStreamingEvent(adapted.signal);
  }
}
