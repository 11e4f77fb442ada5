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

export class ConnectionLogs {
  /** Entries keep their time as a number; ISO strings are made only when the logs are read. */
  private readonly buffers = new Map<string, Ring<{ at: number; entry: Omit<LogEntry, 'timestamp'> }>>();
  private enabledSince: number | undefined;
  private enabledUntil: number | undefined;

  constructor(private readonly capacity = 1000) {}

  enable(now = Date.now()): void {
    this.enabledSince = now;
    this.enabledUntil = now + ENABLED_FOR_MS;
  }

  reset(): void {
    this.buffers.clear();
  }

  private enabled(now: number): boolean {
    return this.enabledUntil !== undefined && now <= this.enabledUntil;
  }

  private push(at: number, entry: Omit<LogEntry, 'timestamp'>): void {
    const k = `${entry.category}|${entry.level}`;
    let buffer = this.buffers.get(k);
    if (!buffer) this.buffers.set(k, (buffer = new Ring(this.capacity)));
    buffer.push({ at, entry });
  }

  recordMessage(e: MessageEvent): void {
    if (!this.enabled(e.at)) return;
    const entry: Omit<LogEntry, 'timestamp'> = {
      category: e.direction === 'inbound' ? 'source' : 'target',
      type: e.type,
      level: e.success ? 'success' : 'failure',
      address: e.address,
      message: e.message ?? defaultMessage(e),
    };
    if (e.correlationId !== undefined) entry.correlationId = e.correlationId;
    if (e.entityId !== undefined) entry.entityId = e.entityId;
    this.push(e.at, entry);
  }

  recordLifecycle(e: ConnectionLifecycleEvent): void {
    if (!this.enabled(e.at)) return;
    this.push(e.at, {
      category: 'connection',
      type: 'other',
      level: e.kind === 'failed' || e.kind === 'disconnected' ? 'failure' : 'success',
      message: `${e.client}: ${e.message}`,
    });
  }

  /** The JSON of `GET /connections/{id}/logs` (§11.9), oldest first. */
  toJSON(connectionId: string): Record<string, unknown> {
    const entries = [...this.buffers.values()]
      .flatMap((ring) => ring.items())
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
    return this.slots.length < this.capacity ? [...this.slots] : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
  }
}
