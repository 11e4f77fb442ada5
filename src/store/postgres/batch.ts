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
  /** The entity after the change (the last row of an entity in a batch is what the entities table holds). */
  record: EntityRecord;
  event: unknown;
  headers?: Record<string, string>;
}

export interface BatchDecision {
  /** Per write: undefined when accepted, else the error to reject it with. */
  outcomes: Array<ConcurrentModificationError | undefined>;
  /** Every change of the accepted writes, in acceptance order: the journal rows to append. */
  journal: JournalRow[];
}

export function decideBatch(
  writes: ReadonlyArray<readonly Change[]>,
  stored: ReadonlyMap<string, number>,
): BatchDecision {
  const current = new Map(stored);
  const journal: JournalRow[] = [];
  const outcomes = writes.map((changes) => {
    for (const { record, expectedRevision } of changes) {
      const actual = current.get(entityKey(record.kind, record.id)) ?? 0;
      if (actual !== expectedRevision)
        return new ConcurrentModificationError(record.kind, record.id, expectedRevision, actual);
    }
    for (const { record, event, headers } of changes) {
      current.set(entityKey(record.kind, record.id), record.revision);
      const row: JournalRow = { record, event: event ?? null };
      if (headers !== undefined) row.headers = headers;
      journal.push(row);
    }
    return undefined;
  });
  return { outcomes, journal };
}
