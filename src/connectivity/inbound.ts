/**
 * The inbound pipeline of one source (§11.2, §11.3; STYLE "The path of one telemetry message"), the
 * mechanics around each consumed message:
 *
 *   consume → in-flight cap → size check → payload mapping (registry; parsed once) → the router of
 *   signals (inbound-router.ts: header mapping, enforcement, twin / live / answers) → settle (ack or nack)
 *
 * Ordering: mapping runs concurrently, but signals are handed to the router in arrival order (a sequential
 * stage), so writes to one thing apply in the order the broker delivered them. A message the mappers
 * answered synchronously (the built-in ones) with no message ahead of it on that stage is dispatched at
 * once, without a promise of its own.
 * At least once: the message is acked only after every signal it carried has its outcome — durably
 * applied, or deliberately dropped — and nacked with redelivery after a retriable failure (store
 * unavailable, timeout). In-flight messages are capped; at the cap the source is paused and resumed at half
 * of it.
 */
import { messageTooLarge } from '../errors/connectivity.js';
import type { AuthContext } from '../auth/context.js';
import type { ThingCommand, ThingCommandResponse } from '../model/signals.js';
import { formatTopic, type ProtocolMessage } from '../protocol/index.js';
import type { SourceSink } from './client-runner.js';
import type { InboundMessage, SourceHandle, TargetHandle } from './connector.js';
import type { ConnectivityEvents, InboundType, MessageEvent } from './events.js';
import { externalOf } from './external.js';
import { InboundRouter, type Outcome } from './inbound-router.js';
import type { AckPort, LivePort, MapperRegistry, StreamingPort } from './mapping-port.js';
import type { Source } from './model.js';
import type { OutboundWindow } from './window.js';

export interface InboundOptions {
  connectionId: string;
  source: Source;
  registry: MapperRegistry;
  execute: (command: ThingCommand, auth: AuthContext) => Promise<ThingCommandResponse>;
  events: ConnectivityEvents;
  maxInFlight: number;
  maxPayloadBytes: number;
  /** Where replies go (a publisher of an open client), if any. */
  replyPublisher: () => TargetHandle | undefined;
  /** The in-flight window of the connection's replies. */
  replies: OutboundWindow;
  /** Waits for custom acknowledgement labels the source or the command requests (§9); optional. */
  acks?: AckPort;
  /** Where responses to live messages and live commands go (§10); optional. */
  live?: LivePort;
  /** History streams a device asks for (streaming subscription protocol), answered on the reply target; optional. */
  streaming?: StreamingPort;
  log: (msg: string, err?: unknown) => void;
}

/** What payload mapping made of a message: its protocol messages, or why it is dropped. */
type Mapped = ProtocolMessage[] | string;

export class InboundPipeline implements SourceSink {
  private inFlight = 0;
  private paused = false;
  private readonly handles = new Set<SourceHandle>();
  /** The sequential stage: commands are started in arrival order. */
  private chain: Promise<void> = Promise.resolve();
  /** Messages on the sequential stage not yet dispatched: a message mapped synchronously queues behind them. */
  private behind = 0;
  private readonly label: string;
  /** The first subject when it is fixed (no placeholders), for `{{ request:subjectId }}` in mappers. */
  private readonly mapperOptions: { authorizationSubject?: string };
  /** What each protocol message of a message becomes. */
  private readonly router: InboundRouter;

  constructor(private readonly o: InboundOptions) {
    this.label = o.source.addresses.join(',');
    const first = o.source.authorizationContext[0];
    this.mapperOptions = first && first.placeholders.length === 0 ? { authorizationSubject: first.text } : {};
    // The pipeline is the owner the runtime declares the source's acknowledgement labels for.
    this.router = new InboundRouter({ ...o, owner: this });
  }

  /** Ends the source's streaming subscriptions (the connection closes). */
  close(): void {
    this.router.close();
  }

  register(handle: SourceHandle): () => void {
    this.handles.add(handle);
    if (this.paused) handle.pause();
    return () => this.handles.delete(handle);
  }

  private emit(
    type: InboundType,
    success: boolean,
    message?: MessageEvent['message'],
    correlationId?: string,
    entityId?: string,
  ): void {
    this.o.events.emit('message', {
      connectionId: this.o.connectionId,
      address: this.label,
      direction: 'inbound',
      type,
      success,
      message,
      correlationId,
      entityId,
      at: Date.now(),
    });
  }

