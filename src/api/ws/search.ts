/**
 * The search protocol on a WebSocket session (ditto-interfaces.md §4.5): `subscribe` creates a
 * subscription (`created`), `request` with a demand of N pages sends up to N `next` pages, `complete`
 * after the last page, `failed` with the error; `cancel` ends it. Nothing is queried before the first
 * request, so demand is the back-pressure. Idle subscriptions end after 60 s.
 */
import { randomUUID } from 'node:crypto';
import { isDittoError } from '../../errors/ditto-error.js';
import { internalError, tooManyRequests } from '../../errors/general.js';
import { searchSubscriptionNotFound } from '../../errors/streaming.js';
import type { DittoHeaders, SearchCommand, SearchEvent } from '../../model/signals.js';
import { fromSearchEvent, searchFailed } from '../../protocol/index.js';
import type { SearchRequest, SearchService } from '../../search/service.js';
import type { WsSession } from './session.js';

interface SearchSubscription {
  request: SearchRequest;
  options?: string;
  cursor?: string;
  idle: NodeJS.Timeout;
  /** Requests of one subscription run one after the other. */
  chain: Promise<void>;
}

// ditto: §13 streaming search idle timeout 60 s
const IDLE_MS = 60_000;

export class WsSearch {
  private readonly subscriptions = new Map<string, SearchSubscription>();

  /** @param maxSubscriptions open subscriptions of the session; one more is `too.many.requests`. */
  constructor(
    private readonly session: WsSession,
    private readonly search: SearchService,
    private readonly maxSubscriptions = 32,
  ) {}

  async handle(command: SearchCommand): Promise<void> {
    const headers: DittoHeaders = { 'correlation-id': command.headers['correlation-id'] ?? randomUUID() };
    if (command.type === 'subscribe') {
      if (this.subscriptions.size >= this.maxSubscriptions) {
        throw tooManyRequests(undefined, {
          description: `At most ${this.maxSubscriptions} search subscriptions may be open per WebSocket session; cancel one and try again.`,
        });
      }
      const subscriptionId = randomUUID();
      const request: SearchRequest = {};
      if (command.filter !== undefined) request.filter = command.filter;
      if (command.namespaces !== undefined) request.namespaces = command.namespaces.join(',');
      if (command.fields !== undefined) request.fields = command.fields;
      const subscription: SearchSubscription = {
        request,
        idle: this.idleTimer(subscriptionId),
        chain: Promise.resolve(),
      };
      if (command.options !== undefined && command.options !== '') subscription.options = command.options;
      this.subscriptions.set(subscriptionId, subscription);
      this.emit({ type: 'created', subscriptionId, headers });
      return;
    }
    const subscription = this.subscriptions.get(command.subscriptionId);
    if (!subscription) throw searchSubscriptionNotFound({ subscriptionId: command.subscriptionId });
    if (command.type === 'cancel') {
      this.end(command.subscriptionId);
      return;
    }
    subscription.idle.refresh();
    const demand = command.demand;
    subscription.chain = subscription.chain.then(() =>
      this.serve(command.subscriptionId, subscription, demand, headers),
    );
    await subscription.chain;
  }

  /** Ends every subscription (the session closed). */
  close(): void {
    for (const id of [...this.subscriptions.keys()]) this.end(id);
  }

  private async serve(
    subscriptionId: string,
    subscription: SearchSubscription,
    demand: number,
    headers: DittoHeaders,
  ): Promise<void> {
    for (let page = 0; page < demand && this.subscriptions.has(subscriptionId); page++) {
      const option = [
        subscription.options,
        subscription.cursor === undefined ? undefined : `cursor(${subscription.cursor})`,
      ]
        .filter((o) => o !== undefined)
        .join(',');
      let result;
      try {
        result = await this.search.search(
          option === '' ? subscription.request : { ...subscription.request, option },
          this.session.auth,
        );
      } catch (err) {
        const error = isDittoError(err) ? err : internalError(undefined, { cause: err });
        this.emit(searchFailed(subscriptionId, error, headers));
        this.end(subscriptionId);
        return;
      }
      if (result.items.length > 0 || result.cursor !== undefined)
        this.emit({ type: 'next', subscriptionId, items: result.items, headers });
      if (result.cursor === undefined) {
        this.emit({ type: 'complete', subscriptionId, headers });
        this.end(subscriptionId);
        return;
      }
      subscription.cursor = result.cursor;
    }
  }

  private emit(event: SearchEvent): void {
    this.session.send(fromSearchEvent(event));
  }

  private end(subscriptionId: string): void {
    const s = this.subscriptions.get(subscriptionId);
    if (!s) return;
    clearTimeout(s.idle);
    this.subscriptions.delete(subscriptionId);
  }

  private idleTimer(subscriptionId: string): NodeJS.Timeout {
    const t = setTimeout(() => this.end(subscriptionId), IDLE_MS);
    t.unref();
    return t;
  }
}
