/**
 * The `time:` placeholder (ditto-interfaces.md §11.5; ditto: ImmutableTimePlaceholder, DittoDuration):
 * `now` (ISO-8601 UTC as Java's Instant.toString: no fraction when the milliseconds are 0) and
 * `now_epoch_millis`, each with an optional offset `+1h` / `-7d` (a bare number means seconds) and an optional
 * truncation `[h]`, combined as `now-25m[m]` (offset first, then truncation). Units: those of Ditto's durations
 * (src/util/duration.ts).
 * As in Ditto, offsets in months and years are average durations (30.436875 and 365.2425 days); truncation
 * to w / mo / y goes to Monday 00:00 / the 1st of the month / January 1st (in UTC).
 */
import { DURATION_UNIT_MS, type DurationUnit } from '../util/duration.js';
import type { PlaceholderResolver } from './types.js';

export const TIME_UNITS = Object.keys(DURATION_UNIT_MS) as DurationUnit[];
export type TimeUnit = DurationUnit;

export interface TimeSpec {
  readonly format: 'iso' | 'millis';
  /** Signed offset in milliseconds. */
  readonly offsetMs: number;
  readonly truncate: TimeUnit | undefined;
}

const DAY = DURATION_UNIT_MS.d;
const UNIT_MS: Readonly<Record<TimeUnit, number>> = DURATION_UNIT_MS;

const NAME = /^(now_epoch_millis|now)(?:([+-])(\d+)(ms|mo|s|m|h|d|w|y)?)?(?:\[(ms|mo|s|m|h|d|w|y)\])?$/;

/** Parses the name of a time placeholder (`now-25m[m]`); undefined when not supported. */
export function parseTimeName(name: string): TimeSpec | undefined {
  const m = NAME.exec(name);
  if (m === null) return undefined;
  let offsetMs = 0;
  if (m[2] !== undefined) {
    offsetMs = Number(m[3]) * UNIT_MS[(m[4] ?? 's') as TimeUnit] * (m[2] === '-' ? -1 : 1);
    if (!Number.isSafeInteger(offsetMs)) return undefined;
  }
  return { format: m[1] === 'now' ? 'iso' : 'millis', offsetMs, truncate: m[5] as TimeUnit | undefined };
}

export function truncateMillis(t: number, unit: TimeUnit): number {
  switch (unit) {
    case 'w': {
      const day = t - (((t % DAY) + DAY) % DAY);
      const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
      return day - sinceMonday * DAY;
    }
    case 'mo': {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    case 'y':
      return Date.UTC(new Date(t).getUTCFullYear(), 0, 1);
    default: {
      const size = UNIT_MS[unit];
      return t - (((t % size) + size) % size);
    }
  }
}

/** ISO-8601 like Java's Instant.toString: `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.120Z`. */
export function formatInstant(millis: number): string {
  const iso = new Date(millis).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

export function evaluateTime(spec: TimeSpec, nowMillis: number): string {
  let t = nowMillis + spec.offsetMs;
  if (spec.truncate !== undefined) t = truncateMillis(t, spec.truncate);
  return spec.format === 'iso' ? formatInstant(t) : String(t);
}

const specCache = new Map<string, TimeSpec | undefined>();

/** The resolver for the `time` prefix. `now` is injectable for tests; names are parsed once and cached. */
export function timeResolver(now: () => number = Date.now): PlaceholderResolver {
  return (name) => {
    let spec = specCache.get(name);
    if (spec === undefined && !specCache.has(name)) {
      spec = parseTimeName(name);
      if (specCache.size > 1000) specCache.clear();
      specCache.set(name, spec);
    }
    return spec === undefined ? undefined : evaluateTime(spec, now());
  };
}
