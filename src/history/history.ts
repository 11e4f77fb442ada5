/**
 * History of things, policies and connections (ditto: basic-history, 3.2+): what a historical read or stream
 * asks for, how it is answered from the store's history, and which headers a change keeps. The store keeps
 * the revisions (store/port.ts `historyAt`, `history`); this module applies Ditto's rules on top:
 *
 * - `at-historical-revision` beyond the current revision, `at-historical-timestamp` in the future, and a
 *   revision or instant the history no longer holds (past retention) or never held are 404
 *   `<group>:<entity>.history.notfound`; a malformed value is 400 `header.invalid`.
 * - An instant means the latest revision modified strictly before it (Ditto takes the events "before" it).
 * - Retention is applied when reading too, so an answer does not depend on when compaction last ran; the
 *   current revision is the entity's state and always answers.
 */
import { headerInvalid } from '../errors/general.js';
import type { DittoError } from '../errors/ditto-error.js';
import type { DittoHeaders } from '../model/signals.js';
import { parseInstant } from '../protocol/streaming.js';
import { instantString } from '../search/rql/time.js';
import {
  retentionCutoff,
  type EntityKind,
  type EntityRecord,
  type HistoryEntry,
  type HistoryRange,
  type HistoryRetention,
  type Store,
} from '../store/port.js';

export interface History {
  store: Store;
  retention: HistoryRetention;
  /** Request headers (lower-case) kept with each change: ditto `historical-headers-to-persist`. */
  headersToPersist: readonly string[];
  /** Epoch milliseconds. */
  now(): number;
}

/** History over `store` that keeps everything and no headers (the default of the services' options). */
export function historyOf(store: Store, options: Partial<Omit<History, 'store'>> = {}): History {
  return {
    store,
    retention: options.retention ?? {},
    headersToPersist: options.headersToPersist ?? [],
    now: options.now ?? Date.now,
  };
}

/** The headers of a request a change keeps, or undefined when none is configured or present (the usual case). */
export function persistedHeaders(
  history: History,
  headers: DittoHeaders,
): Record<string, string> | undefined {
  if (history.headersToPersist.length === 0) return undefined;
  let kept: Record<string, string> | undefined;
  for (const name of history.headersToPersist) {
    const value = headers[name];
    if (value !== undefined) (kept ??= {})[name] = value;
  }
  return kept;
}

/** `historical-headers` of an answer: the JSON object of the headers its revision kept (`{}` when none). */
export function historicalHeadersOf(entry: HistoryEntry): string {
  return JSON.stringify(entry.headers ?? {});
}

export interface HistoricalPoint {
  revision?: number;
  /** Epoch milliseconds. */
  timestamp?: number;
}

/** What `at-historical-revision` / `at-historical-timestamp` ask for, or undefined for a current read. Throws `header.invalid`. */
export function historicalPointOf(headers: DittoHeaders): HistoricalPoint | undefined {
  const revision = headers['at-historical-revision'];
  const timestamp = headers['at-historical-timestamp'];
  if (revision === undefined && timestamp === undefined) return undefined;
  const point: HistoricalPoint = {};
  if (revision !== undefined) {
    // ditto: DittoHeaderDefinition AT_HISTORICAL_REVISION is a long.
    const n = /^\s*-?\d{1,16}\s*$/.test(revision) ? Number(revision) : NaN;
    if (!Number.isSafeInteger(n))
      throw headerInvalid({
        name: 'at-historical-revision',
        detail: `'${revision}' is not a revision number.`,
      });
    point.revision = n;
  }
  if (timestamp !== undefined) {
    const ms = parseInstant(timestamp);
    if (ms === undefined)
      throw headerInvalid({
        name: 'at-historical-timestamp',
        detail: `'${timestamp}' is not an ISO-8601 date-time such as 2026-01-01T12:00:00Z.`,
      });
    point.timestamp = ms;
  }
  return point;
}

/** `revision '<n>'` or `timestamp '<instant>'` for the history-not-found messages (as Ditto words them). */
function describe(point: HistoricalPoint): string {
  return point.revision !== undefined
    ? `revision '${point.revision}'`
    : `timestamp '${instantString(new Date(point.timestamp!))}'`;
}

/** Whether a kept revision is within retention as of now (the current revision always is). */
export function withinRetention(history: History, entry: HistoryEntry, currentRevision: number): boolean {
  if (entry.record.revision === currentRevision) return true;
  const cutoff = retentionCutoff(history.retention, entry.record.kind, entry.record.id, history.now());
  return cutoff === undefined || !(Date.parse(entry.record.modified) < cutoff);
}

/**
 * The entity `current` (its current record) at `point`; throws `notFound` (with Ditto's wording of the
 * point) when the history does not hold it. The entry's record may be a deletion (value null).
 */
export async function entityAt(
  history: History,
  kind: EntityKind,
  current: EntityRecord,
  point: HistoricalPoint,
  notFound: (at: string) => DittoError,
): Promise<HistoryEntry> {
  const fail = () => notFound(describe(point));
  if (point.revision !== undefined && (point.revision < 1 || point.revision > current.revision)) throw fail();
  if (point.timestamp !== undefined && point.timestamp > history.now()) throw fail();
  let entry = await history.store.historyAt(kind, current.id, {
    revision: point.revision,
    before: point.timestamp,
  });
  if (entry !== undefined && point.timestamp === undefined && entry.record.revision !== point.revision)
    entry = undefined;
  // The current revision is the entity's state even where the store kept no line of it (rows written
  // before the store kept history).
  if (
    entry === undefined &&
    (point.revision ?? current.revision) === current.revision &&
    (point.timestamp === undefined || Date.parse(current.modified) < point.timestamp)
  ) {
    entry = { seq: 0, record: current };
  }
  if (entry === undefined || !withinRetention(history, entry, current.revision)) throw fail();
  return entry;
}

/** A stream's bounds as a client gives them: revisions may be relative to the current one. */
export interface HistoryRequest {
  /** Negative: the last n revisions (-1 is the current one). Default: the earliest kept. */
  fromRevision?: number;
  /** 0 or negative: relative to the current revision (0 is the current one). Default: the current one. */
  toRevision?: number;
  /** Epoch ms: revisions modified strictly after it. */
  fromTimestamp?: number;
  /** Epoch ms: up to the first revision modified at or after it. */
  toTimestamp?: number;
  /** Only revisions after this one (a client resuming after the last event it got). */
  afterRevision?: number;
}

/** ditto: MongoReadJournal.currentEventsByPersistenceId — relative revisions resolved against the current one. */
export function rangeOf(request: HistoryRequest, currentRevision: number): HistoryRange {
  const from = request.fromRevision ?? 0;
  const to = request.toRevision ?? Number.MAX_SAFE_INTEGER;
  const range: HistoryRange = {
    fromRevision: Math.max(from < 0 ? currentRevision + from + 1 : from, (request.afterRevision ?? -1) + 1),
    toRevision: to <= 0 ? currentRevision + to : to,
  };
  if (request.fromTimestamp !== undefined) range.after = request.fromTimestamp;
  if (request.toTimestamp !== undefined) range.before = request.toTimestamp;
  return range;
}

/** The kept revisions of `current` within `request` and retention, in revision order. */
export async function* entriesOf(
  history: History,
  kind: EntityKind,
  current: EntityRecord,
  request: HistoryRequest,
): AsyncIterable<HistoryEntry> {
  for await (const entry of history.store.history(kind, current.id, rangeOf(request, current.revision))) {
    if (withinRetention(history, entry, current.revision)) yield entry;
  }
}
