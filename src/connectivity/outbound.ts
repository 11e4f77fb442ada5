/**
 * The outbound pipeline of one target (§11.4; STYLE "The path of one telemetry message"):
 *
 *   bus event → topic + namespaces → READ enforcement for the target's subjects (pruned, §14.2)
 *   → RQL filter (on the readable thing) → extraFields ─┐
 *   live message, command or event, policy announcement ├→ payload mapping → header mapping
 *   from the subscriber registry (as for WebSocket)      ┘   → address placeholders → connector target.write
 *   → the endpoint's answer (HTTP push) → issued acknowledgement or live response (src/connectivity/answers.ts)
 *
 * The pipeline is the target's `Subscriber` in the registry (§2.6, §7.1, §10: live signals and policy
 * announcements fan out to every authorized subscriber, connection targets included) and the owner of its
 * `issuedAcknowledgementLabel`.
 * Signals arrive synchronously (bus, registry) in order per thing; the pipeline keeps that order with a
 * sequential stage. Its queue is bounded: beyond `maxQueued` signals are dropped and counted.
 * With the Ditto mapper the external headers are only `content-type` and `correlation-id` plus what
 * headerMapping adds (§14.10) — the registry's Ditto mapper produces exactly those.
 */
import { WEAK_ACK_PAYLOAD } from '../acks/router.js';
import type { AuthContext } from '../auth/context.js';
import type { PublishedThingEvent } from '../bus/signal-bus.js';
import { isRemoteEvent } from '../cluster/remote.js';
import type { LiveResponse } from '../live/router.js';
import type { Acknowledgement, DittoHeaders, ThingCommand, ThingEvent, ThingMessage } from '../model/signals.js';
import { resolveFirst, resolveTemplate, type ResourceType } from '../placeholders/index.js';
import { formatTopic, fromThingEvent, renderProtocolMessage, subscriberHeaders, type ProtocolMessage } from '../protocol/index.js';
import { subjectsKeyOf, type Delivery, type StreamKind, type Subscriber, type Subscription } from '../streaming/subscription.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { isPlainObject } from '../util/json-pointer.js';
import { copyOf } from '../util/objects.js';
import { answerOf, type SentSignal } from './answers.js';
import { responseOf, type OutboundMessage, type TargetHandle, type WriteResponse } from './connector.js';
import { signalResolvers } from './signal-resolvers.js';
import type { ConnectivityEvents, OutboundType } from './events.js';
import { payloadOf } from './inbound.js';
import type { AckPort, LivePort, MapperRegistry } from './mapping-port.js';
import type { Target, TargetTopic, TargetTopicKind } from './model.js';

export interface OutboundOptions {
  connectionId: string;
  target: Target;
  registry: MapperRegistry;
  events: ConnectivityEvents;
  /** The enforcer of a policy: synchronously when cached, else a promise. */
  enforcer: (policyId: string) => ThingEnforcer | undefined | Promise<ThingEnforcer | undefined>;
  /** The publisher for an entity (one client per entity when clientCount > 1, §11.4 scaling). */
  publisher: (entityId: string) => TargetHandle | undefined;
  maxQueued: number;
  /** Declares and issues the target's custom `issuedAcknowledgementLabel` (§9, §11.4); optional. */
  acks?: AckPort;
  /** The registry's signals for targets subscribed to them, and live responses (§10); optional. */
  live?: LivePort;
  log: (msg: string, err?: unknown) => void;
}

/** One signal on its way to the target, after enforcement and filtering. */
interface OutboundSignal extends SentSignal {
  /** The protocol message as the target's subjects may see it. */
  message: ProtocolMessage;
  /** The signal's Ditto headers (`header:` placeholders). */
  headers: DittoHeaders;
  resource: { type: ResourceType; path: string };
  /** The thing pruned for the target's subjects (`thing-json:` placeholders); `{}` when unknown. */
  readable: () => Record<string, unknown>;
}

const READ = ['READ'] as const;
/** The thing of a signal that carries none (`thing-json:` placeholders resolve nothing). */
const NO_THING = (): Record<string, unknown> => ({});
/** The kinds of signals a target gets from the registry rather than the bus. */
const REGISTRY_KINDS: readonly StreamKind[] = ['messages', 'live-commands', 'live-events', 'policy-announcements'];
/** The registry's kinds of the target topics it serves. */
const LIVE_KINDS: Partial<Record<TargetTopicKind, StreamKind>> = {
  'live.messages': 'messages',
  'live.commands': 'live-commands',
  'live.events': 'live-events',
  'policy.announcements': 'policy-announcements',
};

