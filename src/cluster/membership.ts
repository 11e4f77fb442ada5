/**
 * WebSocket/SSE consumer groups spanning instances (ditto-interfaces.md §15; docs/scale-out.md).
 *
 * Every instance keeps its members in the `group_members` table (instance, group, member, heartbeat) and
 * reads every instance's members, so all instances compute the same member list and the same hash ring per
 * group. A twin event (which every instance publishes, src/cluster/remote-changes.ts) is delivered by the
 * instance whose member owns the thing on that ring, to its own members only. Members of an instance that
 * stops heartbeating for `expiryMs` (it died) drop out of every ring; the others take their share.
 *
 * Changes are NOTIFYed so others reload at once; between a change and every instance reloading (a few ms,
 * up to one heartbeat when a notification is lost) two instances may disagree on the ring, and an event
 * of a thing whose owner changes in that window can reach two members or none.
 */
import type { PostgresStore } from '../store/postgres/postgres-store.js';
import { HashRing } from '../streaming/hash-ring.js';
import type { ClusterGroups } from '../streaming/registry.js';

export interface GroupMembershipOptions {
  store: PostgresStore;
  instanceId: string;
  /** Heartbeat interval (ms); a member expires after three missed beats. */
  heartbeatMs?: number;
  log: (level: 'warn' | 'error' | 'info', msg: string, err?: unknown) => void;
}

interface Member {
  instance: string;
  id: string;
}

const memberKey = (m: Member) => `${m.instance}/${m.id}`;

export class GroupMembership implements ClusterGroups {
  private readonly local = new Map<string, Set<string>>();
  private remote = new Map<string, Member[]>();
  private readonly rings = new Map<string, HashRing<Member>>();
  private readonly heartbeatMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  /** Table writes in order (join then leave of one member must not be swapped). */
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: GroupMembershipOptions) {
    this.heartbeatMs = o.heartbeatMs ?? 2000;
  }

  async start(): Promise<void> {
    const t = this.o.store.tables;
    // A previous life of this instance ID left its rows behind.
    await this.o.store.query(`delete from ${t.groupMembers} where instance = $1`, [this.o.instanceId]);
    await this.reload();
    await this.listen();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.stopListening?.();
    await this.writes;
    await this.o.store
      .query(`delete from ${this.o.store.tables.groupMembers} where instance = $1`, [this.o.instanceId])
      .then(() => this.o.store.notify(this.o.store.tables.groupsChannel, this.o.instanceId))
      .catch((err: unknown) =>
        this.o.log(
          'warn',
          'removing this instance from consumer groups failed; they expire by heartbeat',
          err,
        ),
      );
  }

  join(group: string, memberId: string): void {
    let set = this.local.get(group);
    if (!set) this.local.set(group, (set = new Set()));
    set.add(memberId);
    this.rebuild(group);
    this.write(
      `insert into ${this.o.store.tables.groupMembers} (instance, group_key, member) values ($1, $2, $3) on conflict do nothing`,
      [this.o.instanceId, group, memberId],
    );
  }

  leave(group: string, memberId: string): void {
    const set = this.local.get(group);
    if (!set?.delete(memberId)) return;
    if (set.size === 0) this.local.delete(group);
    this.rebuild(group);
    this.write(
      `delete from ${this.o.store.tables.groupMembers} where instance = $1 and group_key = $2 and member = $3`,
      [this.o.instanceId, group, memberId],
    );
  }

  ownsLocally(group: string, thingId: string): boolean {
    const ring = this.rings.get(group);
    if (!ring) return true; // no member known anywhere but the caller's: deliver locally
    for (const owner of ring.walk(thingId)) return owner.instance === this.o.instanceId;
    return true;
  }

  /** Members per group as this instance sees them (tests, diagnostics). */
  members(group: string): string[] {
    return this.all(group).map(memberKey).sort();
  }

  private all(group: string): Member[] {
    const mine = [...(this.local.get(group) ?? [])].map((id) => ({ instance: this.o.instanceId, id }));
    return [...mine, ...(this.remote.get(group) ?? [])];
  }

  private rebuild(group: string): void {
    const members = this.all(group);
    if (members.length === 0) this.rings.delete(group);
    else this.rings.set(group, new HashRing(members, memberKey));
  }

  private write(sql: string, values: unknown[]): void {
    const { store } = this.o;
    this.writes = this.writes
      .then(() => store.query(sql, values))
      .then(() => store.notify(store.tables.groupsChannel, this.o.instanceId))
      .catch((err: unknown) =>
        this.o.log('warn', 'recording a consumer-group member failed; the next heartbeat retries', err),
      );
  }

  /** Refreshes this instance's heartbeat (re-inserting its members if they were expired) and reloads. */
  private async beat(): Promise<void> {
    const t = this.o.store.tables;
    const groups: string[] = [];
    const members: string[] = [];
    for (const [group, set] of this.local) {
      for (const m of set) {
        groups.push(group);
        members.push(m);
      }
    }
    try {
      await this.o.store.query(
        `insert into ${t.groupMembers} (instance, group_key, member, heartbeat)
         select $1, g, m, now() from unnest($2::text[], $3::text[]) as x(g, m)
         on conflict (instance, group_key, member) do update set heartbeat = now()`,
        [this.o.instanceId, groups, members],
      );
      // Rows of instances dead for long (ten expiries) are removed; any instance may do it.
      await this.o.store.query(
        `delete from ${t.groupMembers} where heartbeat < now() - make_interval(secs => $1::double precision / 1000)`,
        [this.heartbeatMs * 30],
      );
      await this.reload();
    } catch (err) {
      this.o.log('warn', 'consumer-group heartbeat failed', err);
    }
  }

  private async reload(): Promise<void> {
    if (this.closed) return;
    const expiry = this.heartbeatMs * 3;
    const { rows } = await this.o.store.query<{ instance: string; group_key: string; member: string }>(
      `select instance, group_key, member from ${this.o.store.tables.groupMembers}
        where instance <> $1 and heartbeat > now() - make_interval(secs => $2::double precision / 1000)`,
      [this.o.instanceId, expiry],
    );
    const remote = new Map<string, Member[]>();
    for (const r of rows) {
      let list = remote.get(r.group_key);
      if (!list) remote.set(r.group_key, (list = []));
      list.push({ instance: r.instance, id: r.member });
    }
    const groups = new Set([...this.remote.keys(), ...remote.keys(), ...this.local.keys()]);
    this.remote = remote;
    for (const g of groups) this.rebuild(g);
  }

  private async listen(): Promise<void> {
    const { store } = this.o;
    try {
      this.stopListening = await store.listen(
        [store.tables.groupsChannel],
        (_channel, payload) => {
          if (payload !== this.o.instanceId)
            void this.reload().catch((err: unknown) =>
              this.o.log('warn', 'reloading consumer groups failed', err),
            );
        },
        (err) => {
          this.o.log('warn', 'consumer-group LISTEN connection lost; the heartbeat reloads meanwhile', err);
          this.stopListening = undefined;
          if (!this.closed) setTimeout(() => void this.listen(), this.heartbeatMs).unref();
        },
      );
    } catch (err) {
      this.o.log('warn', 'consumer-group LISTEN failed; retrying', err);
      if (!this.closed) setTimeout(() => void this.listen(), this.heartbeatMs).unref();
    }
  }
}
