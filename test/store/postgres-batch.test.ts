import { describe, expect, it } from 'vitest';
import { decideBatch, entityKey } from '../../src/store/postgres/batch.js';
import { ConcurrentModificationError, type Change, type EntityRecord } from '../../src/store/port.js';

// The group-commit decision of the PostgreSQL store, without a database.

const rec = (id: string, revision: number, kind: EntityRecord['kind'] = 'thing'): EntityRecord => ({
  kind, id, revision, created: 'c', modified: 'm', value: { revision },
});
const change = (id: string, revision: number, event?: unknown): Change => ({ record: rec(id, revision), expectedRevision: revision - 1, event });

describe('group commit decision', () => {
  it('accepts a chain of revisions of one entity and keeps only the last record', () => {
    const d = decideBatch([[change('a', 2, 'e2')], [change('a', 3, 'e3')]], new Map([[entityKey('thing', 'a'), 1]]));
    expect(d.outcomes).toEqual([undefined, undefined]);
    expect(d.records.map((r) => r.revision)).toEqual([3]);
    expect(d.journal.map((j) => j.event)).toEqual(['e2', 'e3']);
  });

  it('rejects a whole write when one of its changes is stale, and the writes that built on it', () => {
    const d = decideBatch(
      [[change('b', 1), change('a', 1)], [change('b', 2)], [change('c', 1, 'ok')]],
      new Map([[entityKey('thing', 'a'), 4]]),
    );
    expect(d.outcomes[0]).toBeInstanceOf(ConcurrentModificationError);
    expect(d.outcomes[0]).toMatchObject({ id: 'a', expectedRevision: 0, actualRevision: 4 });
    expect(d.outcomes[1]).toMatchObject({ id: 'b', expectedRevision: 1, actualRevision: 0 });
    expect(d.outcomes[2]).toBeUndefined();
    expect(d.records.map((r) => r.id)).toEqual(['c']);
    expect(d.journal).toEqual([{ kind: 'thing', id: 'c', revision: 1, event: 'ok' }]);
  });

  it('tells kinds apart and journals only changes with an event', () => {
    const d = decideBatch([[{ record: rec('a', 1, 'policy'), expectedRevision: 0 }, change('a', 1, 'created')]], new Map());
    expect(d.outcomes).toEqual([undefined]);
    expect(d.records.map((r) => r.kind)).toEqual(['policy', 'thing']);
    expect(d.journal).toHaveLength(1);
  });
});
