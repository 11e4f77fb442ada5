/**
 * A cap on what one authenticated user holds open at once (WebSocket sessions, SSE streams), counted per
 * set of subjects on this instance. `acquire` throws 429 `too.many.requests` at the cap (ditto:
 * TooManyRequestsException); the release it returns is idempotent and belongs in the close handler.
 */
import { subjectsKeyOf, type AuthContext } from '../auth/context.js';
import { tooManyRequests } from '../errors/general.js';

export class SubjectLimit {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly max: number,
    /** What is counted, e.g. "WebSocket sessions" (for the error's description). */
    private readonly what: string,
  ) {}

  /** Throws `too.many.requests` when `auth` holds the maximum already. */
  check(auth: AuthContext): void {
    if ((this.open.get(subjectsKeyOf(auth)) ?? 0) >= this.max) {
      throw tooManyRequests(undefined, {
        description: `At most ${this.max} ${this.what} may be open per user; close one and try again.`,
      });
    }
  }

  /** Counts one more for `auth` (after `check`); returns its release. */
  acquire(auth: AuthContext): () => void {
    this.check(auth);
    const key = subjectsKeyOf(auth);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.open.get(key) ?? 1) - 1;
      if (n <= 0) this.open.delete(key);
      else this.open.set(key, n);
    };
  }
}
