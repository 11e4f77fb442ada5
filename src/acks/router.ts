/**
 * Routes acknowledgements to the requests waiting for them (ditto-interfaces.md §9):
 * - declared labels: each label is issued by one subscriber (WS `declared-acks`; duplicates ⇒
 *   `acknowledgement:label.not.unique`); issuing an undeclared label ⇒ `acknowledgement:label.not.declared`;
 * - weak acks: a declaring subscriber that did not get a signal (not subscribed, filtered, no READ)
 *   acknowledges it automatically with status 200 and `ditto-weak-ack: true` — for every kind of signal the
 *   registry delivers (WebSocket sessions and connection targets alike; labels a connection source declares
 *   get none);
 * - `search-persisted`: issued once the in-process search index applied the event. The index listens to
 *   the bus synchronously and is subscribed before this router (see services.ts), so a bus listener here
 *   runs right after the index update.
 */
import type { SignalBus } from '../bus/signal-bus.js';
import { ackDuplicateCorrelationId, ackLabelNotDeclared, ackLabelNotUnique } from '../errors/protocol.js';
import type { Acknowledgement, Channel, DittoHeaders } from '../model/signals.js';
import { BUILT_IN_ACK_LABELS, headerList } from '../protocol/index.js';
import type { SubscriberRegistry } from '../streaming/registry.js';
import type { StreamKind, Subscriber } from '../streaming/subscription.js';
import { AckAggregator } from './aggregator.js';

export const WEAK_ACK_PAYLOAD =
  'Acknowledgement was issued automatically as weak ack, because the signal is not relevant for the subscriber. ' +
  'Possible reasons are: the subscriber was not authorized, or the subscriber did not subscribe for the signal type.';

export class AckRouter {
  private readonly pending = new Map<string, AckAggregator>();
  private readonly declared = new Map<string, object>();
  /** Owners for whom the registry issues weak acks only for some kinds of signals. */
  private readonly weakAckKinds = new WeakMap<object, ReadonlySet<StreamKind>>();
  private readonly unsubscribers: Array<() => void> = [];

  constructor(options: { bus: SignalBus; registry: SubscriberRegistry }) {
    this.unsubscribers.push(
      options.bus.subscribeThingEvents(({ event }) => {
        const aggregator = this.pending.get(event.headers['correlation-id'] ?? '');
        if (aggregator?.awaits('search-persisted')) {
          aggregator.receive({
            thingId: event.thingId,
            channel: 'twin',
            label: 'search-persisted',
            status: 204,
            headers: { 'correlation-id': aggregator.correlationId },
          });
        }
      }),
      options.registry.onDelivered((kind, thingId, headers, recipients) =>
        this.weakAcks(kind, thingId, headers, recipients),
      ),
    );
  }

  close(): void {
    for (const u of this.unsubscribers) u();
    for (const a of this.pending.values()) a.finish();
  }

  /**
   * Declares labels for `owner` (all or none). Throws `acknowledgement:label.not.unique`. `weakAckKinds`:
   * the kinds of signals for which a missed delivery means a weak ack (default: all, as for WebSocket).
   */
  declare(labels: readonly string[], owner: object, weakAckKinds?: readonly StreamKind[]): void {
    const taken = labels.filter((l) => this.declared.has(l) && this.declared.get(l) !== owner);
    if (taken.length > 0) throw ackLabelNotUnique({ labels: taken });
    for (const label of labels) this.declared.set(label, owner);
    if (weakAckKinds !== undefined) this.weakAckKinds.set(owner, new Set(weakAckKinds));
  }

  /** Frees the labels of a departed owner. */
  release(owner: object): void {
    for (const [label, o] of this.declared) if (o === owner) this.declared.delete(label);
  }

  /**
   * Starts waiting for `labels` of the request with `headers['correlation-id']`. Throws
   * `acknowledgement:request.duplicate.correlation-id` while another request with that ID waits.
   */
  expect(
    thingId: string,
    channel: Channel,
    labels: readonly string[],
    timeoutMs: number,
    headers: DittoHeaders,
  ): AckAggregator {
    const correlationId = headers['correlation-id'] ?? '';
    if (this.pending.has(correlationId)) throw ackDuplicateCorrelationId({ correlationId });
    const aggregator = new AckAggregator(thingId, channel, labels, timeoutMs, headers, () => {
      if (this.pending.get(correlationId) === aggregator) this.pending.delete(correlationId);
    });
    if (labels.length > 0) this.pending.set(correlationId, aggregator);
    return aggregator;
  }

  /** An acknowledgement issued by a subscriber; throws `acknowledgement:label.not.declared` when not its label. */
  issue(ack: Acknowledgement, owner: object): void {
    if (this.declared.get(ack.label) !== owner) throw ackLabelNotDeclared({ label: ack.label });
    this.pending.get(ack.headers['correlation-id'] ?? '')?.receive(ack);
  }

  private weakAcks(
    kind: StreamKind,
    thingId: string,
    headers: Record<string, string>,
    recipients: ReadonlySet<Subscriber>,
  ): void {
    const requested = headers['requested-acks'];
    if (requested === undefined) return;
    const aggregator = this.pending.get(headers['correlation-id'] ?? '');
    if (!aggregator) return;
    for (const label of headerList(requested)) {
      if (BUILT_IN_ACK_LABELS.has(label) || !aggregator.awaits(label)) continue;
      const owner = this.declared.get(label);
      if (
        owner === undefined ||
        recipients.has(owner as Subscriber) ||
        this.weakAckKinds.get(owner)?.has(kind) === false
      )
        continue;
      aggregator.receive({
        thingId,
        channel: aggregator.channel,
        label,
        status: 200,
        payload: WEAK_ACK_PAYLOAD,
        headers: { 'correlation-id': aggregator.correlationId, 'ditto-weak-ack': 'true' },
      });
    }
  }
}