export class OutboundPipeline implements Subscriber {
  readonly id: string;
  readonly auth: AuthContext;
  readonly subjectsKey: string;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Whether the target's custom label was declared (issued acks need it). */
  private issuing = false;

  constructor(private readonly o: OutboundOptions) {
    this.id = `${o.connectionId}/targets/${o.target.index}`;
    this.auth = { subjects: o.target.authorizationContext };
    this.subjectsKey = subjectsKeyOf(this.auth);
  }

  /**
   * Declares the target's custom label (owner: this pipeline) and subscribes to the registry's signals of
   * its topics. Called once by the runtime when the connection opens (not for a dry run).
   */
  start(): void {
    const { target, acks, live } = this.o;
    const subscriptions: Subscription[] = [];
    for (const topic of target.topics) {
      const kind = LIVE_KINDS[topic.kind];
      if (kind === undefined) continue;
      const subscription: Subscription = { kind };
      if (topic.namespaces) subscription.namespaces = new Set(topic.namespaces);
      if (topic.filter) subscription.filter = topic.filter;
      subscriptions.push(subscription);
    }
    const label = target.issuedAcknowledgementLabel;
    if (acks && label !== undefined && label !== 'live-response') {
      try {
        // The registry weak-acks every signal kind it dispatches that this target did not take (§9); twin
        // events come from the bus, and this pipeline weak-acks those itself (`weakAck`).
        acks.declare([label], this, live ? REGISTRY_KINDS : []);
        this.issuing = true;
      } catch (err) {
        this.o.log(`acknowledgement label ${label} is declared elsewhere; target ${target.index} will not issue it`, err);
      }
    }
    if (live) for (const s of subscriptions) live.subscribe(this, s);
  }

  stop(): void {
    this.o.live?.remove(this);
    this.o.acks?.release(this);
    this.issuing = false;
  }

  private emit(type: OutboundType, success: boolean, message: string, correlationId?: string, entityId?: string): void {
    this.o.events.emit('message', { connectionId: this.o.connectionId, address: this.o.target.address, direction: 'outbound', type, success, message, correlationId, entityId, at: Date.now() });
  }

  /**
   * Runs `work` now when nothing is queued ahead of it, else queues it behind the signals before it: only an
   * asynchronous step (a policy still loading, a JavaScript mapper) makes later signals wait, so order holds
   * without a promise per signal. A full queue drops the signal: a requested label of this target is then
   * answered with 503 (true: the signal was taken, so nobody weak-acks it); false otherwise.
   */
  private enqueue(signal: Pick<OutboundSignal, 'thingId' | 'channel' | 'correlationId'>, what: string, work: () => void | Promise<void>): boolean {
    const { thingId, correlationId } = signal;
    this.emit('dispatched', true, `Dispatched ${what}.`, correlationId, thingId);
    if (this.queued >= this.o.maxQueued) {
      const reason = `more than ${this.o.maxQueued} messages are queued for this target`;
      this.emit('dropped', false, `Dropped: ${reason}.`, correlationId, thingId);
      const label = this.o.target.issuedAcknowledgementLabel;
      if (!this.issuing || label === undefined) return false;
      this.ack({ thingId, channel: signal.channel, label, status: 503, payload: `Dropped: ${reason}.`, headers: { 'correlation-id': correlationId } });
      return true;
    }
    const failed = (err: unknown) => {
      this.o.log('outbound pipeline failed', err);
      this.emit('dropped', false, 'Dropped: internal error.', correlationId, thingId);
    };
    let pending: void | Promise<void>;
    if (this.queued === 0) {
      try {
        pending = work();
      } catch (err) {
        failed(err);
        return true;
      }
      if (!(pending instanceof Promise)) return true;
    } else {
      pending = this.chain.then(work);
    }
    this.queued++;
    this.chain = pending.catch(failed).finally(() => this.queued--);
    return true;
  }

  /** Bus listener; never throws. */
  onThingEvent(published: PublishedThingEvent): void {
    // Scale-out: an event is published to targets by the instance that made the change (it has it first
    // and in order), so each target gets it once per cluster, not once per instance (docs/scale-out.md).
    if (isRemoteEvent(published)) return;
    const { event } = published;
    // Live events come through the registry (`offer`), like live messages and commands.
    const topic = event.channel === 'twin' ? this.o.target.topics.find((t) => t.kind === 'twin.events') : undefined;
    if (!topic || (topic.namespaces && !topic.namespaces.includes(event.thingId.slice(0, event.thingId.indexOf(':'))))) {
      this.weakAck(event.thingId, event.headers);
      return;
    }
    this.enqueue({ thingId: event.thingId, channel: 'twin', correlationId: event.headers['correlation-id'] ?? '' }, `event of '${event.thingId}' revision ${event.revision}`, () => this.processEvent(published, topic));
  }

