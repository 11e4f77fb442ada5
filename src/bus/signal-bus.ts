/**
 * The in-process signal bus: twin events (after they are durable) go to every subscriber — WebSocket and
 * SSE sessions, connection targets, the search index. Subscribers run synchronously in publish order,
 * so each sees the events of one thing in revision order; a subscriber that needs to do slow work queues
 * it itself. A subscriber that throws is logged and does not stop the others.
 */
import type { ThingEvent } from '../model/signals.js';
import type { ThingJson } from '../model/thing.js';

export interface PublishedThingEvent {
  event: ThingEvent;
  /** The policy governing the thing after the change (for per-subscriber READ checks). */
  policyId: string | undefined;
  /** The whole thing after the change (undefined once deleted), for filters and extraFields. */
  thing: ThingJson | undefined;
  /** The streaming session whose command made the change (`ThingCommand.session`); it does not get the event. */
  session?: string;
}

export type ThingEventListener = (published: PublishedThingEvent) => void;

export class SignalBus {
  private readonly listeners = new Set<ThingEventListener>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  subscribeThingEvents(listener: ThingEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publishThingEvent(published: PublishedThingEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(published);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
