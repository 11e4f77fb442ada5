import { queryTimeExceeded } from '../errors/search.js';

/**
 * The time limit of one search (§2.7 `timeout`): `check()` is called for every candidate and every value a
 * wildcard is matched against, and reads the clock on every 16th call, so a query stops within a few
 * things of its limit however expensive each thing is.
 */
export class Deadline {
  private readonly until: number;
  private calls = 0;

  constructor(private readonly timeoutMs: number | undefined) {
    this.until = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  }

  /** Throws `thing-search:query.time.exceeded` once the limit has passed. */
  check(): void {
    if (this.timeoutMs === undefined || (++this.calls & 15) !== 0) return;
    if (performance.now() > this.until) throw queryTimeExceeded({ timeoutMs: this.timeoutMs });
  }
}