  /**
   * Registry subscriber (§2.6, §7.1, §10): a live message, live command or live event the target's subjects
   * may READ, or a policy announcement of one of them, in its namespaces and matching its filter (checked by
   * the registry as for WebSocket sessions).
   */
  offer(delivery: Delivery): boolean {
    const { message, thingId } = delivery;
    const signalOf = (channel: OutboundSignal['channel'], headers: DittoHeaders, type: ResourceType, path: string, live?: OutboundSignal['live']): OutboundSignal => ({
      thingId,
      channel,
      correlationId: headers['correlation-id'] ?? '',
      live,
      message,
      headers,
      resource: { type, path },
      readable: NO_THING,
    });
    let signal: OutboundSignal;
    switch (delivery.kind) {
      case 'messages': {
        const live = { kind: 'message' as const, signal: delivery.signal as ThingMessage };
        signal = signalOf('live', live.signal.headers, 'message', message.path, live);
        break;
      }
      case 'live-commands': {
        const live = { kind: 'command' as const, signal: delivery.signal as ThingCommand };
        signal = signalOf('live', live.signal.headers, 'thing', message.path, live);
        break;
      }
      case 'live-events': {
        // A live event expects no answer: published like a twin event.
        const event = delivery.signal as ThingEvent;
        signal = signalOf('live', event.headers, 'thing', event.path);
        break;
      }
      case 'policy-announcements':
        signal = signalOf('twin', message.headers, 'policy', message.path);
        break;
      default:
        return false;
    }
    return this.enqueue(signal, `${formatTopic(message.topic)} '${message.path}'`, () => {
      this.emit('filtered', true, 'Passed topic, namespace, READ permission and filter.', signal.correlationId, thingId);
      return this.publish(signal);
    });
  }

  /** Synchronous unless the policy must be loaded first or a mapper answers asynchronously. */
  private processEvent(published: PublishedThingEvent, topic: TargetTopic): void | Promise<void> {
    const enforcer = published.policyId === undefined ? undefined : this.o.enforcer(published.policyId);
    if (enforcer instanceof Promise) return enforcer.then((e) => this.processEventWith(published, topic, e));
    return this.processEventWith(published, topic, enforcer);
  }

  private processEventWith(published: PublishedThingEvent, topic: TargetTopic, enforcer: ThingEnforcer | undefined): void | Promise<void> {
    const { event, thing } = published;
    const { target } = this.o;
    const correlationId = event.headers['correlation-id'];
    const subjects = target.authorizationContext;
    // §11.4 READ for the target's subjects; the event value is pruned to what they may read (§14.2).
    let value: unknown = event.value;
    if (!enforcer) return this.filteredOut('no policy', event.headers, event.thingId);
    if (event.value !== undefined) {
      value = enforcer.filterReadable('thing', event.path, event.value, subjects);
      if (value === undefined) return this.filteredOut('not readable', event.headers, event.thingId);
    } else if (!enforcer.hasPartial('thing:' + event.path, subjects, READ)) {
      return this.filteredOut('not readable', event.headers, event.thingId);
    }
    let readableThing: Record<string, unknown> | undefined;
    const readable = () => {
      if (readableThing === undefined && thing) {
        const r = enforcer.filterReadable('thing', '/', thing, subjects);
        readableThing = isPlainObject(r) ? r : {};
      }
      return readableThing ?? {};
    };
    if (topic.filter) {
      const p = topic.filterPlaceholders!;
      // §11.4 event filters may read the signal's topic and resource (RQL placeholders without braces).
      const colon = event.thingId.indexOf(':');
      p['topic:namespace'] = event.thingId.slice(0, colon);
      p['topic:entityName'] = event.thingId.slice(colon + 1);
      p['topic:group'] = 'things';
      p['topic:channel'] = event.channel;
      p['topic:criterion'] = 'events';
      p['topic:action'] = event.action;
      p['topic:full'] = `${p['topic:namespace']}/${p['topic:entityName']}/things/${event.channel}/events/${event.action}`;
      p['resource:type'] = 'thing';
      p['resource:path'] = event.path;
      p['entity:id'] = event.thingId;
      if (!topic.filter(readable() as never)) return this.filteredOut('filter not matched', event.headers, event.thingId);
    }
    this.emit('filtered', true, 'Passed topic, namespace and filter.', correlationId, event.thingId);

    const message = fromThingEvent({ ...event, headers: subscriberHeaders(event.headers) });
    if (value !== undefined) message.value = value;
    if (topic.extraFields && thing) message.extra = applyFieldSelector(readable(), topic.extraFields);
    return this.publish({ thingId: event.thingId, channel: event.channel, correlationId: correlationId ?? '', message, headers: event.headers, resource: { type: 'thing', path: event.path }, readable });
  }

