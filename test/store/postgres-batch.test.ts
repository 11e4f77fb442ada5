import { describe, expect, it } from 'vitest';
import { decideBatch, entityKey } from '../../src/store/postgres/batch.js';
import { ConcurrentModificationError, type Change, type EntityRecord } from '../../src/store/port.js';

// The group-commit decision of the PostgreSQL store, without a database.

const rec = (id: string, revision: number, kind: EntityRecord['kind'] = 'thing'): EntityRecord => ({
  kind,
  id,
  revision,
  created: 'c',
  modified: 'm',
  value: { revision },
});
const change = (id: string, revision: number, event?: unknown): Change => ({
  record: rec(id, revision),
  expectedRevision: revision - 1,
  event,
});

describe('group commit decision', () => {
  it('accepts a chain of revisions of one entity and journals each revision', () => {
    const d = decideBatch(
      [[change('a', 2, 'e2')], [change('a', 3, 'e3')]],
      new Map([[entityKey('thing', 'a'), 1]]),
    );
    expect(d.outcomes).toEqual([undefined, undefined]);
    expect(d.journal.map((j) => j.record.revision)).toEqual([2, 3]);
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
    expect(d.journal).toEqual([{ record: rec('c', 1), event: 'ok' }]);
  });

  it('tells kinds apart and journals changes without an event too, with their headers', () => {
    const d = decideBatch(
      [
        [
          { record: rec('a', 1, 'policy'), expectedRevision: 0, headers: { 'correlation-id': 'x' } },
          change('a', 1, 'created'),
        ],
      ],
      new Map(),
    );
    expect(d.outcomes).toEqual([undefined]);
    expect(d.journal.map((j) => [j.record.kind, j.event, j.headers])).toEqual([
      ['policy', null, { 'correlation-id': 'x' }],
      ['thing', 'created', undefined],
    ]);
  });
});
