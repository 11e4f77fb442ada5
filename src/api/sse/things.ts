/**
 * Change notifications of things as SSE (ditto-interfaces.md §6, §15): `data` is the readable part of
 * the change as Thing JSON (or, on a sub-path stream, the raw value at that pointer), projected by
 * `fields` (with `_revision`, `_modified`, `_context`); `id` is `<thingId>:<revision>`. A client that
 * reconnects with `Last-Event-ID` gets the events after that one replayed from the journal, then the
 * live ones, with none lost or repeated.
 */
import { jsonFormatInvalid } from '../../errors/general.js';
import type { HistoryRequest } from '../../history/history.js';
import type { ThingEvent } from '../../model/signals.js';
import { deepMerge } from '../../util/objects.js';
import { parseInstant, renderProtocolMessage } from '../../protocol/index.js';
import type { Store } from '../../store/port.js';
import type { SubscriberRegistry } from '../../streaming/registry.js';
import type { Delivery, Subscription } from '../../streaming/subscription.js';
import { DeliveryCache, eventSource, type SignalSource } from '../../streaming/views.js';
import type { ThingEnforcer } from '../../things/policy-directory.js';
import type { ThingsService } from '../../things/service.js';
import { applyFieldSelector, type FieldSelector } from '../../util/field-selector.js';
import { getAt } from '../../util/json-pointer.js';
import type { SseEvent, SseStream } from './stream.js';

export interface ThingStreamSpec {
  fields?: FieldSelector;
  /** Sub-path stream: the pointer segments below the thing; data = value there. */
  pointer?: string[];
}

/** The SSE event of one delivered thing event, or undefined when its projection is empty (§6). */
export function renderThingEvent(delivery: Delivery, spec: ThingStreamSpec): SseEvent | undefined {
  const event = delivery.signal as ThingEvent;
  const id = `${event.thingId}:${event.revision}`;
  const partial = delivery.partial ?? { thingId: event.thingId };
  if (spec.pointer !== undefined) {
    const value = getAt(partial, spec.pointer);
    if (value === undefined) return undefined;
    return { id, data: JSON.stringify(value) };
  }
  if (spec.fields === undefined) return { id, data: JSON.stringify(partial) };
  const extra = delivery.message.extra;
  const source: Record<string, unknown> = {
    ...(extra ? deepMerge(partial, extra) : partial),
    _revision: event.revision,
    _modified: event.timestamp,
    _context: renderProtocolMessage({ ...delivery.message, extra: undefined }),
  };
  const projected = applyFieldSelector(source, spec.fields);
  if (Object.keys(projected).length === 0) return undefined;
  return { id, data: JSON.stringify(projected) };
}

/**
 * The history a things stream asks for (ditto: basic-history "Streaming via SSE"): `from-historical-revision`
 * (negative: relative to the current revision), `to-historical-revision` (0 or negative: relative),
 * `from-historical-timestamp`, `to-historical-timestamp`. Undefined when the query names none: a stream of
 * live changes. As Ditto, revisions take precedence: timestamps count only without `from-historical-revision`.
 * Throws 400 `json.format.invalid` for a value that is not an integer or an ISO-8601 date-time.
 */