  deliver(message: InboundMessage, client = 'client-1'): void {
    this.inFlight++;
    if (!this.paused && this.inFlight >= this.o.maxInFlight) {
      this.paused = true;
      for (const h of this.handles) h.pause();
      this.emit('throttled', true, `Paused consumption at ${this.inFlight} messages in flight.`);
    }
    this.emit(
      'consumed',
      true,
      `Consumed a message from '${message.address}' (${client}).`,
      message.headers['correlation-id'],
    );
    let mapped: Mapped | Promise<Mapped>;
    try {
      mapped = this.map(message);
    } catch (err) {
      mapped = Promise.reject(err);
    }
    if (this.behind === 0 && !(mapped instanceof Promise)) {
      // Mapped synchronously (the built-in mappers) with nothing ahead of it: dispatched now, in arrival order.
      this.finish(message, this.dispatchSafely(message, mapped));
      return;
    }
    // A mapping still runs (JavaScript), this one's or an earlier message's: the sequential stage keeps the order.
    this.behind++;
    // Not ignored: a rejection reaches finish() through `step` below (logged, redelivered); marked handled
    // here so that it is not reported as unhandled while earlier messages are still being dispatched.
    if (mapped instanceof Promise) mapped.catch(() => undefined);
    // The outcome is wrapped so that the chain does not wait for it.
    const step = this.chain.then(() => mapped).then((m) => ({ outcome: this.dispatchSafely(message, m) }));
    const dispatched = () => {
      this.behind--;
    };
    this.chain = step.then(dispatched, dispatched);
    this.finish(
      message,
      step.then((started) => started.outcome),
    );
  }

  /** Settles the broker message once every signal it carried has its outcome. */
  private finish(message: InboundMessage, outcome: Promise<Outcome>): void {
    outcome.then(
      (o) => this.settle(message, o),
      (err: unknown) => {
        this.o.log('inbound pipeline failed', err);
        this.settle(message, 'redeliver');
      },
    );
  }

  private settle(message: InboundMessage, outcome: Outcome): void {
    if (outcome === 'done') {
      message.ack();
      this.emit(
        'acknowledged',
        true,
        'Acknowledged the message to the broker.',
        message.headers['correlation-id'],
      );
    } else {
      message.nack(true);
      this.emit(
        'acknowledged',
        false,
        'Negatively acknowledged the message for redelivery.',
        message.headers['correlation-id'],
      );
    }
    this.inFlight--;
    if (this.paused && this.inFlight <= this.o.maxInFlight / 2) {
      this.paused = false;
      for (const h of this.handles) h.resume();
    }
  }

  /** Drops with a reason: counted as `dropped` failure, logged, and the message will be acked. */
  private drop(reason: string, correlationId?: string, entityId?: string): 'done' {
    this.emit('dropped', false, reason, correlationId, entityId);
    return 'done';
  }

  /**
   * Payload mapping: the protocol messages, or the reason the message is dropped; a promise of them only when
   * a mapper answers asynchronously (JavaScript).
   */
  private map(message: InboundMessage): Mapped | Promise<Mapped> {
    const correlationId = message.headers['correlation-id'];
    if (message.payload.length > this.o.maxPayloadBytes) {
      const err = messageTooLarge({ size: message.payload.length, max: this.o.maxPayloadBytes });
      return `Dropped: ${err.message}`;
    }
    const results = this.o.registry.mapIncoming(
      this.o.source.payloadMapping.length > 0 ? this.o.source.payloadMapping : undefined,
      externalOf(message),
      this.mapperOptions,
    );
    return results instanceof Promise
      ? results.then((r) => this.mappedOf(r, correlationId))
      : this.mappedOf(results, correlationId);
  }

  private mappedOf(
    results: Awaited<ReturnType<MapperRegistry['mapIncoming']>>,
    correlationId: string | undefined,
  ): Mapped {
    const out: ProtocolMessage[] = [];
    const problems: string[] = [];
    for (const r of results) {
      if ('error' in r) {
        this.emit('mapped', false, `Mapper '${r.mapper}' failed: ${r.error.message}`, correlationId);
        problems.push(`mapper '${r.mapper}': ${r.error.message}`);
        continue;
      }
      out.push(...r.messages);
    }
    if (out.length === 0)
      return problems.length > 0
        ? `Dropped: ${problems.join('; ')}`
        : 'Dropped: the mappers produced no message.';
    for (const m of out)
      this.emit(
        'mapped',
        true,
        () => `Mapped to '${formatTopic(m.topic)}'.`,
        m.headers['correlation-id'] ?? correlationId,
      );
    return out;
  }

  /** Starts each signal of the message (in the order the mappers gave them); a throw becomes a rejection. */
  private dispatchSafely(message: InboundMessage, mapped: Mapped): Promise<Outcome> {
    try {
      if (typeof mapped === 'string')
        return Promise.resolve(this.drop(mapped, message.headers['correlation-id']));
      if (mapped.length === 1) return this.router.route(message, mapped[0]);
      return Promise.all(mapped.map((m) => this.router.route(message, m))).then((all) =>
        all.includes('redeliver') ? 'redeliver' : 'done',
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
