/**
 * Deciding a group-commit batch: which of the pending writes (in arrival order) are accepted, given the
 * stored revisions. Pure, so the rules are testable without a database.
 *
 * A write is accepted iff every change's expectedRevision equals the entity's current revision, where
 * "current" starts at the stored revision (0 when absent) and advances with each accepted write of the
 * batch: a caller may chain rev 2 → rev 3 before rev 2 is durable (the things service does), and both land
 * in one transaction. A rejected write changes nothing, so later writes that expected its revision are
 * rejected too. All changes of one write are accepted or rejected together (port.ts).
 */
import { ConcurrentModificationError, type Change, type EntityKind, type EntityRecord } from '../port.js';

export const entityKey = (kind: EntityKind, id: string): string => `${kind}\u0000${id}`;

export interface JournalRow {
  kind: EntityKind;
  id: string;
  revision: number;
  event: unknown;
}

export interface BatchDecision {
  /** Per write: undefined when accepted, else the error to reject it with. */
  outcomes: Array<ConcurrentModificationError | undefined>;
  /** The last accepted record per entity: what the entities table must hold after the commit. */
  records: EntityRecord[];
  /** Events of the accepted writes, in acceptance order: the journal rows to append. */
  journal: JournalRow[];
}

/** `journalAll`: journal changes without an event too (event null), as the PostgreSQL store does for followers. */
export function decideBatch(writes: ReadonlyArray<readonly Change[]>, stored: ReadonlyMap<string, number>, journalAll = false): BatchDecision {
  const current = new Map(stored);
  const records = new Map<string, EntityRecord>();
  const journal: JournalRow[] = [];
  const outcomes = writes.map((changes) => {
    for (const { record, expectedRevision } of changes) {
      const actual = current.get(entityKey(record.kind, record.id)) ?? 0;
      if (actual !== expectedRevision) return new ConcurrentModificationError(record.kind, record.id, expectedRevision, actual);
    }
    for (const { record, event } of changes) {
      const key = entityKey(record.kind, record.id);
      current.set(key, record.revision);
      records.delete(key); // keep records in order of their last change
      records.set(key, record);
      if (event !== undefined || journalAll) journal.push({ kind: record.kind, id: record.id, revision: record.revision, event: event ?? null });
    }
    return undefined;
  });
  return { outcomes, records: [...records.values()], journal };
}
