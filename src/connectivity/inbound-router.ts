/**
 * The router of a source's signals (§11.2, §11.3, §9, §10; STYLE "The path of one telemetry message"): what
 * one protocol message a mapper produced becomes, after header mapping and enforcement —
 *
 *   twin command → things.execute (resolves once durable) and the requested acknowledgements → reply target
 *   live message / live command → the live channel with the source's subjects; the answer → reply target
 *   live event → the live channel;   streaming subscription command → history streams → reply target
 *   a device's answer: acknowledgement (a label the source declared) → the acknowledgement router;
 *                      message response, live command response, live error → the waiting requester
 *
 * and its outcome for the pipeline (inbound.ts), which owns order, the in-flight cap and settling: 'done'
 * when applied or deliberately dropped (bad input: counted, logged, acknowledged so that it is not
 * redelivered forever), 'redeliver' after a retriable failure. Live signals are at most once.
 */
import { randomUUID } from 'node:crypto';
import type { AuthContext } from '../auth/context.js';
import { DittoError } from '../errors/ditto-error.js';
import { enforcementFailed, signalNotSupported } from '../errors/connectivity.js';
import { internalError } from '../errors/general.js';
import { liveResponseMessage, liveTimeoutError } from '../live/router.js';
import type { DittoHeaders, ThingCommand, ThingCommandResponse, ThingEvent } from '../model/signals.js';
import {
  connectionResolver,
  headerResolver,
  resolveFirst,
  resolveTemplate,
  sourceResolver,
  thingResolver,
  timeResolver,
  topicResolver,
  type PlaceholderResolver,
  type PlaceholderResolvers,
} from '../placeholders/index.js';
import {
  DEFAULT_TIMEOUT_MS,
  entityIdOf,
  errorToProtocol,
  formatTopic,
  fromThingCommandResponse,
  BUILT_IN_ACK_LABELS,
  headerList,
  isInternalHeader,
  messagePath,
  parseTimeout,
  renderProtocolMessage,
  toSignal,
  type AdaptedSignal,
  type ProtocolMessage,
} from '../protocol/index.js';
import { copyOf } from '../util/objects.js';
import type { AckPort, LivePort, MapperRegistry, StreamingHandler, StreamingPort } from './mapping-port.js';
import type { InboundMessage, OutboundMessage, TargetHandle } from './connector.js';
import type { ConnectivityEvents, InboundType, MessageEvent } from './events.js';
import { payloadOf } from './external.js';
import type { Source } from './model.js';
import { signalResolvers } from './signal-resolvers.js';
import type { OutboundWindow } from './window.js';

/** The outcome of one signal of a message: settled fine (incl. deliberate drop) or to be redelivered. */
export type Outcome = 'done' | 'redeliver';

export interface InboundRouterOptions {
  connectionId: string;
  source: Source;
  registry: MapperRegistry;
  execute: (command: ThingCommand, auth: AuthContext) => Promise<ThingCommandResponse>;
  events: ConnectivityEvents;
  /** Where replies go (a publisher of an open client), if any. */
  replyPublisher: () => TargetHandle | undefined;
  /** The in-flight window of the connection's replies. */
  replies: OutboundWindow;
  /** Waits for custom acknowledgement labels the source or the command requests (§9); optional. */
  acks?: AckPort;
  /** Where responses to live messages and live commands go (§10); optional. */
  live?: LivePort;
  /** History streams a device asks for (streaming subscription protocol), answered on the reply target; optional. */
  streaming?: StreamingPort;
  /** Who issues the acknowledgements of the source's `declaredAcks` (the object the runtime declared them for). */
  owner: object;
  log: (msg: string, err?: unknown) => void;
}

/** A settled promise shared by every reply that is not sent (most telemetry): no allocation per message. */
const NOT_SENT: Promise<void> = Promise.resolve();

/** The longest a device's live message or live command waits for its answer. */
const MAX_LIVE_TIMEOUT_MS = 60_000;

export class InboundRouter {
  private readonly label: string;
  /** The source's subjects when none has placeholders (the usual case): resolved once, not per message. */
  private readonly fixedSubjects: string[] | undefined;
  /** The source's streaming subscriptions, opened with its first streaming command. */
  private streaming: StreamingHandler | undefined;

