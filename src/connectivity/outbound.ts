/**
 * The outbound pipeline of one target (§11.4; STYLE "The path of one telemetry message"):
 *
 *   streaming registry (src/streaming, the path of WebSocket and SSE too): topic kind, namespaces, READ
 *   enforcement for the target's subjects (pruned, §14.2), RQL filter, extraFields; rendered once per shape
 *   → in-flight window (window.ts) → payload mapping → header mapping → address placeholders
 *   → connector target.write → the endpoint's answer (HTTP push) → issued acknowledgement or live response
 *
 * The pipeline is the target's `Subscriber` of each kind its topics name — twin events (of this instance
 * only in a cluster: each target publishes a change once), live messages, live commands, live events, policy
 * announcements — and the owner of its `issuedAcknowledgementLabel`; the registry issues the label's weak
 * acknowledgement for every signal the target does not take (§9).
 * Signals arrive synchronously, in order per thing. Only an asynchronous mapper (JavaScript) makes the
 * signals after it wait, so order holds without a promise per signal.
 * With the Ditto mapper the external headers are only `content-type` and `correlation-id` plus what
 * headerMapping adds (§14.10); it sends the delivery's JSON text as rendered for every subscriber.
 */
import { subjectsKeyOf, type AuthContext } from '../auth/context.js';
import type { LiveResponse } from '../live/router.js';
import type {
  Acknowledgement,
  Channel,
  DittoHeaders,
  ThingCommand,
  ThingEvent,
  ThingMessage,
} from '../model/signals.js';
import { resolveFirst, resolveTemplate, type ResourceType } from '../placeholders/index.js';
import { formatTopic } from '../protocol/index.js';
import {
  type Delivery,
  type Miss,
  type StreamKind,
  type Subscriber,
  type Subscription,
} from '../streaming/subscription.js';
import { copyOf } from '../util/objects.js';
import { answerOf, type SentSignal } from './answers.js';
import { responseOf, type OutboundMessage, type TargetHandle, type WriteResponse } from './connector.js';
import type { ConnectivityEvents, OutboundType } from './events.js';
import { payloadOf } from './external.js';
import type { AckPort, LivePort, MapperRegistry, ProtocolJson, SubscriberPort } from './mapping-port.js';
import type { Target, TargetTopicKind } from './model.js';
import { signalResolvers } from './signal-resolvers.js';
import type { OutboundWindow } from './window.js';

export interface OutboundOptions {
  connectionId: string;
  target: Target;
  registry: MapperRegistry;
  events: ConnectivityEvents;
  /** The publisher for an entity (one client per entity when clientCount > 1, §11.4 scaling). */
  publisher: (entityId: string) => TargetHandle | undefined;
  /** The target's in-flight window. */
  window: OutboundWindow;
  /** The streaming registry the target subscribes to. */
  subscribers: SubscriberPort;
  /** Declares and issues the target's custom `issuedAcknowledgementLabel` (§9, §11.4); optional. */
  acks?: AckPort;
  /** Where the endpoint's answers to live messages go (§10); optional. */
  live?: Pick<LivePort, 'respond'>;
  log: (msg: string, err?: unknown) => void;
}

/** The registry's kind of each target topic that takes signals (connection announcements come from the runtime). */
const STREAM_KINDS: Partial<Record<TargetTopicKind, StreamKind>> = {
  'twin.events': 'events',
  'live.messages': 'messages',
  'live.commands': 'live-commands',
  'live.events': 'live-events',
  'policy.announcements': 'policy-announcements',
};

/** One signal on its way to the target: what placeholders and the endpoint's answer refer to. */
class OutboundSignal implements SentSignal {
  readonly thingId: string;
  readonly correlationId: string;

  constructor(
    readonly delivery: Delivery,
    private readonly subscriber: Subscriber,
    readonly channel: Channel,
    /** The signal's Ditto headers (`header:` placeholders). */
    readonly headers: DittoHeaders,
    readonly resource: { type: ResourceType; path: string },
    /** The live message or live command an answer responds to. */
    readonly live?: SentSignal['live'],
  ) {
    this.thingId = delivery.thingId;
    this.correlationId = headers['correlation-id'] ?? '';
  }