export function historyRequestOf(query: Record<string, string | undefined>): HistoryRequest | undefined {
  const names = [
    'from-historical-revision',
    'to-historical-revision',
    'from-historical-timestamp',
    'to-historical-timestamp',
  ];
  if (names.every((name) => query[name] === undefined)) return undefined;
  const integer = (name: string): number | undefined => {
    const text = query[name];
    if (text === undefined) return undefined;
    const n = /^\s*-?\d{1,16}\s*$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n))
      throw jsonFormatInvalid({ detail: `The query parameter '${name}' must be an integer, got '${text}'.` });
    return n;
  };
  const instant = (name: string): number | undefined => {
    const text = query[name];
    if (text === undefined) return undefined;
    const ms = parseInstant(text);
    if (ms === undefined)
      throw jsonFormatInvalid({
        detail: `The query parameter '${name}' must be an ISO-8601 date-time such as 2026-01-01T12:00:00Z, got '${text}'.`,
      });
    return ms;
  };
  const request: HistoryRequest = {};
  const fromRevision = integer('from-historical-revision');
  const toRevision = integer('to-historical-revision');
  const fromTimestamp = instant('from-historical-timestamp');
  const toTimestamp = instant('to-historical-timestamp');
  if (fromRevision !== undefined) request.fromRevision = fromRevision;
  if (toRevision !== undefined) request.toRevision = toRevision;
  if (fromRevision === undefined) {
    if (fromTimestamp !== undefined) request.fromTimestamp = fromTimestamp;
    if (toTimestamp !== undefined) request.toTimestamp = toTimestamp;
  }
  return request;
}

/** Writes the events of a history stream as far as `subscription` lets each through, paced by the socket; then ends it. */
export async function writeHistory(
  stream: SseStream,
  sources: AsyncIterable<SignalSource>,
  subscription: Subscription,
): Promise<void> {
  try {
    for await (const source of sources) {
      if (stream.isClosed) return;
      const delivery = new DeliveryCache(source).deliveryFor(stream, subscription);
      const event = delivery === undefined ? undefined : stream.render(delivery);
      if (event === undefined) continue;
      if (!stream.write(event)) return;
      await stream.drained();
    }
  } finally {
    stream.end();
  }
}

/** `thingId:revision` of a Last-Event-ID, or undefined when it is not one. */
export function parseEventId(
  lastEventId: string | undefined,
): { thingId: string; revision: number } | undefined {
  if (!lastEventId) return undefined;
  const colon = lastEventId.lastIndexOf(':');
  const revision = Number(lastEventId.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(revision)) return undefined;
  return { thingId: lastEventId.slice(0, colon), revision };
}

export interface ResumeDeps {
  store: Store;
  things: ThingsService;
  registry: SubscriberRegistry;
  policies: { enforcerFor(policyId: string | undefined): Promise<ThingEnforcer | undefined> };
}

/**
 * Subscribes `stream` and, for a Last-Event-ID, replays the journal after that event first (found through
 * the store's history: the journal is read from its position, not from the start). Live events arriving
 * meanwhile are held and written afterwards unless the replay already wrote them (same thing, revision not
 * newer). An event the journal no longer holds replays nothing.
 */
export async function subscribeWithResume(
  deps: ResumeDeps,
  stream: SseStream,
  subscription: Subscription,
  lastEventId: string | undefined,
): Promise<void> {
  const from = parseEventId(lastEventId);
  if (from === undefined) {
    deps.registry.subscribe(stream, subscription);
    return;
  }
  stream.hold();
  deps.registry.subscribe(stream, subscription);
  const replayed = new Map<string, number>();
  try {
    const last = await deps.store.historyAt('thing', from.thingId, { revision: from.revision });
    if (last === undefined || last.record.revision !== from.revision) return;
    for await (const entry of deps.store.readJournal(last.seq)) {
      if (stream.isClosed) return;
      if (entry.kind !== 'thing') continue;
      const { event, policyId } = entry.event as { event: ThingEvent; policyId?: string };
      const enforcer = await deps.policies.enforcerFor(policyId);
      const current = subscription.extraFields ? await deps.things.get(event.thingId) : undefined;
      const source = eventSource('events', event, enforcer, current?.value ?? undefined);
      const delivery = new DeliveryCache(source).deliveryFor(stream, subscription);
      replayed.set(event.thingId, event.revision);
      if (delivery === undefined) continue;
      const rendered = stream.render(delivery);
      if (rendered !== undefined) stream.write(rendered);
    }
  } finally {
    stream.release((d) => {
      const e = d.signal as ThingEvent;
      return e.revision > (replayed.get(e.thingId) ?? 0);
    });
  }
}