  constructor(private readonly o: InboundRouterOptions) {
    this.label = o.source.addresses.join(',');
    const context = o.source.authorizationContext;
    this.fixedSubjects = context.every((t) => t.placeholders.length === 0)
      ? context.map((t) => t.text)
      : undefined;
  }

  /** Ends the source's streaming subscriptions (the connection closes). */
  close(): void {
    this.streaming?.close();
    this.streaming = undefined;
  }

  private emit(
    type: InboundType,
    success: boolean,
    message?: MessageEvent['message'],
    correlationId?: string,
    entityId?: string,
  ): void {
    this.o.events.emit('message', {
      connectionId: this.o.connectionId,
      address: this.label,
      direction: 'inbound',
      type,
      success,
      message,
      correlationId,
      entityId,
      at: Date.now(),
    });
  }

  /** Drops with a reason: counted as `dropped` failure, logged, and the message will be acked. */
  private drop(reason: string, correlationId?: string, entityId?: string): 'done' {
    this.emit('dropped', false, reason, correlationId, entityId);
    return 'done';
  }

  /**
   * One protocol message of a consumed message: header mapping, enforcement, then by kind of signal. Resolves
   * with its outcome (never rejects for bad input: that is a deliberate drop, 'done').
   */
  route(message: InboundMessage, msg: ProtocolMessage): Promise<Outcome> {
    const { source } = this.o;
    const entityId = entityIdOf(msg.topic);
    // §4.1: devices may not set internal headers; then header mapping adds to the mapped headers (§11.3).
    const headers: DittoHeaders = {};
    for (const k in msg.headers) if (!isInternalHeader(k)) headers[k] = msg.headers[k];
    if (source.headerMapping.length > 0) {
      const resolvers: PlaceholderResolvers = {
        header: headerResolver(message.headers),
        connection: connectionResolver(this.o.connectionId),
        time: timeResolver(),
        thing: thingResolver(entityId),
        entity: thingResolver(entityId),
        topic: topicResolver(msg.topic),
      };
      for (const { name, template } of source.headerMapping) {
        if (isInternalHeader(name)) continue;
        const value = resolveFirst(template, resolvers);
        if (value !== undefined) headers[name] = value;
      }
    }
    // Acknowledgements are correlated by ID; Ditto generates one when the device sent none.
    if (headers['correlation-id'] === undefined) headers['correlation-id'] = randomUUID();
    msg.headers = headers;
    const correlationId = headers['correlation-id'];
    if (source.enforcement) {
      const input = resolveFirst(source.enforcement.input, {
        header: headerResolver(message.headers),
        source: sourceResolver(message.address),
        connection: connectionResolver(this.o.connectionId),
      });
      const filterResolvers: PlaceholderResolvers = {
        thing: thingResolver(entityId),
        entity: thingResolver(entityId),
        connection: connectionResolver(this.o.connectionId),
      };
      const matches =
        input !== undefined &&
        source.enforcement.filters.some((f) => resolveFirst(f, filterResolvers) === input);
      if (!matches) {
        const err = enforcementFailed({ input: input ?? '', entityId: entityId ?? '' });
        this.emit('enforced', false, err.message, correlationId, entityId);
        return Promise.resolve(this.drop(`Dropped: ${err.message}`, correlationId, entityId));
      }
      this.emit('enforced', true, 'Enforcement passed.', correlationId, entityId);
    }
    let adapted: AdaptedSignal;
    try {
      adapted = toSignal(msg);
      const answer = deviceAnswerOf(adapted);
      if (answer) return Promise.resolve(this.answer(answer, correlationId, entityId));
      if (
        adapted.kind !== 'thing.command' &&
        adapted.kind !== 'thing.message' &&
        adapted.kind !== 'thing.event' &&
        adapted.kind !== 'streaming.command'
      )
        throw signalNotSupported({ topic: formatTopic(msg.topic) });
      // Twin events are the service's own; a device sends live events only.
      if (adapted.kind === 'thing.event' && adapted.signal.channel !== 'live')
        throw signalNotSupported({ topic: formatTopic(msg.topic) });
    } catch (err) {
      const error = this.asDittoError(err);
      return Promise.resolve(this.drop(`Dropped: ${error.message}`, correlationId, entityId));
    }
    const subjects = this.fixedSubjects ?? this.subjectsFor(headerResolver(message.headers));
    if (subjects.length === 0)
      return Promise.resolve(
        this.drop('Dropped: the authorization context resolved to no subject.', correlationId, entityId),
      );
    if (adapted.kind === 'thing.event')
      return this.sendLiveEvent(adapted.signal, { subjects }, correlationId);
    if (adapted.kind === 'streaming.command')
      return Promise.resolve(this.stream(adapted.signal, { subjects }, correlationId));
    if (adapted.kind === 'thing.message' || adapted.signal.channel === 'live')
      return this.sendLive(adapted, { subjects }, correlationId);
    const command = adapted.signal;
    let timeoutMs: number;
    try {
      timeoutMs = parseTimeout(headers['timeout'], DEFAULT_TIMEOUT_MS);
    } catch (err) {
      return Promise.resolve(this.refuse(command, err, correlationId));
    }
    // §9: custom labels requested by the source (acknowledgementRequests.includes) or the command itself;
    // `twin-persisted` is implied: execute resolves only once the write is durable.
    let custom = customAckLabels(source.acknowledgementRequests.includes, headers['requested-acks']);
    // The source's `acknowledgementRequests.filter` tripped (e.g. an MQTT QoS 0 message): no acknowledgements are requested.
    const ackFilter = source.acknowledgementRequests.filter;
    if (
      custom.length > 0 &&
      ackFilter !== undefined &&
      resolveTemplate(ackFilter, {
        header: headerResolver(message.headers),
        topic: topicResolver(msg.topic),
        connection: connectionResolver(this.o.connectionId),
      }).kind !== 'resolved'
    )
      custom = [];
    let aggregator: ReturnType<AckPort['expect']> | undefined;
    if (custom.length > 0 && this.o.acks && command.action !== 'retrieve') {
      try {
        aggregator = this.o.acks.expect(command.thingId, 'twin', custom, timeoutMs, headers);
      } catch (err) {
        const error = this.asDittoError(err);
        return Promise.resolve(this.drop(`Dropped: ${error.message}`, correlationId, entityId));
      }
    }
    return this.o.execute(command, { subjects }).then(
      (response): Outcome | Promise<Outcome> => {
        this.reply(command, () => fromThingCommandResponse(response), 'response');
        if (!aggregator) return 'done';
        return aggregator.done.then((acks) => {
          if (acks.status >= 200 && acks.status <= 299) return 'done';
          this.emit(
            'acknowledged',
            false,
            `Requested acknowledgements ${custom.join(', ')} failed with status ${acks.status}.`,
            correlationId,
            command.thingId,
          );
          return 'redeliver';
        });
      },
      (err: unknown) => {
        aggregator?.finish();
        const error = this.asDittoError(err, 'command failed');
        if (error.retriable) {
          this.reply(
            command,
            () =>
              errorToProtocol(error, {
                thingId: command.thingId,
                headers: command.headers,
                path: command.path,
              }),
            'error',
          );
          this.emit(
            'dropped',
            false,
            `Failed (will be redelivered): ${error.message}`,
            correlationId,
            command.thingId,
          );
          return 'redeliver' as const;
        }
        return this.refuse(command, error, correlationId);
      },
    );
  }

