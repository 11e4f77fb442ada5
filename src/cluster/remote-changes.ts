/**
 * What an instance does with a change another instance committed (rows handed over by the journal
 * follower, in commit order):
 *   thing       drop the things service's cached head if it is older; publish the event on the local bus
 *               marked remote (WebSocket/SSE subscribers, the search index; connection targets ignore it),
 *               with the thing's state after the event;
 *   policy      replace the policy directory's cached head (its compiled enforcer follows the revision);
 *   connection  adopt the stored connection: reconnect with the new configuration, open, close or remove.
 *
 * The thing's state after an event: the event applied to the state at the revision before, which this
 * instance knows when it published that revision itself (local or remote); otherwise (a thing it has not
 * seen change since it started) the durable record read with the page. When that record is already newer
 * than the event (several changes in quick succession), subscribers' filters and extraFields see the newer
 * state for the older event — documented in docs/scale-out.md.
 */
import type { SignalBus } from '../bus/signal-bus.js';
import type { ConnectionManager } from '../connectivity/manager.js';
import type { ThingEvent } from '../model/signals.js';
import type { ThingJson } from '../model/thing.js';
import type { StorePolicyDirectory } from '../policies/directory.js';
import type { EntityKind, EntityRecord } from '../store/port.js';
import type { OriginJournalEntry, PostgresStore } from '../store/postgres/postgres-store.js';
import type { ThingsService } from '../things/service.js';
import type { FollowerHandler } from './journal-follower.js';
import { remoteEvent } from './remote.js';
import { applyThingEvent } from './replay.js';

export interface RemoteChangesOptions {
  store: PostgresStore;
  bus: SignalBus;
  things: ThingsService;
  policies: StorePolicyDirectory;
  connections: ConnectionManager;
  log: (level: 'warn' | 'error' | 'info', msg: string, err?: unknown) => void;
}

interface KnownState {
  revision: number;
  thing: ThingJson | undefined;
}

const key = (kind: EntityKind, id: string) => `${kind}\u0000${id}`;

export class RemoteChanges implements FollowerHandler {
  /** The state of each thing at the last revision published on this instance's bus (shared references). */
  private readonly states = new Map<string, KnownState>();
  /** Records read for the current page. */
  private records = new Map<string, EntityRecord | undefined>();
  private readonly unsubscribe: () => void;

  constructor(private readonly o: RemoteChangesOptions) {
    this.unsubscribe = o.bus.subscribeThingEvents((p) =>
      this.states.set(p.event.thingId, { revision: p.event.revision, thing: p.thing }),
    );
  }

  close(): void {
    this.unsubscribe();
  }

  async prepare(rows: readonly OriginJournalEntry[]): Promise<void> {
    const wanted = new Map<string, { kind: EntityKind; id: string }>();
    const expected = new Map<string, number>();
    for (const row of rows) {
      const k = key(row.kind, row.id);
      if (row.kind === 'thing') {
        // Expected revision before this row, were the page applied up to it.
        const before = expected.get(row.id) ?? this.states.get(row.id)?.revision;
        if (before !== row.revision - 1) wanted.set(k, { kind: row.kind, id: row.id });
        expected.set(row.id, row.revision);
      } else wanted.set(k, { kind: row.kind, id: row.id });
    }
    this.records = new Map();
    if (wanted.size === 0) return;
    const list = [...wanted.values()];
    const { rows: found } = await this.o.store.query<{
      kind: EntityKind;
      id: string;
      revision: string;
      created: string;
      modified: string;
      value: unknown;
    }>(
      `select e.kind, e.id, e.revision, e.created, e.modified, e.value from ${this.o.store.tables.entities} e
        join unnest($1::text[], $2::text[]) as k(kind, id) on e.kind = k.kind and e.id = k.id`,
      [list.map((w) => w.kind), list.map((w) => w.id)],
    );
    for (const w of list) this.records.set(key(w.kind, w.id), undefined);
    for (const r of found) {
      this.records.set(key(r.kind, r.id), {
        kind: r.kind,
        id: r.id,
        revision: Number(r.revision),
        created: r.created,
        modified: r.modified,
        value: r.value ?? null,
      });
    }
  }

  apply(row: OriginJournalEntry): void {
    switch (row.kind) {
      case 'thing':
        return this.applyThing(row);
      case 'policy':
        return this.o.policies.noteRemote(row.id, this.recordOf(row));
      case 'connection':
        this.o.connections
          .applyRemote(row.id, this.recordOf(row))
          .catch((err: unknown) =>
            this.o.log('error', `adopting connection ${row.id} changed by another instance failed`, err),
          );
        return;
    }
  }

  private recordOf(row: OriginJournalEntry): EntityRecord | undefined {
    const record = this.records.get(key(row.kind, row.id));
    return record?.value ? record : undefined;
  }

  private applyThing(row: OriginJournalEntry): void {
    const { event, policyId } = row.event as { event: ThingEvent; policyId?: string };
    this.o.things.noteRemoteChange(row.id, row.revision);
    const known = this.states.get(row.id);
    let thing: ThingJson | undefined;
    if (known && known.revision === row.revision - 1) thing = applyThingEvent(known.thing, event);
    else if (known && known.revision >= row.revision)
      return; // already published (a repeated page)
    else thing = (this.records.get(key('thing', row.id))?.value as ThingJson | null) ?? undefined;
    this.o.bus.publishThingEvent(remoteEvent({ event, policyId, thing }));
  }
}
