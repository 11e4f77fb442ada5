/**
 * Per-signal views for subscribers (ditto-interfaces.md §5 "Outgoing", §6, §3.2 event filters, §11.4 target
 * topics): a signal is pruned once per distinct set of subjects (`filterReadable` of the thing's policy),
 * enriched once per distinct `extraFields`, and rendered to JSON once per distinct shape — never once per
 * subscriber. WebSocket sessions, SSE streams and connection targets all get their signals from here.
 *
 * ditto: a filter is evaluated on the change rendered as a partial thing (ThingEventToThingConverter) merged
 * with the `extraFields` of the thing after the change, with the topic, resource and entity placeholders.
 */
import {
  fromThingEvent,
  renderProtocolMessage,
  subscriberHeaders,
  type ProtocolJson,
  type ProtocolMessage,
  type TopicPath,
} from '../protocol/index.js';
import type { ThingEvent } from '../model/signals.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { getAt, isPlainObject, parsePointer } from '../util/json-pointer.js';
import { deepMerge, extended } from '../util/objects.js';
import type { Delivery, DeliverySource, Miss, StreamKind, Subscriber, Subscription } from './subscription.js';

const READ = ['READ'] as const;

/** `{thingId, …}` with `value` placed at `path` (the event "rendered as a partial Thing", §3.2). */
export function partialThing(thingId: string, path: string, value: unknown): Record<string, unknown> {
  const segments = parsePointer(path);
  if (segments.length === 0) return isPlainObject(value) ? extended(value, { thingId }) : { thingId };
  const root: Record<string, unknown> = { thingId };
  let node = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const next: Record<string, unknown> = {};
    node[segments[i]] = next;
    node = next;
  }
  if (value !== undefined) node[segments[segments.length - 1]] = value;
  return root;
}

/** ditto: §3.2 placeholders of change-notification filters, resolved for one signal. */
function placeholders(topic: TopicPath, thingId: string, path: string): Record<string, string> {
  const colon = thingId.indexOf(':');
  const p: Record<string, string> = {
    'topic:namespace': topic.namespace,
    'topic:entityName': topic.name,
    'topic:group': topic.group,
    'topic:criterion': topic.criterion,
    'resource:type': topic.criterion === 'messages' ? 'message' : 'thing',
    'resource:path': path,
    'entity:id': thingId,
    'entity:namespace': thingId.slice(0, Math.max(colon, 0)),
    'entity:name': thingId.slice(colon + 1),
  };
  if (topic.channel !== undefined) p['topic:channel'] = topic.channel;
  const action = topic.action ?? topic.subject;
  if (action !== undefined) p['topic:action'] = action;
  if (topic.subject !== undefined) p['topic:subject'] = topic.subject;
  return p;
}

/** What one set of subjects may see of a signal: its message, and the change as a partial thing (made when read). */
class View {
  private partialOf: Record<string, unknown> | undefined;

  /** `path` undefined: a signal that changes nothing (live messages and commands): `{thingId}`. */
  constructor(
    readonly message: ProtocolMessage,
    private readonly thingId: string,
    private readonly path: string | undefined,
    private readonly value: unknown,
  ) {}

  /** Filters and projections read it, and SSE renders it; most deliveries need neither. */
  get partial(): Record<string, unknown> {
    return (this.partialOf ??=
      this.path === undefined
        ? { thingId: this.thingId }
        : partialThing(this.thingId, this.path, this.value));
  }
}

/**
 * A memo per subjects key: the first key in fields (the subscribers of most signals share one set of
 * subjects), a map only from the second on.
 */
class PerKey<T> {
  private firstKey: string | undefined;
  private first: T | undefined;
  private more: Map<string, T> | undefined;

  get(key: string): T | undefined {
    return key === this.firstKey ? this.first : this.more?.get(key);
  }

  set(key: string, value: T): void {
    if (this.firstKey === undefined) {
      this.firstKey = key;
      this.first = value;
    } else (this.more ??= new Map()).set(key, value);
  }
}

/** One delivery of a signal, shared by the subscribers of its shape. */
class SharedDelivery implements Delivery {
  bytes: Buffer | undefined = undefined;
  frame: Buffer | undefined = undefined;

