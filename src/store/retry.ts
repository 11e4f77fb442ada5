/**
 * Another attempt at a write that lost a race: the store rejected it with ConcurrentModificationError because
 * another writer (or instance) changed the entity since the write was decided. Each attempt decides again on
 * state reloaded by `reset`; after MAX_ATTEMPTS in all, the last error stands. Used by the things and the
 * policies services.
 */
import { ConcurrentModificationError } from './port.js';

export const MAX_ATTEMPTS = 3;

export interface ConflictRetry {
  /** Before the next attempt after `err`: drops the cached state the failed attempt was decided on. */
  reset(err: unknown): void;
  /** Whether an error other than a conflict is worth another attempt; `attempt` is the failed one, from 1. */
  alsoRetries?(err: unknown, attempt: number): boolean;
  /** What to reject with once the attempts are spent (default: the last error). */
  exhausted?(err: unknown): unknown;
}

/**
 * Attempts again after the first attempt failed with `firstError` (rejects with it when it is no conflict).
 * For callers that hold the first attempt's promise already (the twin write path: no closure per write).
 */
export async function retryAfter<T>(
  firstError: unknown,
  attempt: () => Promise<T>,
  retry: ConflictRetry,
): Promise<T> {
  let err = firstError;
  for (let failed = 1; ; failed++) {
    if (!(err instanceof ConcurrentModificationError || retry.alsoRetries?.(err, failed))) throw err;
    if (failed >= MAX_ATTEMPTS) throw retry.exhausted ? retry.exhausted(err) : err;
    retry.reset(err);
    try {
      return await attempt();
    } catch (next) {
      err = next;
    }
  }
}

/** Runs `attempt`, and again after a conflict (see retryAfter). */
export function retryConflicts<T>(attempt: () => Promise<T>, retry: ConflictRetry): Promise<T> {
  return attempt().catch((err: unknown) => retryAfter(err, attempt, retry));
}
