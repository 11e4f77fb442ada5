/**
 * Where each kept revision of each entity lies in the journal files (the journal is the history): per
 * entity a dense array of locations, one number per revision, so a write adds one array element and a
 * read finds its line with one array access. A location packs the file (its ordinal among the journal
 * files) and the byte offset of the line: `ordinal * 2^32 + offset`; NaN marks a revision not kept.
 */
import type { EntityKind } from '../port.js';

const FILE_SPAN = 2 ** 32;

export function packLocation(ordinal: number, offset: number): number {
  return ordinal * FILE_SPAN + offset;
}

export function unpackLocation(location: number): { ordinal: number; offset: number } {
  const ordinal = Math.floor(location / FILE_SPAN);
  return { ordinal, offset: location - ordinal * FILE_SPAN };
}

/** Revisions `first … first + locations.length - 1` of one entity. */
interface Revisions {
  first: number;
  locations: number[];
}

/** A gap of more revisions than this between two kept ones starts the entity's index over. */
const MAX_GAP = 1024;

export class HistoryIndex {
  private readonly byKind: Record<EntityKind, Map<string, Revisions>> = {
    thing: new Map(),
    policy: new Map(),
    connection: new Map(),
  };

  /** Notes where `revision` lies (a later note of the same revision replaces the location). */
  note(kind: EntityKind, id: string, revision: number, location: number): void {
    const map = this.byKind[kind];
    const r = map.get(id);
    if (r === undefined) {
      map.set(id, { first: revision, locations: [location] });
      return;
    }
    const i = revision - r.first;
    const length = r.locations.length;
    if (i === length) r.locations.push(location);
    else if (i >= 0 && i < length) r.locations[i] = location;
    else if (i > length && i - length <= MAX_GAP) {
      while (r.locations.length < i) r.locations.push(Number.NaN);
      r.locations.push(location);
    } else {
      r.first = revision;
      r.locations = [location];
    }
  }

  /** The location of `revision`, or undefined when it is not kept. */
  locationOf(kind: EntityKind, id: string, revision: number): number | undefined {
    const r = this.byKind[kind].get(id);
    if (r === undefined) return undefined;
    const location = r.locations[revision - r.first];
    return location === undefined || Number.isNaN(location) ? undefined : location;
  }

  /** The first and last revision indexed for the entity (some in between may not be kept). */
  span(kind: EntityKind, id: string): { first: number; last: number } | undefined {
    const r = this.byKind[kind].get(id);
    return r === undefined ? undefined : { first: r.first, last: r.first + r.locations.length - 1 };
  }

  /** Moves a kept revision's location (its line was rewritten elsewhere); a revision not kept stays so. */
  relocate(kind: EntityKind, id: string, revision: number, location: number): void {
    const r = this.byKind[kind].get(id);
    const i = r === undefined ? -1 : revision - r.first;
    if (r !== undefined && i >= 0 && i < r.locations.length && !Number.isNaN(r.locations[i]))
      r.locations[i] = location;
  }

  /** Forgets `revision`; the entity's first indexed revision moves past revisions no longer kept. */
  drop(kind: EntityKind, id: string, revision: number): void {
    const map = this.byKind[kind];
    const r = map.get(id);
    if (r === undefined) return;
    const i = revision - r.first;
    if (i < 0 || i >= r.locations.length) return;
    r.locations[i] = Number.NaN;
    let lead = 0;
    while (lead < r.locations.length && Number.isNaN(r.locations[lead])) lead++;
    if (lead === r.locations.length) map.delete(id);
    else if (lead > 0) {
      r.locations.splice(0, lead);
      r.first += lead;
    }
  }
}

/** The record heads of a journal line: what the index needs without parsing the values. */
export interface LineHead {
  seq: number;
  changes: Array<{ kind: EntityKind; id: string; revision: number; modified: string }>;
}

const KINDS: ReadonlySet<string> = new Set(['thing', 'policy', 'connection']);

/**
 * Reads the heads of a line written by the journal (`{"s":N,"n":1,"c":[{"r":{"kind":…,"id":…,"revision":…,
 * "created":…,"modified":…` — the fixed order in which it writes them) without parsing the record's value.
 * Returns undefined for any other shape (several changes in one line, lines of an older format): the caller
 * then parses the whole line. Only the first change is read, so a value can never be mistaken for a head.
 */
export function readLineHead(json: string): LineHead | undefined {
  let at = 0;
  const literal = (text: string): boolean => {
    if (!json.startsWith(text, at)) return false;
    at += text.length;
    return true;
  };
  const integer = (): number | undefined => {
    const start = at;
    while (at < json.length && json.charCodeAt(at) >= 48 && json.charCodeAt(at) <= 57) at++;
    return at > start && at - start < 16 ? Number(json.slice(start, at)) : undefined;
  };
  const string = (): string | undefined => {
    if (json.charCodeAt(at) !== 0x22) return undefined;
    const start = at;
    let escaped = false;
    for (at++; at < json.length; at++) {
      const c = json.charCodeAt(at);
      if (c === 0x5c) {
        escaped = true;
        at++;
      } else if (c === 0x22) {
        at++;
        return escaped ? (JSON.parse(json.slice(start, at)) as string) : json.slice(start + 1, at - 1);
      }
    }
    return undefined;
  };
  if (!literal('{"s":')) return undefined;
  const seq = integer();
  if (seq === undefined || !literal(',"n":1,"c":[{"r":{"kind":')) return undefined;
  const kind = string();
  if (kind === undefined || !KINDS.has(kind) || !literal(',"id":')) return undefined;
  const id = string();
  if (id === undefined || !literal(',"revision":')) return undefined;
  const revision = integer();
  if (revision === undefined || !literal(',"created":') || string() === undefined || !literal(',"modified":'))
    return undefined;
  const modified = string();
  if (modified === undefined) return undefined;
  return { seq, changes: [{ kind: kind as EntityKind, id, revision, modified }] };
}