  /** The thing after the change as the target's subjects may read it (`thing-json:`); `{}` for other signals. */
  readable(): Record<string, unknown> {
    return this.delivery.source.readableThing(this.subscriber) ?? {};
  }
}

export class OutboundPipeline implements Subscriber {
  readonly id: string;
  readonly auth: AuthContext;
  readonly subjectsKey: string;
  /** The signals waiting behind an asynchronous mapper, in order; resolves when the last one was written. */
  private chain: Promise<void> = Promise.resolve();
  private behind = 0;
  /** Whether the target's custom label was declared (issued acks need it). */
  private issuing = false;

  constructor(private readonly o: OutboundOptions) {
    this.id = `${o.connectionId}/targets/${o.target.index}`;
    this.auth = { subjects: o.target.authorizationContext };
    this.subjectsKey = subjectsKeyOf(this.auth);
  }

  /**
   * Declares the target's custom label (owner: this pipeline) and subscribes to the kinds of signals its
   * topics name (the first topic of a kind counts). Called once by the runtime when the connection opens
   * (not for a dry run).
   */
  start(): void {
    const { target, acks, subscribers } = this.o;
    const label = target.issuedAcknowledgementLabel;
    if (acks && label !== undefined && label !== 'live-response') {
      try {
        acks.declare([label], this);
        this.issuing = true;
      } catch (err) {
        this.o.log(
          `acknowledgement label ${label} is declared elsewhere; target ${target.index} will not issue it`,
          err,
        );
      }
    }
    const subscribed = new Set<StreamKind>();
    for (const topic of target.topics) {
      const kind = STREAM_KINDS[topic.kind];
      if (kind === undefined || subscribed.has(kind)) continue;
      subscribed.add(kind);
      const subscription: Subscription = { kind };
      if (topic.namespaces) subscription.namespaces = new Set(topic.namespaces);
      if (topic.filter) subscription.filter = topic.filter;
      if (topic.extraFields) {
        subscription.extraFields = topic.extraFields;
        subscription.extraFieldsText = topic.extraFieldsText;
      }
      if (kind === 'events') subscription.localOnly = true;
      subscribers.subscribe(this, subscription);
    }
  }

  stop(): void {
    this.o.subscribers.remove(this);
    this.o.acks?.release(this);
    this.issuing = false;
  }

  private emit(
    type: OutboundType,
    success: boolean,
    message: string,
    correlationId?: string,
    entityId?: string,
  ): void {
    this.o.events.emit('message', {
      connectionId: this.o.connectionId,
      address: this.o.target.address,
      direction: 'outbound',
      type,
      success,
      message,
      correlationId,
      entityId,
      at: Date.now(),
    });
  }

  /**
   * Registry subscriber (§2.6, §5, §7.1, §10, §11.4): a signal the target's subjects may READ, in its
   * namespaces and matching its filter. Returns whether the target took it: a signal the full window drops
   * counts as taken when the target's label is answered 503 for it (nobody weak-acks it then).
   */
  offer(delivery: Delivery): boolean {
    const { message } = delivery;
    let signal: OutboundSignal;
    let what: string;
    switch (delivery.kind) {
      case 'events': {
        const event = delivery.signal as ThingEvent;
        signal = new OutboundSignal(delivery, this, 'twin', event.headers, {
          type: 'thing',
          path: event.path,
        });
        what = `event of '${event.thingId}' revision ${event.revision}`;
        break;
      }
      case 'messages': {
        const live = { kind: 'message' as const, signal: delivery.signal as ThingMessage };
        signal = new OutboundSignal(
          delivery,
          this,
          'live',
          live.signal.headers,
          { type: 'message', path: message.path },
          live,
        );
        what = `${formatTopic(message.topic)} '${message.path}'`;
        break;
      }
      case 'live-commands': {
        const live = { kind: 'command' as const, signal: delivery.signal as ThingCommand };
        signal = new OutboundSignal(
          delivery,
          this,
          'live',
          live.signal.headers,
          { type: 'thing', path: message.path },
          live,
        );
        what = `${formatTopic(message.topic)} '${message.path}'`;
        break;
      }
      case 'live-events': {
        // A live event expects no answer: published like a twin event.
        const event = delivery.signal as ThingEvent;
        signal = new OutboundSignal(delivery, this, 'live', event.headers, {
          type: 'thing',
          path: event.path,
        });
        what = `${formatTopic(message.topic)} '${message.path}'`;
        break;
      }
      case 'policy-announcements':
        signal = new OutboundSignal(delivery, this, 'twin', message.headers, {
          type: 'policy',
          path: message.path,
        });
        what = `${formatTopic(message.topic)} '${message.path}'`;
        break;
      default:
        return false;
    }
    const { thingId, correlationId } = signal;
    this.emit('dispatched', true, `Dispatched ${what}.`, correlationId, thingId);
    if (!this.o.window.admit()) return this.dropFull(signal);
    this.emit(
      'filtered',
      true,
      'Passed topic, namespace, READ permission and filter.',
      correlationId,
      thingId,
    );
    this.run(signal);
    return true;
  }

