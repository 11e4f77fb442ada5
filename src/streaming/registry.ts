/**
 * The subscriber registry: the one path by which WebSocket sessions, SSE streams and connection targets get
 * twin events, live messages, live commands, live events and policy announcements (ditto-interfaces.md §5,
 * §6, §7.1, §10, §11.4).
 *
 * For every signal it checks, per subscriber: the namespaces, the transport's narrowing, READ permission
 * (pruning the signal to the readable part, once per distinct set of subjects), `extraFields` enrichment
 * and the RQL filter; then it hands the delivery to the subscriber's `offer` (or tells a subscriber that
 * wants to know why it did not get a signal, `missed`). Subscribers outside a group
 * all get every signal they may read (ditto: §14.8 fan-out). Members of a consumer group (§15) share the
 * signals: each goes to one member, chosen by consistent hashing of the thing ID over the members; a
 * member that cannot take it (filtered, no READ, closed, buffer full) passes it to the next one on the ring.
 *
 * Same origin (ditto: StreamingSessionActor drops signals whose `ditto-origin` is its own connection): a
 * signal is never offered to the session that sent it — the twin events of its commands, its live messages,
 * commands and events. Every other subscriber gets it as usual, other sessions of the same user included;
 * in a consumer group the next member takes it. Policy announcements carry no session: the policy issues
 * them (ditto: SubjectExpiryActor gives them fresh headers), so the session whose command deleted a subject
 * is told like any other.
 *
 * Runs synchronously on the bus, so every subscriber sees the events of one thing in revision order.
 */
import type { PublishedThingEvent, SignalBus } from '../bus/signal-bus.js';
import { isRemoteEvent } from '../cluster/remote.js';
import type { PolicyAnnouncement, ThingEvent } from '../model/signals.js';
import { fromPolicyAnnouncement, renderProtocolMessage, type ProtocolMessage } from '../protocol/index.js';
import type { PolicyDirectory, ThingEnforcer } from '../things/policy-directory.js';
import { HashRing } from './hash-ring.js';
import type { Delivery, DeliverySource, StreamKind, Subscriber, Subscription } from './subscription.js';
import { DeliveryCache, eventSource, liveSource, type SignalSource } from './views.js';

interface Group {
  kind: StreamKind;
  name: string;
  members: Map<Subscriber, Subscription>;
  ring: HashRing<Subscriber>;
}

export interface RegistryOptions {
  bus: SignalBus;
  policies: Pick<PolicyDirectory, 'enforcerOfHead' | 'load'>;
  onError: (err: unknown) => void;
  /** Scale-out: consumer groups spanning instances (src/cluster/membership.ts); absent on a single instance. */
  cluster?: ClusterGroups;
}

/**
 * Consumer groups whose members are spread over several instances. Twin events reach every instance; the
 * instance whose member owns a thing on the cluster-wide ring delivers its events, to its own members.
 */
export interface ClusterGroups {
  join(group: string, memberId: string): void;
  leave(group: string, memberId: string): void;
  /** Whether one of this instance's members owns `thingId` in `group` on the cluster-wide ring. */
  ownsLocally(group: string, thingId: string): boolean;
}

/** Called after a signal was offered: who took it (for weak acknowledgements, §9). */
export type DeliveredListener = (
  kind: StreamKind,
  thingId: string,
  headers: Record<string, string>,
  recipients: ReadonlySet<Subscriber>,
) => void;

export class SubscriberRegistry {
  private readonly solo = new Map<StreamKind, Map<Subscriber, Subscription>>();
  private readonly groups = new Map<string, Group>();
  private readonly deliveredListeners = new Set<DeliveredListener>();
  private readonly policies: RegistryOptions['policies'];
  private readonly onError: (err: unknown) => void;
  /** Events waiting for a policy to load keep their order: later ones queue behind them. */
  private queue: Promise<void> | undefined;
  private queued = 0;
  private readonly unsubscribeBus: () => void;
  private readonly cluster: ClusterGroups | undefined;

  constructor(options: RegistryOptions) {
    this.cluster = options.cluster;
    this.policies = options.policies;
    this.onError = options.onError;
    this.unsubscribeBus = options.bus.subscribeThingEvents((published) => this.onTwinEvent(published));
  }

  close(): void {
    this.unsubscribeBus();
  }

