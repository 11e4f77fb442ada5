/**
 * Streams of persisted events (ditto: basic-history "Streaming historical events"): the events of one thing
 * or policy within a range, as a subscriber may see them, for SSE and the streaming subscription protocol.
 *
 * Enforcement as Ditto's (StreamRequestingCommandEnforcement, PolicyCommandEnforcement), with the policy as it
 * is now: a thing's stream needs unrestricted READ on the streamed resource (`thing:/` or the SSE sub-path), a
 * policy's READ on some part of it; otherwise 404 `things:thing.notfound` / `policies:policy.notfound`, told
 * before anything of the history. Each event is then pruned per path with the current policy (a revoke made
 * mid-stream applies to the events still to come); an event with nothing readable is left out.
 */
import { subjectsKeyOf, type AuthContext } from '../auth/context.js';
import { policyNotFound } from '../errors/policies.js';
import { thingNotFound } from '../errors/things.js';
import type { DittoHeaders, PolicyEvent, ThingEvent } from '../model/signals.js';
import { fromPolicyEvent, renderProtocolMessage, type ProtocolJson } from '../protocol/index.js';
import type { HistoryEntry } from '../store/port.js';
import { compileSubscription, type Subscriber, type Subscription } from '../streaming/subscription.js';
import { DeliveryCache, eventSource, type SignalSource } from '../streaming/views.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import { isPlainObject } from '../util/json-pointer.js';
import { entriesOf, type History, type HistoryRequest } from './history.js';
import { StreamingSubscriptions, type StreamingSubscriptionsOptions } from './subscriptions.js';

const READ = ['READ'] as const;

export interface HistoryEventDeps {
  history: History;
  /** The enforcer of a policy as it is now (things: the thing's policy; policies: the policy itself). */
  enforcerFor(policyId: string | undefined): Promise<ThingEnforcer | undefined>;
}

/** What a thing's journal line holds beside its record (src/things/commit.ts). */
interface StoredThingEvent {
  event: ThingEvent;
  policyId?: string;
}

/** The headers of a historical event: the request's correlation-id and the revision's `historical-headers`. */
function eventHeaders(entry: HistoryEntry, requestHeaders: DittoHeaders): DittoHeaders {
  const headers: DittoHeaders = {};
  if (requestHeaders['correlation-id'] !== undefined)
    headers['correlation-id'] = requestHeaders['correlation-id'];
  if (entry.headers !== undefined) headers['historical-headers'] = JSON.stringify(entry.headers);
  return headers;
}

/**
 * The persisted events of thing `thingId` in `request`, each as a SignalSource (the live events' views:
 * pruned per subscriber, `extraFields` from the thing as it was after that event). Checks before it resolves;
 * throws `things:thing.notfound`.
 */
export async function openThingHistory(
  deps: HistoryEventDeps,
  thingId: string,
  pointer: string,
  request: HistoryRequest,
  auth: AuthContext,
  headers: DittoHeaders,
): Promise<AsyncIterable<SignalSource>> {
  const current = await deps.history.store.get('thing', thingId);
  const policyId = (current?.value as { policyId?: string } | null | undefined)?.policyId;
  const enforcer = current?.value ? await deps.enforcerFor(policyId) : undefined;
  if (!current?.value || !enforcer?.hasUnrestricted('thing:' + pointer, auth.subjects, READ))
    throw thingNotFound({ thingId });
  return (async function* () {
    for await (const entry of entriesOf(deps.history, 'thing', current, request)) {
      const stored = entry.event as StoredThingEvent | undefined;
      if (stored?.event === undefined) continue;
      const now = await deps.enforcerFor(policyId);
      if (now === undefined) throw thingNotFound({ thingId });
      yield eventSource(
        'events',
        { ...stored.event, headers: eventHeaders(entry, headers) },
        now,
        (entry.record.value as Record<string, unknown> | null) ?? undefined,
      );
    }
  })();
}

