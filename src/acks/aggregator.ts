/**
 * Aggregation of requested acknowledgements (ditto-interfaces.md §9, §4.6): waits until every requested
 * label has an acknowledgement or the timeout passes; a missing one becomes a 408
 * `acknowledgement:request.timeout` entry. The result has status 200 when all are 2xx, else 424; a single
 * acknowledgement keeps its own status.
 */
import { ackRequestTimeout } from '../errors/protocol.js';
import type { Acknowledgement, Acknowledgements, Channel, DittoHeaders } from '../model/signals.js';
import { aggregateAckStatus } from '../protocol/index.js';

export class AckAggregator {
  private readonly received = new Map<string, Acknowledgement>();
  private readonly timer: NodeJS.Timeout;
  private settle!: (acks: Acknowledgements) => void;
  /** Resolves once with the aggregated acknowledgements (never rejects). */
  readonly done: Promise<Acknowledgements>;
  private finished = false;

  constructor(
    readonly thingId: string,
    readonly channel: Channel,
    readonly labels: readonly string[],
    private readonly timeoutMs: number,
    private readonly headers: DittoHeaders,
    private readonly onFinish: () => void = () => {},
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
    this.timer = setTimeout(() => this.finish(), timeoutMs);
    if (labels.length === 0) this.finish();
  }

  get correlationId(): string {
    return this.headers['correlation-id'] ?? '';
  }

  /** Whether `label` was requested and is still missing. */
  awaits(label: string): boolean {
    return !this.finished && this.labels.includes(label) && !this.received.has(label);
  }

  /** Takes an acknowledgement of a requested label (the first per label wins); returns whether it was used. */
  receive(ack: Acknowledgement): boolean {
    if (!this.awaits(ack.label)) return false;
    this.received.set(ack.label, ack);
    if (this.received.size === this.labels.length) this.finish();
    return true;
  }

  /** Ends waiting now (e.g. the main response failed): the missing labels time out. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const acknowledgements = this.labels.map((label) => this.received.get(label) ?? this.timedOut(label));
    this.onFinish();
    this.settle({
      thingId: this.thingId,
      channel: this.channel,
      status: aggregateAckStatus(acknowledgements),
      acknowledgements,
      headers: { 'correlation-id': this.correlationId },
    });
  }

  private timedOut(label: string): Acknowledgement {
    const error = ackRequestTimeout({ timeoutMs: this.timeoutMs });
    return {
      thingId: this.thingId,
      channel: this.channel,
      label,
      status: 408,
      payload: error.toJSON(),
      headers: { 'correlation-id': this.correlationId },
    };
  }
}