  /** A command that fails for good (bad input, no permission): the error goes to the reply target, the message is dropped. */
  private refuse(command: ThingCommand, err: unknown, correlationId: string): 'done' {
    const error = this.asDittoError(err, 'command failed');
    this.reply(
      command,
      () =>
        errorToProtocol(error, { thingId: command.thingId, headers: command.headers, path: command.path }),
      'error',
    );
    return this.drop(`Dropped: ${error.message}`, correlationId, command.thingId);
  }

  /** The source's subjects resolved with the message's headers (templates with placeholders). */
  private subjectsFor(external: PlaceholderResolver): string[] {
    const subjects: string[] = [];
    for (const t of this.o.source.authorizationContext) {
      const r = resolveTemplate(t, { header: external, connection: connectionResolver(this.o.connectionId) });
      if (r.kind === 'resolved') subjects.push(...r.values);
    }
    return subjects;
  }

  /**
   * A device's answer: an acknowledgement is issued as this source's (throws `acknowledgement:label.not.declared`
   * for a label the source did not declare, §9); a live response goes to the requester waiting for its
   * `correlation-id` (§10), and is dropped when none waits (answered already, timed out, or never asked).
   */
  private answer(adapted: DeviceAnswer, correlationId: string, entityId: string | undefined): Outcome {
    if (adapted.kind === 'ack') {
      if (!this.o.acks)
        return this.drop(
          'Dropped: acknowledgements are not routed by this service.',
          correlationId,
          entityId,
        );
      this.o.acks.issue(adapted.signal, this.o.owner);
      return 'done';
    }
    const response =
      adapted.kind === 'thing.message'
        ? { kind: 'message' as const, signal: adapted.signal }
        : adapted.kind === 'thing.response'
          ? { kind: 'command' as const, signal: adapted.signal }
          : { kind: 'error' as const, signal: adapted.signal };
    if (!this.o.live?.respond(response))
      return this.drop(
        `Dropped: no request waits for the response with correlation-id '${correlationId}' (answered already or timed out).`,
        correlationId,
        entityId,
      );
    return 'done';
  }