  constructor(
    readonly kind: StreamKind,
    readonly thingId: string,
    readonly message: ProtocolMessage,
    readonly json: ProtocolJson,
    readonly text: string,
    private readonly view: View,
    readonly signal: unknown,
    readonly source: DeliverySource,
  ) {}

  get partial(): Record<string, unknown> {
    return this.view.partial;
  }
}

/** What a signal offers subscribers; one per published signal. */
export interface SignalSource {
  kind: StreamKind;
  thingId: string;
  path: string;
  /** Readable view for the subjects, or undefined when they may not see the signal. */
  view(subscriber: Subscriber): View | undefined;
  /** The thing after the change, pruned for the subjects (for `extraFields`), or undefined. */
  thing(subscriber: Subscriber): Record<string, unknown> | undefined;
  signal: unknown;
  topic: TopicPath;
  /** Made by another instance of the cluster (`Subscription.localOnly` subscribers do not get it). */
  remote: boolean;
}

/** A twin or live thing event: pruned with the policy per subjects (§5, 3.9 partial events). */
export function eventSource(
  kind: StreamKind,
  event: ThingEvent,
  enforcer: ThingEnforcer | undefined,
  thing: Record<string, unknown> | undefined,
  remote = false,
): SignalSource {
  return new EventSource(kind, event, enforcer, thing, remote);
}

class EventSource implements SignalSource {
  readonly thingId: string;
  readonly path: string;
  readonly topic: TopicPath;
  private readonly base: ProtocolMessage;
  private readonly views = new PerKey<View | null>();
  /** Made when a subscriber with `extraFields` or a `thing-json:` placeholder first reads the thing. */
  private things: PerKey<Record<string, unknown> | null> | undefined;

  constructor(
    readonly kind: StreamKind,
    readonly signal: ThingEvent,
    private readonly enforcer: ThingEnforcer | undefined,
    private readonly after: Record<string, unknown> | undefined,
    readonly remote: boolean,
  ) {
    this.thingId = signal.thingId;
    this.path = signal.path;
    this.base = fromThingEvent(signal);
    this.base.headers = subscriberHeaders(this.base.headers);
    this.topic = this.base.topic;
  }

  view(subscriber: Subscriber): View | undefined {
    let v = this.views.get(subscriber.subjectsKey);
    if (v === undefined) {
      v = this.computeView(subscriber.auth.subjects) ?? null;
      this.views.set(subscriber.subjectsKey, v);
    }
    return v ?? undefined;
  }

  thing(subscriber: Subscriber): Record<string, unknown> | undefined {
    const { enforcer, after } = this;
    if (after === undefined || enforcer === undefined) return undefined;
    const things = (this.things ??= new PerKey());
    let t = things.get(subscriber.subjectsKey);
    if (t === undefined) {
      const pruned = enforcer.filterReadable('thing', '/', after, subscriber.auth.subjects);
      t = isPlainObject(pruned) ? pruned : null;
      things.set(subscriber.subjectsKey, t);
    }
    return t ?? undefined;
  }

  private computeView(subjects: readonly string[]): View | undefined {
    const { enforcer, signal: event, base } = this;
    if (enforcer === undefined) return undefined;
    if (event.action === 'deleted' || base.value === undefined) {
      if (!enforcer.hasPartial('thing:' + event.path, subjects, READ)) return undefined;
      return new View(base, event.thingId, event.path, undefined);
    }
    const pruned = enforcer.filterReadable('thing', event.path, base.value, subjects);
    if (pruned === undefined) return undefined;
    const message = pruned === base.value ? base : { ...base, value: pruned };
    return new View(message, event.thingId, event.path, pruned);
  }
}

