/**
 * What the runtime needs of the mapper registry (src/mapping/registry.ts); the composition root injects
 * `createMapperRegistry` and `validateMappingDefinitions`, so this module only names the contract.
 */
import type { DittoError } from '../errors/ditto-error.js';
import type { AuthContext } from '../auth/context.js';
import type { LiveOutcome, LiveResponse } from '../live/router.js';
import type { StreamingCommand, ThingCommand, ThingEvent, ThingMessage } from '../model/signals.js';
import type { ProtocolMessage } from '../protocol/index.js';
import type { ExternalMessage, IncomingOutcome, ProtocolJson } from '../mapping/types.js';
import type { StreamKind, Subscriber, Subscription } from '../streaming/subscription.js';

export type { ExternalMessage, ProtocolJson };

export type MappingResult<T> = { mapper: string; result: T[] } | { mapper: string; error: DittoError };

export interface MapperRegistry {
  /** payloadMapping: the source's list (default ['Ditto']); conditions, limits and fan-out are the registry's. */
  /** `options.authorizationSubject`: the source's first subject (`{{ request:subjectId }}` in mappers). */
  /** Each result comes parsed too (`messages`): every mapper's output is validated as Ditto Protocol. */
  /** The outcomes directly when every mapper answered synchronously (the built-in ones), else a promise of them. */
  mapIncoming(
    payloadMapping: readonly string[] | undefined,
    message: ExternalMessage,
    options?: { authorizationSubject?: string },
  ):
    | Array<IncomingOutcome | { mapper: string; error: DittoError }>
    | Promise<Array<IncomingOutcome | { mapper: string; error: DittoError }>>;
  /** `text`: `message` as JSON text when the caller has it (a delivery rendered once per shape, not per target). */
  mapOutgoing(
    payloadMapping: readonly string[] | undefined,
    message: ProtocolJson,
    text?: string,
  ): Array<MappingResult<ExternalMessage>> | Promise<Array<MappingResult<ExternalMessage>>>;
  close(): Promise<void>;
}

export interface MappingPort {
  createMapperRegistry(
    definitions: Record<string, unknown> | undefined,
    context: { connectionId: string },
  ): Promise<MapperRegistry>;
  validateMappingDefinitions(definitions: unknown, usedIds: readonly string[]): void;
}

/**
 * What the runtime needs of the acknowledgement router (src/acks): declaring the labels a target issues,
 * waiting for labels a source requests, issuing acknowledgements (§9).
 */
export interface AckPort {
  /** `weakAckKinds`: see AckRouter.declare (connection sources: none; targets: all, the default). */
  declare(labels: readonly string[], owner: object, weakAckKinds?: readonly StreamKind[]): void;
  release(owner: object): void;
  expect(
    thingId: string,
    channel: 'twin' | 'live',
    labels: readonly string[],
    timeoutMs: number,
    headers: Record<string, string>,
  ): { done: Promise<{ status: number }>; finish(): void };
  issue(
    ack: {
      thingId: string;
      channel: 'twin' | 'live';
      label: string;
      status: number;
      payload?: unknown;
      headers: Record<string, string>;
    },
    owner: object,
  ): void;
}

/**
 * What targets need of the streaming registry (src/streaming/registry.ts): they subscribe to twin events,
 * live signals and policy announcements like WebSocket sessions (the same READ enforcement, namespaces,
 * filter and extraFields, rendered once per shape for all of them).
 */
export interface SubscriberPort {
  subscribe(subscriber: Subscriber, subscription: Subscription): void;
  remove(subscriber: Subscriber): void;
}

/**
 * What the runtime needs of the live channel (src/live router; §2.6, §10): responses from devices or HTTP
 * endpoints go to the waiting requester, and devices send live messages, commands and events with their
 * source's subjects.
 */
export interface LivePort {
  /** Returns whether a request was waiting for the response (first one wins). */
  respond(response: LiveResponse): boolean;
  sendMessage(message: ThingMessage, auth: AuthContext, timeoutMs: number): Promise<LiveOutcome>;
  sendCommand(command: ThingCommand, auth: AuthContext, timeoutMs: number): Promise<LiveOutcome>;
  sendEvent(event: ThingEvent, auth: AuthContext): Promise<void>;
}

/**
 * What the runtime needs of the streaming subscription protocol (history, src/history/subscriptions.ts): a
 * handler per source, opened on the source's first streaming command; its answers go through `send`.
 */
export interface StreamingPort {
  open(
    send: (message: ProtocolMessage, via: StreamingCommand, failed: boolean) => void | Promise<void>,
  ): StreamingHandler;
}

export interface StreamingHandler {
  /** Throws `streaming.subscription.protocol.error` when the source holds too many subscriptions. */
  handle(command: StreamingCommand & { path: string }, auth: AuthContext): void;
  close(): void;
}
