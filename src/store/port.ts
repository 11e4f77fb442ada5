/**
 * The store port. Every implementation (embedded journal, PostgreSQL) passes
 * test/conformance/store.suite.ts.
 *
 * Entities are versioned records. A write names the revision it expects to replace, so several writers
 * (instances) never lose an update: a mismatch rejects with ConcurrentModificationError, which is
 * retriable. A write resolves only once it is durable; what resolved survives a crash.
 */
import { TwinbridgeError } from '../errors/base.js';

export type EntityKind = 'thing' | 'policy' | 'connection';

export interface EntityRecord<T = unknown> {
  kind: EntityKind;
  id: string;
  /** 1 for the first version; +1 per change. A deleted entity keeps counting when re-created. */
  revision: number;
  /** ISO-8601 UTC of the first creation of the current life of the entity. */
  created: string;
  modified: string;
  /** The entity JSON, or null when the entity is deleted (the record keeps its revision). */
  value: T | null;
}

/** The revision the next change of an entity gets, `previous` being its latest record (undefined: none yet). */
export function revisionAfter(previous: EntityRecord | undefined): number {
  return (previous?.revision ?? 0) + 1;
}

/** The record of the next change of an entity: the revision counts on after a deletion, `created` starts over. */
export function recordAfter<T>(
  previous: EntityRecord<T> | undefined,
  kind: EntityKind,
  id: string,
  value: T | null,
  timestamp: string,
): EntityRecord<T> {
  return {
    kind,
    id,
    revision: revisionAfter(previous),
    created: previous?.value ? previous.created : timestamp,
    modified: timestamp,
    value,
  };
}

export interface Change {
  record: EntityRecord;
  /** The revision this change replaces: 0 when no record exists yet. */
  expectedRevision: number;
  /** The event to journal with the change (Ditto Protocol event JSON), read back by readJournal. */
  event?: unknown;
  /** `JSON.stringify(record.value)` when the writer made it already (a store may use it instead of its own). */
  valueJson?: string;
  /** Headers of the request kept with this revision (ditto: historical-headers-to-persist); absent: none. */
  headers?: Record<string, string>;
}

/**
 * One revision of an entity as the store keeps it for history (ditto: basic-history): the record as it was
 * after the change, with what was journaled beside it.
 */
export interface HistoryEntry {
  /** The journal position of the change. */
  seq: number;
  /** The entity after the change; `value` null when the change deleted it. */
  record: EntityRecord;
  event?: unknown;
  headers?: Record<string, string>;
}

/** Revisions of one entity to read, in revision order. Instants are epoch milliseconds of `record.modified`. */
export interface HistoryRange {
  /** First and last revision, inclusive. */
  fromRevision: number;
  toRevision: number;
  /** Only revisions modified strictly after this instant. */
  after?: number;
  /** Ends at the first revision modified at or after this instant. */
  before?: number;
}

/**
 * How long history is kept: a revision older than this is dropped by `compactHistory`, except each entity's
 * latest revision, which is its current state. Things and policies may be kept longer or shorter per
 * namespace (the part of the ID before the first ':').
 */
export interface HistoryRetention {
  /** Milliseconds; undefined keeps history forever. */
  defaultMs?: number;
  /** Per namespace: milliseconds, or null to keep that namespace's history forever. */
  namespaces?: Readonly<Record<string, number | null>>;
}

export interface JournalEntry {
  /** Position in the journal: strictly increasing across all writes of one store. */
  seq: number;
  kind: EntityKind;
  id: string;
  revision: number;
  event: unknown;
}

export class ConcurrentModificationError extends TwinbridgeError {
  constructor(
    readonly kind: EntityKind,
    readonly id: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(`${kind} '${id}': expected revision ${expectedRevision} but found ${actualRevision}`, {
      retriable: true,
    });
  }
}

export interface Store {
  /** Opens the store (recovers state); resolves when it can serve. */
  open(): Promise<void>;
  /** Waits for pending writes to become durable, then closes. */
  close(): Promise<void>;
  /** The latest durable record, including deleted ones (value null). */
  get(kind: EntityKind, id: string): Promise<EntityRecord | undefined>;
  /** `get` without a promise, offered by a store that keeps its state in memory (the embedded one). */
  getSync?(kind: EntityKind, id: string): EntityRecord | undefined;
  /** Every record of a kind, deleted ones included; order unspecified. */
  list(kind: EntityKind): AsyncIterable<EntityRecord>;
  /**
   * Writes all changes atomically and resolves once they are durable. Rejects with
   * ConcurrentModificationError (and writes none of them) if any record's stored revision differs from its
   * expectedRevision. Changes to the same entity within one call are not allowed.
   */
  write(changes: readonly Change[]): Promise<void>;
  /** Journaled events with seq > afterSeq, in order, as far back as the store still keeps them. */
  readJournal(afterSeq: number): AsyncIterable<JournalEntry>;
  /** The seq of the last durable journal entry (0 when empty). */
  lastSeq(): number;
  /**
   * A random 32-byte key named `name`, created on first use and the same from then on for every instance
   * on this store's data (the embedded store keeps it in a 0600 file of its directory, PostgreSQL in a row
   * of its schema), e.g. the key that seals search cursors, so that one instance opens another's cursor.
   */
  sharedKey(name: string): Promise<Buffer>;
  /**
   * History: the latest revision the store keeps whose revision is at most `revision` (when given) and which
   * was modified strictly before `before` (epoch ms, when given); undefined when it keeps none.
   */
  historyAt(
    kind: EntityKind,
    id: string,
    point: { revision?: number; before?: number },
  ): Promise<HistoryEntry | undefined>;
  /** History: the kept revisions of one entity within `range`, in revision order. */
  history(kind: EntityKind, id: string, range: HistoryRange): AsyncIterable<HistoryEntry>;
  /**
   * Drops history older than `retention` allows as of `now` (epoch ms); the current state of every entity,
   * its latest revision, stays. Resolves with the number of revisions dropped.
   */
  compactHistory(retention: HistoryRetention, now: number): Promise<number>;
}

/** The retention cutoff (epoch ms) of one entity as of `now`: revisions modified before it go; undefined: none go. */
export function retentionCutoff(
  retention: HistoryRetention,
  kind: EntityKind,
  id: string,
  now: number,
): number | undefined {
  let ms = retention.defaultMs;
  if (kind !== 'connection' && retention.namespaces !== undefined) {
    const colon = id.indexOf(':');
    const namespace = colon < 0 ? '' : id.slice(0, colon);
    if (Object.prototype.hasOwnProperty.call(retention.namespaces, namespace))
      ms = retention.namespaces[namespace] ?? undefined;
  }
  return ms === undefined ? undefined : now - ms;
}