/** What a policy's journal line holds beside its record (policies/service.ts commit). */
interface StoredPolicyEvent {
  event: PolicyEvent;
}

/** The persisted events of policy `policyId` in `request`, pruned per path. Throws `policies:policy.notfound`. */
export async function openPolicyHistory(
  deps: HistoryEventDeps,
  policyId: string,
  request: HistoryRequest,
  auth: AuthContext,
  headers: DittoHeaders,
): Promise<AsyncIterable<PolicyEvent>> {
  const current = await deps.history.store.get('policy', policyId);
  const enforcer = current?.value ? await deps.enforcerFor(policyId) : undefined;
  if (!current?.value || !enforcer?.hasPartial('policy:/', auth.subjects, READ))
    throw policyNotFound({ policyId });
  return (async function* () {
    for await (const entry of entriesOf(deps.history, 'policy', current, request)) {
      const stored = entry.event as StoredPolicyEvent | undefined;
      if (stored?.event === undefined) continue;
      const now = await deps.enforcerFor(policyId);
      if (now === undefined) throw policyNotFound({ policyId });
      const { event } = stored;
      const result: PolicyEvent = { ...event, headers: eventHeaders(entry, headers) };
      if (event.action === 'deleted' || event.value === undefined) {
        if (!now.hasPartial('policy:' + event.path, auth.subjects, READ)) continue;
        delete result.value;
      } else {
        const pruned = now.filterReadable('policy', event.path, event.value, auth.subjects);
        if (pruned === undefined) continue;
        // ditto: a policy event of the whole policy carries its policyId, as a retrieve does.
        result.value = event.path === '/' && isPlainObject(pruned) ? { policyId, ...pruned } : pruned;
      }
      yield result;
    }
  })();
}

/** A subscriber that only renders: the protocol stream takes each delivery itself. */
function renderingSubscriber(auth: AuthContext): Subscriber {
  return { id: 'history', auth, subjectsKey: subjectsKeyOf(auth), offer: () => false };
}

/**
 * The items of a streaming subscription (`subscribeForPersistedEvents`): each persisted event as Ditto
 * Protocol JSON, thing events filtered by the subscribe's RQL `filter` on the readable partial thing (throws
 * `rql.expression.invalid`). Checks and parses before it resolves.
 */
export async function openPersistedEvents(
  deps: HistoryEventDeps,
  command: {
    entityType: 'thing' | 'policy';
    entityId: string;
    path: string;
    filter?: string;
    headers: DittoHeaders;
  },
  request: HistoryRequest,
  auth: AuthContext,
): Promise<AsyncIterable<ProtocolJson>> {
  if (command.entityType === 'policy') {
    const events = await openPolicyHistory(deps, command.entityId, request, auth, command.headers);
    return (async function* () {
      for await (const event of events) yield renderProtocolMessage(fromPolicyEvent(event));
    })();
  }
  const subscription: Subscription = compileSubscription(
    'events',
    command.filter === undefined ? {} : { filter: command.filter },
  );
  const sources = await openThingHistory(
    deps,
    command.entityId,
    command.path,
    request,
    auth,
    command.headers,
  );
  const subscriber = renderingSubscriber(auth);
  return (async function* () {
    for await (const source of sources) {
      const delivery = new DeliveryCache(source).deliveryFor(subscriber, subscription);
      if (delivery !== undefined) yield renderProtocolMessage(delivery.message);
    }
  })();
}

/** The streaming subscriptions of persisted events for one client (a WebSocket session, a connection source). */
export function persistedEventSubscriptions(
  deps: HistoryEventDeps,
  send: StreamingSubscriptionsOptions['send'],
  log: StreamingSubscriptionsOptions['log'],
): StreamingSubscriptions {
  return new StreamingSubscriptions({
    open: (command, request, auth) => openPersistedEvents(deps, command, request, auth),
    send,
    log,
  });
}
