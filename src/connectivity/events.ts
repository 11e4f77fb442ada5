/**
 * Typed instrumentation events of the connectivity runtime (STYLE lesson 12). The pipelines and the client
 * state machine emit them; connection metrics (§11.8), connection logs (§11.9) and Prometheus listen.
 * Emitting is synchronous and cheap; a listener must not throw (errors are reported, not propagated).
 */

/** Inbound metric types (§11.8). */
export type InboundType = 'consumed' | 'mapped' | 'dropped' | 'enforced' | 'acknowledged' | 'throttled';
/** Outbound metric types (§11.8). */
export type OutboundType = 'dispatched' | 'filtered' | 'mapped' | 'dropped' | 'published' | 'acknowledged';

export interface MessageEvent {
  connectionId: string;
  /** Source address (as configured) or target address (as configured). */
  address: string;
  direction: 'inbound' | 'outbound';
  type: InboundType | OutboundType;
  success: boolean;
  correlationId?: string;
  entityId?: string;
  /**
   * A human readable detail for the connection log; never contains credentials. A function when the text
   * costs to make: it is called only if a connection log records the event.
   */
  message?: string | (() => string);
  /** ms since epoch */
  at: number;
}

export interface ConnectionLifecycleEvent {
  connectionId: string;
  client: string;
  kind: 'connected' | 'disconnected' | 'failed' | 'closed';
  message: string;
  at: number;
}

export interface ConnectivityEventMap {
  /** `source.consumed`, `source.mapped`, …, `target.published` — one name per direction and type. */
  message: MessageEvent;
  /** `connection.connected`, `connection.failed`, … */
  lifecycle: ConnectionLifecycleEvent;
}

type Listener<K extends keyof ConnectivityEventMap> = (event: ConnectivityEventMap[K]) => void;

export class ConnectivityEvents {
  private readonly listeners: { [K in keyof ConnectivityEventMap]: Set<Listener<K>> } = {
    message: new Set(),
    lifecycle: new Set(),
  };

  constructor(private readonly onListenerError: (err: unknown) => void = () => undefined) {}

  on<K extends keyof ConnectivityEventMap>(kind: K, listener: Listener<K>): () => void {
    (this.listeners[kind] as Set<Listener<K>>).add(listener);
    return () => (this.listeners[kind] as Set<Listener<K>>).delete(listener);
  }

  emit<K extends keyof ConnectivityEventMap>(kind: K, event: ConnectivityEventMap[K]): void {
    for (const listener of this.listeners[kind] as Set<Listener<K>>) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}

/** The instrumentation name of a message event, e.g. `source.consumed`, `target.published`. */
export function eventName(e: Pick<MessageEvent, 'direction' | 'type'>): string {
  return `${e.direction === 'inbound' ? 'source' : 'target'}.${e.type}`;
}
