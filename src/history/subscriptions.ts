/**
 * The streaming subscription protocol (ditto: protocol-specification-streaming-subscription, its
 * StreamingSubscriptionManager and StreamingSubscriptionActor), for one client: a WebSocket session or a
 * connection source. Reactive streams over the Ditto Protocol:
 *
 *   client:  subscribeForPersistedEvents  request*  cancel?
 *   Twinbridge:                created  next*  (complete | failed)?
 *
 * `subscribeForPersistedEvents` is always answered `created` with the subscription ID ("0", "1", … per
 * client). Nothing is read before the first `request` (then the access checks run too), so `complete` and
 * `failed` never come before it. Each `request` adds its demand; at most that many `next` follow. A demand
 * below 1 fails the subscription (reactive-streams rule 3.9); a `request`/`cancel` for an unknown ID is
 * answered `failed` with `streaming.subscription.not.found`. Without a request for `idleMs` the
 * subscription fails with `streaming.subscription.timeout`. After complete, failed or cancel a
 * subscription lingers `zombieMs`: a request then fails with a protocol error, anything else is ignored.
 * `send` paces the stream: the next item is read once the transport took the previous one.
 */
import type { AuthContext } from '../auth/context.js';
import { isDittoError, type DittoError } from '../errors/ditto-error.js';
import { internalError } from '../errors/general.js';
import {
  streamingSubscriptionNotFound,
  streamingSubscriptionProtocolError,
  streamingSubscriptionTimeout,
} from '../errors/streaming.js';
import type { DittoHeaders, StreamingCommand, StreamingEvent } from '../model/signals.js';
import { fromStreamingEvent, parseInstant, type ProtocolMessage } from '../protocol/index.js';
import type { HistoryRequest } from './history.js';

type Subscribe = Extract<StreamingCommand, { type: 'subscribeForPersistedEvents' }> & { path: string };

export interface StreamingSubscriptionsOptions {
  /** The items of a subscription, after its checks; rejects with the DittoError to fail it with. */
  open(command: Subscribe, request: HistoryRequest, auth: AuthContext): Promise<AsyncIterable<unknown>>;
  /**
   * Sends one event to the client; may return a promise that resolves once the transport took it. `via` is
   * the command whose answer it is (its headers address a connection's reply target).
   */
  send(message: ProtocolMessage, via: StreamingCommand, failed: boolean): void | Promise<void>;
  /** Told about failures that are not the client's (a store error). */
  log(msg: string, err: unknown): void;
  idleMs?: number;
  zombieMs?: number;
  /** Subscriptions (open or lingering) per client. */
  max?: number;
}

interface Subscription {
  id: string;
  subscribe: Subscribe;
  auth: AuthContext;
  /** The latest command of the subscription: its answers go where this one's would. */
  via: StreamingCommand;
  demand: number;
  items?: AsyncIterator<unknown>;
  /** An item read ahead when the demand ran out (so that the end is told without waiting for demand). */
  ahead?: IteratorResult<unknown>;
  pumping: boolean;
  zombie: boolean;
  timer: NodeJS.Timeout;
}

// ditto: gateway.conf streaming.search-idle-timeout 60 s; StreamingSubscriptionActor ZOMBIE_LIFETIME 10 s.
const IDLE_MS = 60_000;
const ZOMBIE_MS = 10_000;
const MAX_SUBSCRIPTIONS = 100;

export class StreamingSubscriptions {
  private readonly subscriptions = new Map<string, Subscription>();
  private next = 0;
  private closed = false;
  private readonly idleMs: number;
  private readonly zombieMs: number;
  private readonly max: number;

  constructor(private readonly o: StreamingSubscriptionsOptions) {
    this.idleMs = o.idleMs ?? IDLE_MS;
    this.zombieMs = o.zombieMs ?? ZOMBIE_MS;
    this.max = o.max ?? MAX_SUBSCRIPTIONS;
  }

  /** Handles one command. Throws `streaming.subscription.protocol.error` when the client holds too many subscriptions. */
  handle(command: StreamingCommand & { path: string }, auth: AuthContext): void {
    if (this.closed) return;
    if (command.type === 'subscribeForPersistedEvents') return this.subscribe(command, auth);
    const s = this.subscriptions.get(command.subscriptionId);
    if (s === undefined)
      return void this.fail(
        undefined,
        command,
        streamingSubscriptionNotFound({ subscriptionId: command.subscriptionId }),
      );
    if (command.type === 'cancel') {
      if (!s.zombie) this.linger(s);
      return;
    }
    if (s.zombie)
      return void this.fail(
        s,
        command,
        streamingSubscriptionProtocolError({
          detail: 'This subscription is considered cancelled. No more messages are processed.',
        }),
      );
    s.via = command;
    if (!Number.isSafeInteger(command.demand) || command.demand < 1) {
      // reactive-streams rule 3.9
      return void this.fail(
        s,
        command,
        streamingSubscriptionProtocolError({
          detail: `The demand must be a positive integer, got ${command.demand}.`,
        }),
      );
    }
    s.demand = Math.min(Number.MAX_SAFE_INTEGER, s.demand + command.demand);
    s.timer.refresh();
    void this.pump(s);
  }

