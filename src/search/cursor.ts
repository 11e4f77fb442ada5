import { createHash } from 'node:crypto';
import { cursorInvalid } from '../errors/search.js';
import type { RqlNode } from './rql/ast.js';
import type { SortField } from './rql/options.js';
import { OBJECT_VALUE, type SortValue } from './sort.js';

// Search cursors (ditto-interfaces.md §2.7): opaque base64url of the sort key of the last item of a page
// plus a hash of filter and sort, so that a cursor reused with another query fails clearly. A next page
// holds the things whose key is strictly after the cursor's, hence inserts between pages never cause
// duplicates or gaps among the things that existed throughout.

/** Hash of what a cursor is bound to (the filter AST and the effective sort including the tie-breaker). */
export function queryHash(filter: RqlNode | undefined, sort: readonly SortField[]): string {
  const canonical = JSON.stringify({ f: filter ?? null, s: sort.map((s) => [s.property, s.direction]) });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodeCursor(hash: string, key: readonly SortValue[]): string {
  const values = key.map((v) => (v === OBJECT_VALUE ? { o: 1 } : v));
  return Buffer.from(JSON.stringify([hash, values]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, hash: string, keyLength: number): SortValue[] {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw cursorInvalid('it could not be decoded', { cause });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    !Array.isArray(parsed[1])
  ) {
    throw cursorInvalid('it could not be decoded');
  }
  const [cursorHash, values] = parsed as [string, unknown[]];
  if (cursorHash !== hash || values.length !== keyLength) {
    throw cursorInvalid(
      'it belongs to another filter or sort; repeat the filter and sort of the first request',
    );
  }
  return values.map((v) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'object' && !Array.isArray(v)) return OBJECT_VALUE;
    throw cursorInvalid('it could not be decoded');
  });
}