  /** Starts (or replaces, §5 "re-sending START replaces") the subscription of `subscription.kind`. */
  subscribe(subscriber: Subscriber, subscription: Subscription): void {
    this.unsubscribe(subscriber, subscription.kind);
    if (subscription.group === undefined) {
      let map = this.solo.get(subscription.kind);
      if (!map) this.solo.set(subscription.kind, (map = new Map()));
      map.set(subscriber, subscription);
      return;
    }
    const key = `${subscription.kind}/${subscription.group}`;
    let group = this.groups.get(key);
    if (!group) {
      group = {
        kind: subscription.kind,
        name: subscription.group,
        members: new Map(),
        ring: new HashRing([], idOf),
      };
      this.groups.set(key, group);
    }
    group.members.set(subscriber, subscription);
    group.ring = new HashRing([...group.members.keys()], idOf);
    if (subscription.kind === 'events') this.cluster?.join(key, subscriber.id);
  }

  /** Stops one kind for the subscriber; returns whether it had that subscription. */
  unsubscribe(subscriber: Subscriber, kind: StreamKind): boolean {
    if (this.solo.get(kind)?.delete(subscriber)) return true;
    for (const [key, group] of this.groups) {
      if (group.kind !== kind || !group.members.delete(subscriber)) continue;
      if (kind === 'events') this.cluster?.leave(key, subscriber.id);
      if (group.members.size === 0) this.groups.delete(key);
      else group.ring = new HashRing([...group.members.keys()], idOf);
      return true;
    }
    return false;
  }

  /** Removes every subscription of a closing subscriber. */
  remove(subscriber: Subscriber): void {
    for (const kind of KINDS) this.unsubscribe(subscriber, kind);
  }

  /** Whether the subscriber has a subscription of this kind. */
  has(subscriber: Subscriber, kind: StreamKind): boolean {
    if (this.solo.get(kind)?.has(subscriber)) return true;
    for (const group of this.groups.values())
      if (group.kind === kind && group.members.has(subscriber)) return true;
    return false;
  }

  /**
   * A group delivery that a member accepted but could not write (it closed): give it to another member of
   * its group so it is not lost (§15). Returns whether some member took it.
   */
  redeliver(from: Subscriber, delivery: Delivery, subscription: Subscription): boolean {
    const g = this.groups.get(`${delivery.kind}/${subscription.group}`);
    if (!g) return false;
    for (const member of g.ring.walk(delivery.thingId)) {
      if (member === from) continue;
      // Rendered again for the member: its own READ, filter and extraFields apply.
      const again = delivery.source.deliveryFor(member, g.members.get(member)!);
      if (again !== undefined && member.offer(again)) return true;
    }
    return false;
  }

  onDelivered(listener: DeliveredListener): () => void {
    this.deliveredListeners.add(listener);
    return () => this.deliveredListeners.delete(listener);
  }

  // ------------------------------------------------------------------------------------------- publishing

  private onTwinEvent(published: PublishedThingEvent): void {
    // Without subscribers only requested acknowledgements need the dispatch (weak acks, §9).
    if (!this.hasSubscribers('events') && published.event.headers['requested-acks'] === undefined) return;
    this.publishEvent(
      'events',
      published.event,
      published.policyId,
      published.thing as Record<string, unknown> | undefined,
      published.session,
      isRemoteEvent(published),
    );
  }

  /**
   * Publishes a thing event (twin: from the bus; live: sent by a device, §10) to the subscribers of `kind`.
   * The policy must be known to the directory; if it is not loaded yet, the event waits for it and every
   * later event waits behind it, so the order per thing is kept. `session`: the ID of the subscriber whose
   * command or live event it is (not offered to it); `remote`: another instance of the cluster made it.
   */
  publishEvent(
    kind: 'events' | 'live-events',
    event: ThingEvent,
    policyId: string | undefined,
    thing: Record<string, unknown> | undefined,
    session?: string,
    remote = false,
  ): void {
    const enforcer = this.policies.enforcerOfHead(policyId);
    if (this.queued === 0 && (enforcer !== undefined || policyId === undefined)) {
      this.dispatch(eventSource(kind, event, enforcer, thing, remote), event.headers, session);
      return;
    }
    const run = (e: ThingEnforcer | undefined) =>
      this.dispatch(eventSource(kind, event, e, thing, remote), event.headers, session);
    this.queued++;
    const previous = this.queue ?? Promise.resolve();
    this.queue = previous
      .then(async () => {
        if (policyId !== undefined && this.policies.enforcerOfHead(policyId) === undefined)
          await this.policies.load(policyId);
        run(this.policies.enforcerOfHead(policyId));
      })
      .catch(this.onError)
      .finally(() => {
        if (--this.queued === 0) this.queue = undefined;
      });
  }

