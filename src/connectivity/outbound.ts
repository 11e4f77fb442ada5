/**
 * The outbound pipeline of one target (§11.4; STYLE "The path of one telemetry message"):
 *
 *   bus event → topic + namespaces → READ enforcement for the target's subjects (pruned, §14.2)
 *   → RQL filter (on the readable thing) → extraFields → payload mapping → header mapping
 *   → address placeholders → connector target.write
 *
 * Events arrive synchronously from the bus in revision order per thing; the pipeline keeps that order with
 * a sequential stage. Its queue is bounded: beyond `maxQueued` events are dropped and counted.
 * With the Ditto mapper the external headers are only `content-type` and `correlation-id` plus what
 * headerMapping adds (§14.10) — the registry's Ditto mapper produces exactly those.
 */
import type { PublishedThingEvent } from '../bus/signal-bus.js';
import { isRemoteEvent } from '../cluster/remote.js';
import type { DittoHeaders } from '../model/signals.js';
import {
  connectionResolver,
  featureResolver,
  headerResolver,
  resolveFirst,
  resolveTemplate,
  resourceResolver,
  thingJsonResolver,
  thingResolver,
  timeResolver,
  topicResolver,
  type PlaceholderResolvers,
} from '../placeholders/index.js';
import { fromThingEvent, renderProtocolMessage, subscriberHeaders } from '../protocol/index.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { isPlainObject } from '../util/json-pointer.js';
import type { OutboundMessage, TargetHandle } from './connector.js';
import type { ConnectivityEvents, OutboundType } from './events.js';
import { payloadOf } from './inbound.js';
import type { MapperRegistry } from './mapping-port.js';
import type { Target, TargetTopic } from './model.js';

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
  /** Issues the target's `issuedAcknowledgementLabel` (§9, §11.4); undefined when the target has none. */
  issueAck?: (ack: { thingId: string; channel: 'twin' | 'live'; label: string; status: number; payload?: unknown; headers: Record<string, string> }) => void;
  log: (msg: string, err?: unknown) => void;
}

const READ = ['READ'] as const;

export class OutboundPipeline {
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(private readonly o: OutboundOptions) {}

  private emit(type: OutboundType, success: boolean, message: string, correlationId?: string, entityId?: string): void {
    this.o.events.emit('message', { connectionId: this.o.connectionId, address: this.o.target.address, direction: 'outbound', type, success, message, correlationId, entityId, at: Date.now() });
  }

  /** Bus listener; never throws. */
  onThingEvent(published: PublishedThingEvent): void {
    // Scale-out: an event is published to targets by the instance that made the change (it has it first
    // and in order), so each target gets it once per cluster, not once per instance (docs/scale-out.md).
    if (isRemoteEvent(published)) return;
    const { event } = published;
    const topic = this.o.target.topics.find((t) => t.kind === (event.channel === 'twin' ? 'twin.events' : 'live.events'));
    if (!topic) return;
    if (topic.namespaces && !topic.namespaces.includes(event.thingId.slice(0, event.thingId.indexOf(':')))) return;
    const correlationId = event.headers['correlation-id'];
    this.emit('dispatched', true, `Dispatched event of '${event.thingId}' revision ${event.revision}.`, correlationId, event.thingId);
    if (this.queued >= this.o.maxQueued) {
      this.emit('dropped', false, `Dropped: more than ${this.o.maxQueued} messages are queued for this target.`, correlationId, event.thingId);
      return;
    }
    this.queued++;
    this.chain = this.chain
      .then(() => this.process(published, topic))
      .catch((err: unknown) => {
        this.o.log('outbound pipeline failed', err);
        this.emit('dropped', false, 'Dropped: internal error.', correlationId, event.thingId);
      })
      .finally(() => this.queued--);
  }

