/**
 * Connection logs (§11.9): bounded ring buffers per category and level, enabled for 24 h on create, open or
 * `enableConnectionLogs`. Entries come from the instrumentation events; messages never contain credentials.
 */
import { eventName, type ConnectionLifecycleEvent, type MessageEvent } from './events.js';

export type LogCategory = 'source' | 'target' | 'response' | 'connection';
export interface LogEntry {
  timestamp: string;
  correlationId?: string;
  category: LogCategory;
  type: string;
  level: 'success' | 'failure';
  address?: string;
  entityId?: string;
  message: string;
}

const ENABLED_FOR_MS = 24 * 3600 * 1000;

/** What a ring keeps: the instrumentation event itself (no copy per message); entries are made when read. */
type Logged = { message: MessageEvent } | { lifecycle: ConnectionLifecycleEvent };

export class ConnectionLogs {
  /** One ring per category and level: source 0–1, target 2–3, connection 6–7 (+1: failure). */
  private readonly rings: Array<Ring<Logged> | undefined> = new Array(8);
  private enabledSince: number | undefined;
  private enabledUntil: number | undefined;

  constructor(private readonly capacity = 1000) {}

  enable(now = Date.now()): void {
    this.enabledSince = now;
    this.enabledUntil = now + ENABLED_FOR_MS;
  }

  reset(): void {
    this.rings.fill(undefined);
  }

  private enabled(now: number): boolean {
    return this.enabledUntil !== undefined && now <= this.enabledUntil;
  }

  private push(slot: number, item: Logged): void {
    (this.rings[slot] ??= new Ring(this.capacity)).push(item);
  }

  recordMessage(e: MessageEvent): void {
    if (!this.enabled(e.at)) return;
    this.push((e.direction === 'inbound' ? 0 : 2) + (e.success ? 0 : 1), { message: e });
  }

  recordLifecycle(e: ConnectionLifecycleEvent): void {
    if (!this.enabled(e.at)) return;
    this.push(6 + (e.kind === 'failed' || e.kind === 'disconnected' ? 1 : 0), { lifecycle: e });
  }

  /** The JSON of `GET /connections/{id}/logs` (§11.9), oldest first. */
  toJSON(connectionId: string): Record<string, unknown> {
    const entries = this.rings
      .flatMap((ring) => ring?.items() ?? [])
      .map(toEntry)
      .sort((a, b) => a.at - b.at)
      .map(({ at, entry }) => ({ timestamp: new Date(at).toISOString(), ...entry }));
    return {
      connectionId,
      enabledSince: this.enabledSince === undefined ? null : new Date(this.enabledSince).toISOString(),
      enabledUntil: this.enabledUntil === undefined ? null : new Date(this.enabledUntil).toISOString(),
      connectionLogs: entries,
    };
  }
}

function toEntry(item: Logged): { at: number; entry: Omit<LogEntry, 'timestamp'> } {
  if ('lifecycle' in item) {
    const e = item.lifecycle;
    const level = e.kind === 'failed' || e.kind === 'disconnected' ? 'failure' : 'success';
    return {
      at: e.at,
      entry: { category: 'connection', type: 'other', level, message: `${e.client}: ${e.message}` },
    };
  }
  const e = item.message;
  const entry: Omit<LogEntry, 'timestamp'> = {
    category: e.direction === 'inbound' ? 'source' : 'target',
    type: e.type,
    level: e.success ? 'success' : 'failure',
    address: e.address,
    message: (typeof e.message === 'function' ? e.message() : e.message) ?? defaultMessage(e),
  };
  if (e.correlationId !== undefined) entry.correlationId = e.correlationId;
  if (e.entityId !== undefined) entry.entityId = e.entityId;
  return { at: e.at, entry };
}

function defaultMessage(e: MessageEvent): string {
  return `${eventName(e)} ${e.success ? 'succeeded' : 'failed'}`;
}

/** A fixed-size ring buffer: the newest `capacity` items, oldest first. */
class Ring<T> {
  private readonly slots: T[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.slots.length < this.capacity) this.slots.push(item);
    else this.slots[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  items(): T[] {
    return this.slots.length < this.capacity
      ? [...this.slots]
      : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
  }
}
