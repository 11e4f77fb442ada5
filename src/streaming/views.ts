/**
 * Per-signal views for subscribers (ditto-interfaces.md §5 "Outgoing", §6, §3.2 event filters): a signal
 * is pruned once per distinct set of subjects (`filterReadable` of the thing's policy), enriched once per
 * distinct `extraFields`, and rendered to JSON once per distinct shape — never once per subscriber.
 */
import { fromThingEvent, subscriberHeaders, type ProtocolMessage, stringifyProtocolMessage, type TopicPath } from '../protocol/index.js';
import type { ThingEvent } from '../model/signals.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import { applyFieldSelector } from '../util/field-selector.js';
import { getAt, isPlainObject, parsePointer } from '../util/json-pointer.js';
import { deepMerge, extended } from '../util/objects.js';
import type { Delivery, StreamKind, Subscriber, Subscription } from './subscription.js';

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

interface View {
  message: ProtocolMessage;
  partial: Record<string, unknown>;
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
}

/** A twin or live thing event: pruned with the policy per subjects (§5, 3.9 partial events). */
export function eventSource(kind: StreamKind, event: ThingEvent, enforcer: ThingEnforcer | undefined, thing: Record<string, unknown> | undefined): SignalSource {
  const views = new Map<string, View | null>();
  const things = new Map<string, Record<string, unknown> | null>();
  const base = fromThingEvent(event);
  base.headers = subscriberHeaders(base.headers);
  return {
    kind,
    thingId: event.thingId,
    path: event.path,
    signal: event,
    topic: base.topic,
    view(subscriber) {
      let v = views.get(subscriber.subjectsKey);
      if (v === undefined) {
        v = computeView(subscriber.auth.subjects) ?? null;
        views.set(subscriber.subjectsKey, v);
      }
      return v ?? undefined;
    },
    thing(subscriber) {
      if (thing === undefined || enforcer === undefined) return undefined;
      let t = things.get(subscriber.subjectsKey);
      if (t === undefined) {
        const pruned = enforcer.filterReadable('thing', '/', thing, subscriber.auth.subjects);
        t = isPlainObject(pruned) ? pruned : null;
        things.set(subscriber.subjectsKey, t);
      }
      return t ?? undefined;
    },
  };

  function computeView(subjects: readonly string[]): View | undefined {
    if (enforcer === undefined) return undefined;
    if (event.action === 'deleted' || base.value === undefined) {
      if (!enforcer.hasPartial('thing:' + event.path, subjects, READ)) return undefined;
      return { message: base, partial: partialThing(event.thingId, event.path, undefined) };
    }
    const pruned = enforcer.filterReadable('thing', event.path, base.value, subjects);
    if (pruned === undefined) return undefined;
    const message = pruned === base.value ? base : { ...base, value: pruned };
    return { message, partial: partialThing(event.thingId, event.path, pruned) };
  }
}

/** A live message or live command: delivered whole to subjects with READ on `resource` (§2.6, §10). */
export function liveSource(kind: StreamKind, thingId: string, message: ProtocolMessage, resource: string, enforcer: ThingEnforcer, signal: unknown): SignalSource {
  const views = new Map<string, boolean>();
  const view: View = { message: { ...message, headers: subscriberHeaders(message.headers) }, partial: { thingId } };
  return {
    kind,
    thingId,
    path: message.path,
    signal,
    topic: message.topic,
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
export class DeliveryCache {
  private readonly cache = new Map<string, Delivery | null>();
  private placeholderValues?: Record<string, string>;

  /** `session`: the ID of the subscriber that sent the signal, which never gets it back (same origin). */
  constructor(
    private readonly source: SignalSource,
    private readonly session?: string,
  ) {}

  /** The delivery for `subscriber` under `subscription`, or undefined when it is filtered out. */
  deliveryFor(subscriber: Subscriber, subscription: Subscription): Delivery | undefined {
    const { source } = this;
    if (subscriber.id === this.session) return undefined;
    if (subscription.namespaces !== undefined) {
      const colon = source.thingId.indexOf(':');
      if (!subscription.namespaces.has(source.thingId.slice(0, Math.max(colon, 0)))) return undefined;
    }
    if (subscription.match !== undefined && !subscription.match(source.thingId, source.path)) return undefined;
    const view = source.view(subscriber);
    if (view === undefined) return undefined;
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
      const subject = { ...(extra ? deepMerge(view.partial, extra) : view.partial), ...this.placeholderValues };
      if (!subscription.filter(subject)) return undefined;
    }
    let value = view.message.value;
    if (subscription.projection !== undefined && value !== undefined) {
      const projected = applyFieldSelector(extra ? deepMerge(view.partial, extra) : view.partial, subscription.projection);
      value = getAt(projected, parsePointer(source.path));
      if (value === undefined) return undefined;
    }
    const key = `${subscriber.subjectsKey}\u0000${extra === undefined ? '' : subscription.extraFieldsText}\u0000${subscription.projectionText ?? ''}`;
    let delivery = this.cache.get(key);
    if (delivery === undefined || delivery === null) {
      let message = extra === undefined ? view.message : extended(view.message, { extra });
      if (value !== view.message.value) message = { ...message, value };
      delivery = { kind: source.kind, thingId: source.thingId, message, text: stringifyProtocolMessage(message), partial: view.partial, signal: source.signal, source: this };
      this.cache.set(key, delivery);
    }
    return delivery;
  }
}