  /**
   * §10 a device sends a live message or live command with the source's subjects (WRITE needed as for any
   * requester); the first response, or the error (403/404, 408 after `timeout`), goes to the reply target.
   * Live signals are at most once: the broker message is settled when answered or timed out, never redelivered.
   */
  private async sendLive(
    adapted: Extract<AdaptedSignal, { kind: 'thing.message' | 'thing.command' }>,
    auth: AuthContext,
    correlationId: string,
  ): Promise<Outcome> {
    const request = adapted.signal;
    const kind = adapted.kind === 'thing.message' ? 'message' : 'command';
    const path = adapted.kind === 'thing.message' ? messagePath(adapted.signal) : adapted.signal.path;
    const live = this.o.live;
    if (!live)
      return this.drop(
        `Dropped: live ${kind}s are not routed by this service.`,
        correlationId,
        request.thingId,
      );
    let timeoutMs = 0;
    try {
      // Capped as for HTTP messages (60 s): the broker message holds an in-flight slot until the answer.
      if (request.headers['response-required'] !== 'false')
        timeoutMs = Math.min(
          parseTimeout(request.headers['timeout'], DEFAULT_TIMEOUT_MS),
          MAX_LIVE_TIMEOUT_MS,
        );
      const outcome =
        adapted.kind === 'thing.message'
          ? await live.sendMessage(adapted.signal, auth, timeoutMs)
          : await live.sendCommand(adapted.signal, auth, timeoutMs);
      if (timeoutMs === 0) return 'done';
      const answer = outcome.response;
      if (answer === undefined) throw liveTimeoutError(kind, timeoutMs);
      this.reply(
        request,
        () => liveResponseMessage(answer, correlationId),
        answer.kind === 'error' ? 'error' : 'response',
      );
      return 'done';
    } catch (err) {
      const error = this.asDittoError(err, `live ${kind} failed`);
      this.reply(
        request,
        () =>
          errorToProtocol(error, {
            thingId: request.thingId,
            channel: 'live',
            headers: request.headers,
            path,
          }),
        'error',
      );
      return this.drop(`Dropped: ${error.message}`, correlationId, request.thingId);
    }
  }

  /** §10 a device's live event, with the source's subjects (WRITE on the changed path); at most once. */
  private async sendLiveEvent(event: ThingEvent, auth: AuthContext, correlationId: string): Promise<Outcome> {
    if (!this.o.live)
      return this.drop('Dropped: live events are not routed by this service.', correlationId, event.thingId);
    try {
      await this.o.live.sendEvent(event, auth);
      return 'done';
    } catch (err) {
      const error = this.asDittoError(err, 'live event failed');
      return this.drop(`Dropped: ${error.message}`, correlationId, event.thingId);
    }
  }

