// `time:` placeholders in RQL values (ditto-interfaces.md §3.1, §11.5): `time:now`, `time:now_epoch_millis`,
// with an optional offset `+1h` / `-7d` (a unit-less amount means seconds) and an optional truncation `[h]`,
// e.g. `time:now-25m[m]`. Units: ms s m h d w mo y. `now` renders like Java's Instant.toString (no fraction
// when the milliseconds are 0), `now_epoch_millis` as a number (so it compares with numeric attributes).

type Unit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'mo' | 'y';

export interface TimeSpec {
  format: 'iso' | 'millis';
  offset?: { sign: 1 | -1; amount: number; unit: Unit };
  truncate?: Unit;
}

const FIXED_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Largest offset, in ms (about 250,000 years): `now` plus or minus it stays within the range of a date
 * (±8.64e15 ms), so resolving never fails (a larger one is rejected when the filter is parsed).
 */
const MAX_OFFSET_MS = 8e15;
/** Upper bounds of the variable units, for the offset check. */
const LONGEST_MS: Record<'mo' | 'y', number> = { mo: 31 * 86_400_000, y: 366 * 86_400_000 };

const PATTERN =
  /^time:(now_epoch_millis|now)(?:([+-])(\d+)(ms|mo|s|m|h|d|w|y)?)?(?:\[(ms|mo|s|m|h|d|w|y)\])?$/;

/** Parses `time:…`; returns undefined when the name is not a supported time placeholder or its offset is too large. */
export function parseTimePlaceholder(text: string): TimeSpec | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const spec: TimeSpec = { format: m[1] === 'now' ? 'iso' : 'millis' };
  if (m[2] !== undefined) {
    const amount = Number(m[3]);
    const unit = (m[4] ?? 's') as Unit;
    if (
      !Number.isSafeInteger(amount) ||
      amount * (unit === 'mo' || unit === 'y' ? LONGEST_MS[unit] : FIXED_MS[unit]) > MAX_OFFSET_MS
    )
      return undefined;
    spec.offset = { sign: m[2] === '-' ? -1 : 1, amount, unit };
  }
  if (m[5] !== undefined) spec.truncate = m[5] as Unit;
  return spec;
}

function addOffset(date: Date, sign: 1 | -1, amount: number, unit: Unit): Date {
  if (unit === 'mo' || unit === 'y') {
    const d = new Date(date.getTime());
    const months = sign * amount * (unit === 'y' ? 12 : 1);
    d.setUTCMonth(d.getUTCMonth() + months);
    return d;
  }
  return new Date(date.getTime() + sign * amount * FIXED_MS[unit]);
}

function truncate(date: Date, unit: Unit): Date {
  const t = date.getTime();
  switch (unit) {
    case 'ms':
      return date;
    case 's':
    case 'm':
    case 'h':
    case 'd':
      return new Date(t - (((t % FIXED_MS[unit]) + FIXED_MS[unit]) % FIXED_MS[unit]));
    case 'w': {
      // Weeks start on Monday (ISO-8601).
      const day = new Date(t - (((t % FIXED_MS.d) + FIXED_MS.d) % FIXED_MS.d));
      const sinceMonday = (day.getUTCDay() + 6) % 7;
      return new Date(day.getTime() - sinceMonday * FIXED_MS.d);
    }
    case 'mo':
      return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
    case 'y':
      return new Date(Date.UTC(date.getUTCFullYear(), 0, 1));
  }
}

/** Java `Instant.toString()` at millisecond precision: `2021-11-17T09:44:08Z` or `…08.120Z`. */
export function instantString(date: Date): string {
  const iso = date.toISOString();
  return date.getUTCMilliseconds() === 0 ? iso.slice(0, 19) + 'Z' : iso;
}

export function resolveTime(spec: TimeSpec, now: Date): string | number {
  let date = now;
  if (spec.offset) date = addOffset(date, spec.offset.sign, spec.offset.amount, spec.offset.unit);
  if (spec.truncate) date = truncate(date, spec.truncate);
  return spec.format === 'iso' ? instantString(date) : date.getTime();
}