  /** Registry subscriber: a signal of a subscribed kind in the target's namespaces it may not read or whose filter did not match. */
  missed(miss: Miss, thingId: string, headers: Record<string, string>): void {
    const correlationId = headers['correlation-id'];
    this.emit('dispatched', true, `Dispatched a signal of '${thingId}'.`, correlationId, thingId);
    this.emit(
      'filtered',
      false,
      miss === 'unreadable' ? 'Filtered out: not readable.' : 'Filtered out: filter not matched.',
      correlationId,
      thingId,
    );
  }

  /** The window is full: the signal is dropped; a requested label of this target is answered 503. */
  private dropFull(signal: OutboundSignal): boolean {
    const reason = `Dropped: ${this.o.window.reason}.`;
    this.emit('dropped', false, reason, signal.correlationId, signal.thingId);
    const label = this.o.target.issuedAcknowledgementLabel;
    if (!this.issuing || label === undefined) return false;
    this.ack({
      thingId: signal.thingId,
      channel: signal.channel,
      label,
      status: 503,
      payload: reason,
      headers: { 'correlation-id': signal.correlationId },
    });
    return true;
  }

  /**
   * Publishes an admitted signal now when nothing waits ahead of it, else behind the signals before it; its
   * window slot is freed when its writes were started (each write holds a slot of its own until settled).
   */
  private run(signal: OutboundSignal): void {
    let pending: void | Promise<void>;
    if (this.behind === 0) {
      try {
        pending = this.publish(signal);
      } catch (err) {
        pending = Promise.reject(err);
      }
      if (pending === undefined) {
        this.o.window.release();
        return;
      }
    } else {
      pending = this.chain.then(() => this.publish(signal));
    }
    this.behind++;
    this.chain = pending.then(
      () => this.ran(),
      (err: unknown) => {
        this.o.log('outbound pipeline failed', err);
        this.emit('dropped', false, 'Dropped: internal error.', signal.correlationId, signal.thingId);
        this.ran();
      },
    );
  }

  private ran(): void {
    this.behind--;
    this.o.window.release();
  }

  /** Payload mapping, header mapping, address placeholders, write; the answer is handled when it arrives. */
  private publish(signal: OutboundSignal): void | Promise<void> {
    const { target } = this.o;
    const { json, text } = signal.delivery;
    const results = this.o.registry.mapOutgoing(
      target.payloadMapping.length > 0 ? target.payloadMapping : undefined,
      json as unknown as ProtocolJson,
      text,
    );
    if (results instanceof Promise) return results.then((r) => this.publishMapped(signal, r));
    this.publishMapped(signal, results);
  }

