/**
 * The store port. Every implementation (embedded journal, PostgreSQL) passes
 * test/conformance/store.suite.ts.
 *
 * Entities are versioned records. A write names the revision it expects to replace, so several writers
 * (instances) never lose an update: a mismatch rejects with ConcurrentModificationError, which is
 * retriable. A write resolves only once it is durable; what resolved survives a crash.
 */

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

export interface Change {
  record: EntityRecord;
  /** The revision this change replaces: 0 when no record exists yet. */
  expectedRevision: number;
  /** The event to journal with the change (Ditto Protocol event JSON), read back by readJournal. */
  event?: unknown;
  /** `JSON.stringify(record.value)` when the writer made it already (a store may use it instead of its own). */
  valueJson?: string;
}

export interface JournalEntry {
  /** Position in the journal: strictly increasing across all writes of one store. */
  seq: number;
  kind: EntityKind;
  id: string;
  revision: number;
  event: unknown;
}

export class ConcurrentModificationError extends Error {
  readonly retriable = true;
  constructor(
    readonly kind: EntityKind,
    readonly id: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(`${kind} '${id}': expected revision ${expectedRevision} but found ${actualRevision}`);
    this.name = 'ConcurrentModificationError';
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
}
