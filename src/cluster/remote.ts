/**
 * Events on the local signal bus are either LOCAL (this instance made the change) or REMOTE (another
 * instance made it; src/cluster/sync.ts republishes it from the journal). Subscribers that must act once
 * per cluster, such as connection targets, act on local events only.
 */
import type { PublishedThingEvent } from '../bus/signal-bus.js';

export type EventOrigin = 'local' | 'remote';

/** A bus event with its origin; events without `origin` are local (single-instance mode). */
export type OriginatedThingEvent = PublishedThingEvent & { origin?: EventOrigin };

export function remoteEvent(published: PublishedThingEvent): OriginatedThingEvent {
  return { ...published, origin: 'remote' };
}

export function isRemoteEvent(published: PublishedThingEvent): boolean {
  return (published as OriginatedThingEvent).origin === 'remote';
}