  /** Ends every subscription (the session or connection closed). */
  close(): void {
    this.closed = true;
    for (const s of this.subscriptions.values()) {
      clearTimeout(s.timer);
      void s.items?.return?.();
    }
    this.subscriptions.clear();
  }

  private subscribe(command: Subscribe, auth: AuthContext): void {
    if (this.subscriptions.size >= this.max) {
      throw streamingSubscriptionProtocolError({
        detail: `At most ${this.max} streaming subscriptions can be open at once; cancel or complete one first.`,
      });
    }
    const id = String(this.next++);
    const s: Subscription = {
      id,
      subscribe: command,
      auth,
      via: command,
      demand: 0,
      pumping: false,
      zombie: false,
      timer: setTimeout(() => this.idle(s), this.idleMs),
    };
    s.timer.unref();
    this.subscriptions.set(id, s);
    void this.emit(s, command, { type: 'created' });
  }

  /**
   * Reads and sends items while there is demand; one pump per subscription at a time. When the demand runs
   * out it reads one item ahead and keeps it: if there is none, `complete` follows the last item at once
   * (reactive streams: completion needs no demand).
   */
  private async pump(s: Subscription): Promise<void> {
    if (s.pumping) return;
    s.pumping = true;
    try {
      s.items ??= (await this.o.open(s.subscribe, historyRequestOf(s.subscribe), s.auth))[
        Symbol.asyncIterator
      ]();
      while (!s.zombie) {
        const result = s.ahead ?? (await s.items.next());
        s.ahead = undefined;
        if (s.zombie) return;
        if (result.done) {
          await this.emit(s, s.via, { type: 'complete' });
          this.linger(s);
          return;
        }
        if (s.demand === 0) {
          s.ahead = result;
          return;
        }
        s.demand--;
        s.timer.refresh();
        await this.emit(s, s.via, { type: 'next', item: result.value });
      }
    } catch (err) {
      if (s.zombie) return;
      if (!isDittoError(err))
        this.o.log(`streaming subscription ${s.id} of ${s.subscribe.entityId} failed`, err);
      await this.fail(s, s.via, isDittoError(err) ? err : internalError(undefined, { cause: err }));
    } finally {
      s.pumping = false;
    }
  }

  private idle(s: Subscription): void {
    if (s.zombie) return;
    void this.fail(s, s.via, streamingSubscriptionTimeout({ subscriptionId: s.id }));
  }

  /** `failed` for `s` (then lingering), or for an unknown subscription ID (`s` undefined). */
  private async fail(s: Subscription | undefined, via: StreamingCommand, error: DittoError): Promise<void> {
    const subscriptionId = s?.id ?? (via as { subscriptionId: string }).subscriptionId;
    if (s !== undefined && !s.zombie) this.linger(s);
    await this.send(
      {
        type: 'failed',
        subscriptionId,
        error: error.toJSON(),
        entityType: via.entityType,
        entityId: via.entityId,
        headers: answerHeaders(via.headers),
      },
      via,
      true,
    );
  }

  private emit(
    s: Subscription,
    via: StreamingCommand,
    event: { type: 'created' | 'complete' } | { type: 'next'; item: unknown },
  ): Promise<void> {
    const full = {
      ...event,
      subscriptionId: s.id,
      entityType: s.subscribe.entityType,
      entityId: s.subscribe.entityId,
      headers: answerHeaders(via.headers),
    } as StreamingEvent;
    return this.send(full, via, false);
  }

  private async send(event: StreamingEvent, via: StreamingCommand, failed: boolean): Promise<void> {
    if (this.closed) return;
    try {
      await this.o.send(fromStreamingEvent(event), via, failed);
    } catch (err) {
      this.o.log('sending a streaming subscription event failed', err);
    }
  }

  /** Ends `s` and keeps its ID a while, so late requests are told it is over. */
  private linger(s: Subscription): void {
    s.zombie = true;
    void s.items?.return?.();
    clearTimeout(s.timer);
    s.timer = setTimeout(() => this.subscriptions.delete(s.id), this.zombieMs);
    s.timer.unref();
  }
}

function answerHeaders(headers: DittoHeaders): DittoHeaders {
  const correlationId = headers['correlation-id'];
  return correlationId === undefined ? {} : { 'correlation-id': correlationId };
}

/** The range of a subscribe command (its timestamps were validated by the protocol adapter). */
export function historyRequestOf(command: Subscribe): HistoryRequest {
  const request: HistoryRequest = {};
  if (command.fromHistoricalRevision !== undefined) request.fromRevision = command.fromHistoricalRevision;
  if (command.toHistoricalRevision !== undefined) request.toRevision = command.toHistoricalRevision;
  if (command.fromHistoricalTimestamp !== undefined)
    request.fromTimestamp = parseInstant(command.fromHistoricalTimestamp);
  if (command.toHistoricalTimestamp !== undefined)
    request.toTimestamp = parseInstant(command.toHistoricalTimestamp);
  return request;
}