  /**
   * ditto: protocol-specification-streaming-subscription "Connections support" — a device streams history
   * through the source; the events go to the reply target, addressed with the headers of the command they
   * answer. Settled at once: the stream runs on with the requests that follow.
   */
  private stream(
    command: Extract<AdaptedSignal, { kind: 'streaming.command' }>['signal'],
    auth: AuthContext,
    correlationId: string,
  ): Outcome {
    if (!this.o.streaming)
      return this.drop(
        'Dropped: history streams are not served by this service.',
        correlationId,
        command.entityId,
      );
    this.streaming ??= this.o.streaming.open((message, via, failed) =>
      this.reply(
        { thingId: via.entityId, headers: via.headers },
        () => message,
        failed ? 'error' : 'response',
      ),
    );
    try {
      this.streaming.handle(command, auth);
      return 'done';
    } catch (err) {
      const error = this.asDittoError(err, 'streaming command failed');
      const entity =
        command.entityType === 'policy' ? { policyId: command.entityId } : { thingId: command.entityId };
      this.reply(
        { thingId: command.entityId, headers: command.headers },
        () => errorToProtocol(error, { ...entity, headers: command.headers, path: command.path }),
        'error',
      );
      return this.drop(`Dropped: ${error.message}`, correlationId, command.entityId);
    }
  }

  /** A DittoError as is; anything else is an internal error, logged (with `what`) when given. */
  private asDittoError(err: unknown, what?: string): DittoError {
    if (err instanceof DittoError) return err;
    if (what !== undefined) this.o.log(what, err);
    return internalError(undefined, { cause: err });
  }

  /**
   * §11.2 replyTarget: responses go to the resolved address when a response is required. The message is made
   * only once the address resolved (a source's default reply target is `{{ header:reply-to }}`, and most
   * telemetry carries none).
   */
  private reply(
    command: Pick<ThingCommand, 'thingId' | 'headers'>,
    message: () => ProtocolMessage,
    type: 'response' | 'error',
  ): Promise<void> {
    const rt = this.o.source.replyTarget;
    if (!rt || command.headers['response-required'] === 'false' || !rt.expectedResponseTypes.includes(type))
      return NOT_SENT;
    let response: ProtocolMessage | undefined;
    const responseOf = () => (response ??= message());
    const resolvers = signalResolvers(command, this.o.connectionId, () => responseOf().topic);
    const address = resolveFirst(rt.address, resolvers);
    if (address === undefined || address === '') return NOT_SENT;
    const publisher = this.o.replyPublisher();
    if (!publisher) return NOT_SENT;
    const json = renderProtocolMessage(responseOf()) as unknown as Record<string, unknown>;
    const window = this.o.replies;
    if (!window.admit()) {
      this.o.events.emit('message', {
        connectionId: this.o.connectionId,
        address: rt.address.text,
        direction: 'outbound',
        type: 'dropped',
        success: false,
        message: `Dropped the ${type}: ${window.reason}.`,
        correlationId: command.headers['correlation-id'],
        entityId: command.thingId,
        at: Date.now(),
      });
      return NOT_SENT;
    }
    return Promise.resolve(
      this.o.registry.mapOutgoing(
        this.o.source.payloadMapping.length > 0 ? this.o.source.payloadMapping : undefined,
        json,
      ),
    )
      .then(async (results) => {
        for (const r of results) {
          if ('error' in r) continue;
          for (const ext of r.result) {
            const out: OutboundMessage = {
              address,
              headers: copyOf(ext.headers),
              payload: payloadOf(ext),
              contentType: ext.contentType,
            };
            for (const { name, template } of rt.headerMapping) {
              const v = resolveFirst(template, resolvers);
              if (v !== undefined) out.headers[name] = v;
            }
            await publisher.write(out);
          }
        }
      })
      .catch((err: unknown) => this.o.log('reply failed', err))
      .finally(() => window.release());
  }
}

/** §9 the custom labels a command requests (the source's `includes` and its `requested-acks`), without the built-in ones. */
function customAckLabels(includes: readonly string[], requested: string | undefined): string[] {
  if (includes.length === 0 && requested === undefined) return [];
  return [...new Set([...includes, ...headerList(requested)])].filter((l) => !BUILT_IN_ACK_LABELS.has(l));
}

type DeviceAnswer = Extract<AdaptedSignal, { kind: 'ack' | 'thing.message' | 'thing.response' | 'error' }>;

/** A device's signal that answers a request (message response, live command response, live error) or acknowledges one. */
function deviceAnswerOf(adapted: AdaptedSignal): DeviceAnswer | undefined {
  switch (adapted.kind) {
    case 'ack':
      return adapted;
    case 'thing.message':
      return adapted.signal.status === undefined ? undefined : adapted;
    case 'thing.response':
    case 'error':
      return adapted.signal.channel === 'live' ? adapted : undefined;
    default:
      return undefined;
  }
}
