/**
 * The commit position of one assigned partition (STYLE lesson 7, ditto: §11.6 qos 1 "commit after acks").
 *
 * Messages are delivered in offset order and settle in any order. The offset to commit is the one after
 * the last message of the longest settled prefix ("highest contiguous acked offset"); offsets need not be
 * consecutive (compaction, transaction markers), so the tracker keeps the delivered offsets themselves.
 * A nack for redelivery rewinds: the nacked message and everything delivered after it are discarded (their
 * later settlements are ignored) and consumption restarts at the nacked offset, so the commit never passes
 * a message that was not durably handled.
 */

export interface Delivery {
  readonly offset: bigint;
  done: boolean;
  /** Discarded by a rewind or a rebalance: its settlement no longer counts. */
  stale: boolean;
}

export class PartitionOffsets {
  private entries: Delivery[] = [];
  private head = 0;
  /** The offset the group has committed (or the start position this member committed on assignment). */
  committed: bigint;
  /** One after the longest settled prefix delivered so far. */
  private settled: bigint;
  /** The next offset to hand out; rewinds set it back. */
  position: bigint;

  constructor(start: bigint) {
    this.committed = start;
    this.settled = start;
    this.position = start;
  }

  /** Records a delivered message; `done` for messages that need no acknowledgement (qos 0, expired). */
  deliver(offset: bigint, done: boolean): Delivery {
    const d: Delivery = { offset, done, stale: false };
    this.entries.push(d);
    this.position = offset + 1n;
    return d;
  }

  /** Marks a delivery settled; returns false when it no longer counts (discarded) or was settled before. */
  ack(d: Delivery): boolean {
    if (d.stale || d.done) return false;
    d.done = true;
    return true;
  }

  /** The offset to commit (one after the longest settled prefix) when it is beyond `committed`. */
  commitable(): bigint | undefined {
    while (this.head < this.entries.length && this.entries[this.head].done) {
      this.settled = this.entries[this.head].offset + 1n;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return this.settled > this.committed ? this.settled : undefined;
  }

  /**
   * A nack asking for redelivery: discards `d` and everything after it and rewinds `position` to `d`.
   * Returns false when `d` was already discarded (an earlier rewind covers it).
   */
  rewind(d: Delivery): boolean {
    if (d.stale) return false;
    const at = this.entries.indexOf(d, this.head);
    if (at < 0) return false;
    for (let i = at; i < this.entries.length; i++) this.entries[i].stale = true;
    this.entries.length = at;
    this.position = d.offset;
    return true;
  }

  /** The partition was revoked or the client closes: nothing delivered so far counts any more. */
  discard(): void {
    for (let i = this.head; i < this.entries.length; i++) this.entries[i].stale = true;
    this.entries = [];
    this.head = 0;
  }

  /** Deliveries not yet settled. */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.entries.length; i++) if (!this.entries[i].done) n++;
    return n;
  }
}