  private publishMapped(
    signal: OutboundSignal,
    results: Awaited<ReturnType<MapperRegistry['mapOutgoing']>>,
  ): void {
    const { target, window } = this.o;
    const { thingId, correlationId } = signal;
    const resolvers = signalResolvers(signal, this.o.connectionId, () => signal.delivery.message.topic);
    for (const r of results) {
      if ('error' in r) {
        this.emit('mapped', false, `Mapper '${r.mapper}' failed: ${r.error.message}`, correlationId, thingId);
        this.emit('dropped', false, `Dropped: mapping failed: ${r.error.message}`, correlationId, thingId);
        continue;
      }
      for (const ext of r.result) {
        this.emit('mapped', true, `Mapped by '${r.mapper}'.`, correlationId, thingId);
        const headers: Record<string, string> = copyOf(ext.headers);
        for (const { name, template } of target.headerMapping) {
          const v = resolveFirst(template, resolvers);
          if (v !== undefined) headers[name] = v;
        }
        const address = resolveTemplate(target.addressTemplate, resolvers);
        if (address.kind !== 'resolved') {
          this.emit(
            'dropped',
            false,
            `Dropped: the address '${target.address}' could not be resolved.`,
            correlationId,
            thingId,
          );
          continue;
        }
        const publisher = this.o.publisher(thingId);
        if (!publisher) {
          this.emit('dropped', false, 'Dropped: no open client to publish with.', correlationId, thingId);
          continue;
        }
        const out: OutboundMessage = {
          address: address.values[0],
          headers,
          payload: payloadOf(ext),
          contentType: ext.contentType,
        };
        // Started in order; not awaited so that publishes pipeline on the connection. Counted in the window
        // until the broker settled it.
        window.add();
        publisher.write(out).then(
          (response) => {
            window.release();
            this.emit('published', true, `Published to '${out.address}'.`, correlationId, thingId);
            this.answered(signal, response ?? undefined);
          },
          (err: unknown) => {
            window.release();
            this.emit(
              'published',
              false,
              `Publishing to '${out.address}' failed: ${(err as Error).message}`,
              correlationId,
              thingId,
            );
            this.answered(signal, responseOf(err), err as Error);
          },
        );
      }
    }
  }

  /**
   * §9, §11.4, §11.6: the endpoint's answer (HTTP push) becomes the issued acknowledgement or the live
   * response (src/connectivity/answers.ts); without one (a broker only confirms) the custom label is issued
   * with 200 once confirmed and 503 when publishing failed.
   */
  private answered(signal: OutboundSignal, response: WriteResponse | undefined, error?: Error): void {
    const label = this.o.target.issuedAcknowledgementLabel;
    if (response === undefined) {
      if (label === undefined || label === 'live-response') return;
      const ack: Acknowledgement = {
        thingId: signal.thingId,
        channel: signal.channel,
        label,
        status: error ? 503 : 200,
        headers: { 'correlation-id': signal.correlationId },
      };
      if (error) ack.payload = error.message;
      this.ack(ack);
      return;
    }
    let answer;
    try {
      answer = answerOf(signal, response, label);
    } catch (err) {
      this.emit(
        'acknowledged',
        false,
        `The answer of the endpoint was not used: ${(err as Error).message}`,
        signal.correlationId,
        signal.thingId,
      );
      return;
    }
    if (answer?.kind === 'ack') this.ack(answer.ack);
    else if (answer?.kind === 'response') this.respond(answer.response, signal);
  }

  private respond(response: LiveResponse, signal: OutboundSignal): void {
    const taken = this.o.live?.respond(response) ?? false;
    this.emit(
      'acknowledged',
      taken,
      taken ? 'The answer was the live response.' : 'The answer came after the live response or the timeout.',
      signal.correlationId,
      signal.thingId,
    );
  }

  /** Issues an acknowledgement of the target's declared label (the router refuses other labels). */
  private ack(ack: Acknowledgement): void {
    if (!this.issuing || ack.headers['correlation-id'] === undefined || ack.headers['correlation-id'] === '')
      return;
    try {
      this.o.acks!.issue(ack, this);
    } catch (err) {
      this.o.log('issuing an acknowledgement failed', err);
    }
  }

  /** Resolves when everything admitted so far was handed to the connector. */
  drain(): Promise<void> {
    return this.chain;
  }
}