  /** Payload mapping, header mapping, address placeholders, write; the answer is handled when it arrives. */
  private publish(signal: OutboundSignal): void | Promise<void> {
    const { target } = this.o;
    const json = renderProtocolMessage(signal.message) as unknown as Record<string, unknown>;
    const results = this.o.registry.mapOutgoing(target.payloadMapping.length > 0 ? target.payloadMapping : undefined, json);
    if (results instanceof Promise) return results.then((r) => this.publishMapped(signal, r));
    this.publishMapped(signal, results);
  }

  private publishMapped(signal: OutboundSignal, results: Awaited<ReturnType<MapperRegistry['mapOutgoing']>>): void {
    const { target } = this.o;
    const { thingId, correlationId } = signal;
    const resolvers = signalResolvers(signal, this.o.connectionId, () => signal.message.topic);
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
          this.emit('dropped', false, `Dropped: the address '${target.address}' could not be resolved.`, correlationId, thingId);
          continue;
        }
        const publisher = this.o.publisher(thingId);
        if (!publisher) {
          this.emit('dropped', false, 'Dropped: no open client to publish with.', correlationId, thingId);
          continue;
        }
        const out: OutboundMessage = { address: address.values[0], headers, payload: payloadOf(ext), contentType: ext.contentType };
        // Started in order; not awaited so that publishes pipeline on the connection.
        publisher.write(out).then(
          (response) => {
            this.emit('published', true, `Published to '${out.address}'.`, correlationId, thingId);
            this.answered(signal, response ?? undefined);
          },
          (err: unknown) => {
            this.emit('published', false, `Publishing to '${out.address}' failed: ${(err as Error).message}`, correlationId, thingId);
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
      const ack: Acknowledgement = { thingId: signal.thingId, channel: signal.channel, label, status: error ? 503 : 200, headers: { 'correlation-id': signal.correlationId } };
      if (error) ack.payload = error.message;
      this.ack(ack);
      return;
    }
    let answer;
    try {
      answer = answerOf(signal, response, label);
    } catch (err) {
      this.emit('acknowledged', false, `The answer of the endpoint was not used: ${(err as Error).message}`, signal.correlationId, signal.thingId);
      return;
    }
    if (answer?.kind === 'ack') this.ack(answer.ack);
    else if (answer?.kind === 'response') this.respond(answer.response, signal);
  }

  private respond(response: LiveResponse, signal: OutboundSignal): void {
    const taken = this.o.live?.respond(response) ?? false;
    this.emit('acknowledged', taken, taken ? 'The answer was the live response.' : 'The answer came after the live response or the timeout.', signal.correlationId, signal.thingId);
  }

  private filteredOut(reason: string, headers: DittoHeaders, entityId: string): void {
    this.emit('filtered', false, `Filtered out: ${reason}.`, headers['correlation-id'], entityId);
    this.weakAck(entityId, headers);
  }

  /** §9 weak ack: a declaring subscriber that does not get a twin event acknowledges its label automatically. */
  private weakAck(entityId: string, headers: DittoHeaders): void {
    const label = this.o.target.issuedAcknowledgementLabel;
    const correlationId = headers['correlation-id'];
    if (!this.issuing || correlationId === undefined || label === undefined || headers['requested-acks'] === undefined) return;
    this.ack({ thingId: entityId, channel: 'twin', label, status: 200, payload: WEAK_ACK_PAYLOAD, headers: { 'correlation-id': correlationId, 'ditto-weak-ack': 'true' } });
  }

  /** Issues an acknowledgement of the target's declared label (the router refuses other labels). */
  private ack(ack: Acknowledgement): void {
    if (!this.issuing || ack.headers['correlation-id'] === undefined || ack.headers['correlation-id'] === '') return;
    try {
      this.o.acks!.issue(ack, this);
    } catch (err) {
      this.o.log('issuing an acknowledgement failed', err);
    }
  }

  /** Resolves when everything queued so far was handed to the connector. */
  drain(): Promise<void> {
    return this.chain;
  }
}