  private async process(published: PublishedThingEvent, topic: TargetTopic): Promise<void> {
    const { event, policyId, thing } = published;
    const { target } = this.o;
    const correlationId = event.headers['correlation-id'];
    const subjects = target.authorizationContext;
    let enforcer = policyId === undefined ? undefined : this.o.enforcer(policyId);
    if (enforcer instanceof Promise) enforcer = await enforcer;
    // §11.4 READ for the target's subjects; the event value is pruned to what they may read (§14.2).
    let value: unknown = event.value;
    if (!enforcer) return this.filteredOut('no policy', correlationId, event.thingId);
    if (event.value !== undefined) {
      value = enforcer.filterReadable('thing', event.path, event.value, subjects);
      if (value === undefined) return this.filteredOut('not readable', correlationId, event.thingId);
    } else if (!enforcer.hasPartial('thing:' + event.path, subjects, READ)) {
      return this.filteredOut('not readable', correlationId, event.thingId);
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
      if (!topic.filter(readable() as never)) return this.filteredOut('filter not matched', correlationId, event.thingId);
    }
    this.emit('filtered', true, 'Passed topic, namespace and filter.', correlationId, event.thingId);

    const msg = fromThingEvent({ ...event, headers: subscriberHeaders(event.headers) });
    if (value !== undefined) msg.value = value;
    if (topic.extraFields && thing) msg.extra = applyFieldSelector(readable(), topic.extraFields);
    const json = renderProtocolMessage(msg) as unknown as Record<string, unknown>;
    const results = await this.o.registry.mapOutgoing(target.payloadMapping.length > 0 ? target.payloadMapping : undefined, json);

    const featureId = /^\/features\/([^/]+)/.exec(event.path)?.[1];
    const resolvers: PlaceholderResolvers = {
      header: headerResolver(event.headers as DittoHeaders),
      thing: thingResolver(event.thingId),
      entity: thingResolver(event.thingId),
      feature: featureResolver(featureId),
      topic: topicResolver(msg.topic),
      resource: resourceResolver({ type: 'thing', path: event.path }),
      // Lazy: pruning the whole thing is only needed when a template reads it.
      'thing-json': (name) => thingJsonResolver(readable())(name),
      connection: connectionResolver(this.o.connectionId),
      time: timeResolver(),
    };
    for (const r of results) {
      if ('error' in r) {
        this.emit('mapped', false, `Mapper '${r.mapper}' failed: ${r.error.message}`, correlationId, event.thingId);
        this.emit('dropped', false, `Dropped: mapping failed: ${r.error.message}`, correlationId, event.thingId);
        continue;
      }
      for (const ext of r.result) {
        this.emit('mapped', true, `Mapped by '${r.mapper}'.`, correlationId, event.thingId);
        const headers: Record<string, string> = { ...ext.headers };
        for (const { name, template } of target.headerMapping) {
          const v = resolveFirst(template, resolvers);
          if (v !== undefined) headers[name] = v;
        }
        const address = resolveTemplate(target.addressTemplate, resolvers);
        if (address.kind !== 'resolved') {
          this.emit('dropped', false, `Dropped: the address '${target.address}' could not be resolved.`, correlationId, event.thingId);
          continue;
        }
        const publisher = this.o.publisher(event.thingId);
        if (!publisher) {
          this.emit('dropped', false, 'Dropped: no open client to publish with.', correlationId, event.thingId);
          continue;
        }
        const out: OutboundMessage = { address: address.values[0], headers, payload: payloadOf(ext), contentType: ext.contentType };
        // Started in order; not awaited so that publishes pipeline on the connection.
        publisher.write(out).then(
          () => {
            this.emit('published', true, `Published to '${out.address}'.`, correlationId, event.thingId);
            this.ack(event.thingId, event.channel, correlationId, 200);
          },
          (err: unknown) => {
            this.emit('published', false, `Publishing to '${out.address}' failed: ${(err as Error).message}`, correlationId, event.thingId);
            this.ack(event.thingId, event.channel, correlationId, 503, (err as Error).message);
          },
        );
      }
    }
  }

  private filteredOut(reason: string, correlationId: string | undefined, entityId: string): void {
    this.emit('filtered', false, `Filtered out: ${reason}.`, correlationId, entityId);
    // §9 weak ack: a declaring subscriber that does not get the signal acknowledges it automatically.
    this.ack(entityId, 'twin', correlationId, 200, 'Acknowledgement was issued automatically as weak ack, because the signal is not relevant for the subscriber.', true);
  }

  /** §11.4 issuedAcknowledgementLabel: 200 once the broker confirmed, 503 when publishing failed. */
  private ack(thingId: string, channel: 'twin' | 'live', correlationId: string | undefined, status: number, payload?: unknown, weak = false): void {
    const label = this.o.target.issuedAcknowledgementLabel;
    if (!this.o.issueAck || label === undefined || correlationId === undefined) return;
    const headers: Record<string, string> = { 'correlation-id': correlationId };
    if (weak) headers['ditto-weak-ack'] = 'true';
    try {
      this.o.issueAck({ thingId, channel, label, status, ...(payload === undefined ? {} : { payload }), headers });
    } catch (err) {
      this.o.log('issuing an acknowledgement failed', err);
    }
  }

  /** Resolves when everything queued so far was handed to the connector. */
  drain(): Promise<void> {
    return this.chain;
  }
}
