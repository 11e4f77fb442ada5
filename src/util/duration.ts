/**
 * Ditto's durations (ditto: DittoDuration.parseDuration): a whole, non-negative amount with a unit `ms`, `s`,
 * `m`, `h`, `d`, `w`, `mo` or `y`; a bare amount is seconds (`42` = `42s`). Months and years are average
 * lengths as in Java's ChronoUnit (30.436875 and 365.2425 days). The one duration parser of the service:
 * `timeout` headers (HTTP, WebSocket, connection sources), connection `specificConfig`, the configuration
 * table, history retention, policy announcements. What is not a duration is an error, never a default.
 */
import { TwinbridgeError } from '../errors/base.js';

const DAY = 86_400_000;

/** Milliseconds per unit; also the units of `time:` placeholder offsets (src/placeholders/time.ts). */
export const DURATION_UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: DAY,
  w: 7 * DAY,
  mo: 2_629_746_000,
  y: 31_556_952_000,
} as const;

export type DurationUnit = keyof typeof DURATION_UNIT_MS;

/** A duration as a JSON-schema `pattern` (connector config schemas); `mo` before `m` so both match. */
export const DURATION_PATTERN = '^(\\d+)(ms|mo|s|m|h|d|w|y)?$';

const DURATION = new RegExp(DURATION_PATTERN);

/** A text that is not a duration; callers turn it into their own error (`timeout.invalid`, a config problem). */
export class DurationInvalidError extends TwinbridgeError {
  constructor(readonly text: string) {
    super(`'${text}' is not a duration (a whole number with ms, s, m, h, d, w, mo or y; bare: seconds)`, {
      retriable: false,
    });
  }
}

/** The duration in milliseconds; throws DurationInvalidError (also for amounts beyond 2^53 ms). */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (m === null) throw new DurationInvalidError(text);
  const ms = Number(m[1]) * DURATION_UNIT_MS[(m[2] ?? 's') as DurationUnit];
  if (!Number.isSafeInteger(ms)) throw new DurationInvalidError(text);
  return ms;
}

/** Whether `text` is a duration (validation that reports its own message). */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false; // DurationInvalidError: the answer is "no"
  }
}

/**
 * A duration read from data stored before it was validated (policy subjects' `beforeExpiry`): undefined when
 * absent or not a duration. Input that is validated on its way in uses parseDuration.
 */
export function durationOrUndefined(text: string | undefined): number | undefined {
  return text !== undefined && isDuration(text) ? parseDuration(text) : undefined;
}