/** A live message or live command: delivered whole to subjects with READ on `resource` (§2.6, §10). */
export function liveSource(
  kind: StreamKind,
  thingId: string,
  message: ProtocolMessage,
  resource: string,
  enforcer: ThingEnforcer,
  signal: unknown,
): SignalSource {
  const views = new PerKey<boolean>();
  const view = new View(
    { ...message, headers: subscriberHeaders(message.headers) },
    thingId,
    undefined,
    undefined,
  );
  return {
    kind,
    thingId,
    path: message.path,
    signal,
    topic: message.topic,
    remote: false,
    view(subscriber) {
      let ok = views.get(subscriber.subjectsKey);
      if (ok === undefined) {
        ok = enforcer.hasUnrestricted(resource, subscriber.auth.subjects, READ);
        views.set(subscriber.subjectsKey, ok);
      }
      return ok ? view : undefined;
    },
    thing: () => undefined,
  };
}

/** Renders and caches the deliveries of one signal per (subjects, extraFields). */
export class DeliveryCache implements DeliverySource {
  private readonly plain = new PerKey<Delivery>();
  private shaped: PerKey<Delivery> | undefined;
  private placeholderValues?: Record<string, string>;
  /** Why the last deliveryFor() gave nothing, when the subscriber is told (Subscriber.missed); else undefined. */
  lastMiss: Miss | undefined;

  /** `session`: the ID of the subscriber that sent the signal, which never gets it back (same origin). */
  constructor(
    private readonly source: SignalSource,
    private readonly session?: string,
  ) {}

  readableThing(subscriber: Subscriber): Record<string, unknown> | undefined {
    return this.source.thing(subscriber);
  }

  /**
   * The delivery for `subscriber` under `subscription`, or undefined when it is filtered out (`lastMiss` then
   * says why when it was for READ or the filter).
   */
  deliveryFor(subscriber: Subscriber, subscription: Subscription): Delivery | undefined {
    const { source } = this;
    this.lastMiss = undefined;
    if (subscriber.id === this.session) return undefined;
    if (subscription.localOnly === true && source.remote) return undefined;
    if (subscription.namespaces !== undefined) {
      const colon = source.thingId.indexOf(':');
      if (!subscription.namespaces.has(source.thingId.slice(0, Math.max(colon, 0)))) return undefined;
    }
    if (subscription.match !== undefined && !subscription.match(source.thingId, source.path))
      return undefined;
    const view = source.view(subscriber);
    if (view === undefined) {
      this.lastMiss = 'unreadable';
      return undefined;
    }
    let extra: Record<string, unknown> | undefined;
    if (subscription.extraFields !== undefined) {
      const thing = source.thing(subscriber);
      if (thing !== undefined) {
        const selected = applyFieldSelector(thing, subscription.extraFields);
        if (Object.keys(selected).length > 0) extra = selected;
      }
    }
    if (subscription.filter !== undefined) {
      this.placeholderValues ??= placeholders(source.topic, source.thingId, source.path);
      const subject = {
        ...(extra ? deepMerge(view.partial, extra) : view.partial),
        ...this.placeholderValues,
      };
      if (!subscription.filter(subject)) {
        this.lastMiss = 'filtered';
        return undefined;
      }
    }
    let value = view.message.value;
    if (subscription.projection !== undefined && value !== undefined) {
      const projected = applyFieldSelector(
        extra ? deepMerge(view.partial, extra) : view.partial,
        subscription.projection,
      );
      value = getAt(projected, parsePointer(source.path));
      if (value === undefined) {
        this.lastMiss = 'filtered';
        return undefined;
      }
    }
    // Deliveries as the view is, by subjects; those with `extra` or a projection apart, by subjects and shape.
    const plain = extra === undefined && subscription.projectionText === undefined;
    const key = plain
      ? subscriber.subjectsKey
      : `${subscriber.subjectsKey}\u0000${extra === undefined ? '' : subscription.extraFieldsText}\u0000${subscription.projectionText ?? ''}`;
    const cache = plain ? this.plain : (this.shaped ??= new PerKey());
    let delivery = cache.get(key);
    if (delivery === undefined) {
      let message = extra === undefined ? view.message : extended(view.message, { extra });
      if (value !== view.message.value) message = { ...message, value };
      const json = renderProtocolMessage(message);
      delivery = new SharedDelivery(
        source.kind,
        source.thingId,
        message,
        json,
        JSON.stringify(json),
        view,
        source.signal,
        this,
      );
      cache.set(key, delivery);
    }
    return delivery;
  }
}
