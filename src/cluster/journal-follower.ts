/**
 * Follows the PostgreSQL journal shared by every instance (docs/scale-out.md "Events across instances").
 *
 * The store NOTIFYs the last journal seq of every commit (postgres-store.ts, inside the transaction, so a
 * notification means a durable commit, and they arrive in commit order). On a notification — or every
 * `pollMs`, which covers notifications lost while the LISTEN connection was down — the follower reads the
 * rows after the last seq it handled, a page at a time, and hands the rows of OTHER instances to the
 * handler in seq order (seqs are gap-free and in commit order, so nothing committed earlier can appear
 * later). Rows of this instance are skipped: its own writers publish them.
 *
 * Ordering with this instance's own events: `caughtUp()` tells a local writer whether rows of other
 * instances committed before its write are still unhandled; it then waits, and is released just before
 * the follower handles a row committed after its write. So on every instance's bus the events of one
 * thing come in revision order, local and remote alike.
 */
import type { OriginJournalEntry, PostgresStore } from '../store/postgres/postgres-store.js';

export interface FollowerHandler {
  /** Async preparation of one page of remote rows (e.g. reading base states); may reject (retried). */
  prepare(rows: readonly OriginJournalEntry[]): Promise<void>;
  /** Applies one remote row; synchronous so that the order of rows is the order of effects. */
  apply(row: OriginJournalEntry): void;
}

export interface JournalFollowerOptions {
  store: PostgresStore;
  instanceId: string;
  handler: FollowerHandler;
  /** Safety-net poll interval (ms). */
  pollMs?: number;
  /** Longest a local event waits for remote ones before it is published anyway (database unreachable). */
  maxWaitMs?: number;
  log: (level: 'warn' | 'error' | 'info', msg: string, err?: unknown) => void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
}

const PAGE = 500;

export class JournalFollower {
  /** Every row with seq <= handled has been applied (remote) or skipped (own). */
  private handled = 0;
  /** The highest seq known to be committed. */
  private known = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private waiters: Waiter[] = [];
  private stopListening: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;
  private readonly pollMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly o: JournalFollowerOptions) {
    this.pollMs = o.pollMs ?? 1000;
    this.maxWaitMs = o.maxWaitMs ?? 5000;
  }

  /**
   * Starts after `fromSeq`: the store's last seq when it opened, as this instance loaded its state after
   * that (rows in between are replayed; applying them again is harmless, they are ordered by revision).
   */
  async start(fromSeq: number): Promise<void> {
    this.handled = this.known = fromSeq;
    this.started = true;
    await this.listen();
    this.timer = setInterval(() => this.trigger(), this.pollMs);
    this.timer.unref();
    this.trigger();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.relistenTimer);
    for (const w of this.waiters.splice(0)) w.resolve();
    await this.stopListening?.();
    await this.running;
  }

  /** The last seq handled (for tests and the bench). */
  get position(): number {
    return this.handled;
  }

  /**
   * The store committed rows firstSeq..lastSeq of this instance (called synchronously before the writes
   * resolve). When nothing of another instance precedes them, they are handled without reading them back.
   */
  onCommitted(firstSeq: number, lastSeq: number): void {
    if (!this.started) return;
    if (lastSeq > this.known) this.known = lastSeq;
    if (firstSeq === this.handled + 1) this.handled = lastSeq;
    else this.trigger();
  }

  /**
   * undefined when every row up to the latest commit this instance knows of is handled (the common case:
   * no await); otherwise a promise that resolves once the rows before it are.
   */
  caughtUp(): Promise<void> | undefined {
    // The store's last seq is that of this instance's latest commit (caughtUp() runs right after the
    // write resolved), not a later commit of another instance, which must come after the local event.
    const seq = this.o.store.lastSeq();
    if (this.handled >= seq || this.closed || !this.started) return undefined;
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { seq, resolve };
      // The database being unreachable must not hold this instance's answers forever.
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.o.log(
          'warn',
          `published a local event without the remote events before it (journal seq ${seq} not reached in ${this.maxWaitMs} ms)`,
        );
        resolve();
      }, this.maxWaitMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(waiter);
      this.trigger();
    });
  }

  private async listen(): Promise<void> {
    const { store } = this.o;
    try {
      this.stopListening = await store.listen(
        [store.tables.journalChannel],
        (_channel, payload) => {
          const seq = Number(payload);
          if (seq > this.known) this.known = seq;
          if (seq > this.handled) this.trigger();
        },
        (err) => {
          this.o.log('warn', 'journal LISTEN connection lost; listening again (polling meanwhile)', err);
          this.stopListening = undefined;
          this.relisten();
        },
      );
    } catch (err) {
      this.o.log('warn', 'journal LISTEN failed; trying again (polling meanwhile)', err);
      this.relisten();
    }
  }

  private relisten(): void {
    if (this.closed) return;
    this.relistenTimer = setTimeout(() => {
      void this.listen().then(() => this.trigger());
    }, this.pollMs);
    this.relistenTimer.unref();
  }

  /** Runs one catch-up at a time; a trigger during a run makes it run again. */
  private trigger(): void {
    if (this.closed || !this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((err: unknown) =>
        this.o.log('error', 'reading the journal of other instances failed; retrying', err),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.trigger();
        }
      });
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      this.again = false;
      const page = await this.o.store.readJournalPage(this.handled, PAGE);
      const remote = page.filter((row) => row.seq > this.handled && row.origin !== this.o.instanceId);
      if (remote.length > 0) await this.o.handler.prepare(remote);
      for (const row of page) {
        if (row.seq <= this.handled) continue; // handled meanwhile (own commits, onCommitted)
        if (row.origin !== this.o.instanceId && this.waiters.some((w) => w.seq < row.seq)) {
          // Local events committed before this row go first: release them and let them publish.
          this.release(row.seq - 1);
          await new Promise((resolve) => setImmediate(resolve));
          if (row.seq <= this.handled) continue;
        }
        if (row.origin !== this.o.instanceId) {
          try {
            this.o.handler.apply(row);
          } catch (err) {
            this.o.log('error', `applying journal row ${row.seq} of another instance failed`, err);
          }
        }
        this.handled = row.seq;
        if (row.seq > this.known) this.known = row.seq;
      }
      this.release(this.handled);
      if (page.length < PAGE && !this.again) return;
    }
  }

  private release(upTo: number): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.seq <= upTo);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > upTo);
    for (const w of ready) w.resolve();
  }
}
