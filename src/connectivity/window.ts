/**
 * The outbound in-flight window of one target, or of a connection's replies (STYLE lesson 7, bounded): the
 * signals accepted and not yet handed to the connector, plus the writes the broker has not confirmed yet.
 * The runtime owns it; connectors hold no write bound of their own (their queues only keep call order while
 * a socket drains, a channel opens, credit arrives or an HTTP slot frees up, and hold at most this many).
 *
 * Policy, decided here: a signal that finds the window full is dropped at once — counted as `dropped`, with
 * a requested acknowledgement of the target answered 503 — rather than waiting (the bus and every other
 * subscriber must not wait for one slow broker; ditto drops on a full publisher queue too). Further writes
 * of a signal already admitted (a mapper's fan-out) are counted, never refused.
 */
export class OutboundWindow {
  private used = 0;

  constructor(readonly size: number) {}

  /** Signals and writes in flight now (the `twinbridge_connection_outbound_in_flight` gauge). */
  get inFlight(): number {
    return this.used;
  }

  /** Admits one signal: false when the window is full (the caller drops it, saying `reason`). */
  admit(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** Counts a write of an admitted signal, whether or not the window is full. */
  add(): void {
    this.used++;
  }

  /** Frees what admit() or add() took: the signal's processing ended, or the broker settled a write. */
  release(): void {
    this.used--;
  }

  get reason(): string {
    return `more than ${this.size} messages are in flight for this target`;
  }
}