  /**
   * Publishes a live message or live command to the subscribers of `kind` whose subjects have READ on
   * `resource` (e.g. `message:/inbox/messages/ask`, `thing:/attributes`), except the subscriber with the ID
   * `session` that sent it. Returns who took it.
   */
  publishLive(
    kind: 'messages' | 'live-commands',
    thingId: string,
    message: ProtocolMessage,
    resource: string,
    enforcer: ThingEnforcer,
    signal: unknown,
    session?: string,
  ): ReadonlySet<Subscriber> {
    return this.dispatch(
      liveSource(kind, thingId, message, resource, enforcer, signal),
      message.headers,
      session,
    );
  }

  /**
   * Publishes a policy announcement (§4.7, §7.1) to the subscribers of policy announcements that are
   * authenticated as one of its subjects, in the policy's namespaces if they chose some. A consumer group
   * gets it once. Returns who took it.
   */
  publishPolicyAnnouncement(announcement: PolicyAnnouncement): ReadonlySet<Subscriber> {
    const message = fromPolicyAnnouncement(announcement);
    const json = renderProtocolMessage(message);
    const text = JSON.stringify(json);
    const announced = new Set(announcement.subjectIds);
    const colon = announcement.policyId.indexOf(':');
    const namespace = announcement.policyId.slice(0, Math.max(colon, 0));
    const source: DeliverySource = {
      deliveryFor: (subscriber: Subscriber, subscription: Subscription): Delivery | undefined => {
        if (subscription.namespaces !== undefined && !subscription.namespaces.has(namespace))
          return undefined;
        if (!subscriber.auth.subjects.some((s) => announced.has(s))) return undefined;
        return {
          kind: 'policy-announcements',
          thingId: announcement.policyId,
          message,
          json,
          text,
          signal: announcement,
          source,
        };
      },
      readableThing: () => undefined,
    };
    const recipients = new Set<Subscriber>();
    for (const [subscriber, subscription] of this.solo.get('policy-announcements') ?? []) {
      const delivery = source.deliveryFor(subscriber, subscription);
      if (delivery !== undefined && subscriber.offer(delivery)) recipients.add(subscriber);
    }
    for (const group of this.groups.values()) {
      if (group.kind !== 'policy-announcements') continue;
      for (const member of group.ring.walk(announcement.policyId)) {
        const delivery = source.deliveryFor(member, group.members.get(member)!);
        if (delivery !== undefined && member.offer(delivery)) {
          recipients.add(member);
          break;
        }
      }
    }
    return recipients;
  }

  private hasSubscribers(kind: StreamKind): boolean {
    if ((this.solo.get(kind)?.size ?? 0) > 0) return true;
    for (const group of this.groups.values()) if (group.kind === kind) return true;
    return false;
  }

  /** Offers the signal to the subscribers of its kind, except the one with the ID `session` (same origin). */
  private dispatch(
    source: SignalSource,
    headers: Record<string, string>,
    session: string | undefined,
  ): ReadonlySet<Subscriber> {
    // Made when the first subscriber takes the signal.
    let recipients: Set<Subscriber> | undefined;
    const cache = new DeliveryCache(source, session);
    const solo = this.solo.get(source.kind);
    if (solo) {
      for (const [subscriber, subscription] of solo) {
        try {
          const delivery = cache.deliveryFor(subscriber, subscription);
          if (delivery !== undefined) {
            if (subscriber.offer(delivery)) (recipients ??= new Set()).add(subscriber);
          } else if (cache.lastMiss !== undefined && subscriber.missed !== undefined) {
            subscriber.missed(cache.lastMiss, source.thingId, headers);
          }
        } catch (err) {
          this.onError(err);
        }
      }
    }
    for (const [key, group] of this.groups) {
      if (group.kind !== source.kind) continue;
      // Twin events reach every instance: only the one owning the thing on the cluster-wide ring delivers.
      if (source.kind === 'events' && this.cluster && !this.cluster.ownsLocally(key, source.thingId))
        continue;
      for (const member of group.ring.walk(source.thingId)) {
        try {
          const delivery = cache.deliveryFor(member, group.members.get(member)!);
          if (delivery !== undefined && member.offer(delivery)) {
            (recipients ??= new Set()).add(member);
            break;
          }
        } catch (err) {
          this.onError(err);
        }
      }
    }
    for (const listener of this.deliveredListeners)
      listener(source.kind, source.thingId, headers, recipients ?? NOBODY);
    return recipients ?? NOBODY;
  }
}

const NOBODY: ReadonlySet<Subscriber> = new Set();

const KINDS: readonly StreamKind[] = [
  'events',
  'messages',
  'live-commands',
  'live-events',
  'policy-announcements',
];
const idOf = (s: Subscriber) => s.id;
