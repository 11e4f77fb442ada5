/**
 * Exponential back-off with jitter for reconnecting connection clients (STYLE lesson 2): the n-th retry
 * waits a random time in [delay/2, delay] where delay = min(max, min · 2^n) ("equal jitter"), so clients of
 * many connections do not reconnect in lockstep after a broker restart.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call doubles the base up to maxMs. */
  next(): number {
    const { minMs, maxMs } = this.options;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const random = this.options.random ?? Math.random;
    return Math.round(base / 2 + (base / 2) * random());
  }

  /** After a successful connect. */
  reset(): void {
    this.attempt = 0;
  }
}
