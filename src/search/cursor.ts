import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { cursorInvalid } from '../errors/search.js';
import type { RqlNode } from './rql/ast.js';
import type { SortField } from './rql/options.js';
import { OBJECT_VALUE, type SortValue } from './sort.js';

// Search cursors (ditto-interfaces.md §2.7): the sort key of the last item of a page (computed on the
// caller's view, so it holds nothing the caller could not read) and a hash of what the cursor is bound
// to (filter, effective sort, caller), sealed with AES-256-GCM: opaque to clients, and any change to it,
// or a cursor sealed with another key, fails authentication and is rejected like a malformed one.
// A next page holds the things whose key is strictly after the cursor's, hence inserts between pages
// never cause duplicates or gaps among the things that existed throughout.

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from('twinbridge search cursor v1');

/** Hash of what a cursor is bound to: the filter AST, the effective sort (with the tie-breaker) and a caller scope. */
export function queryHash(filter: RqlNode | undefined, sort: readonly SortField[], scope = ''): string {
  const canonical = JSON.stringify({
    f: filter ?? null,
    s: sort.map((s) => [s.property, s.direction]),
    c: scope,
  });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** Seals and opens cursors with one 256-bit key (shared by every instance of a store, see Store.sharedKey). */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`a cursor key has 32 bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** A codec with a random key (cursors die with the process): for indexes outside the service. */
  static ephemeral(): CursorCodec {
    return new CursorCodec(randomBytes(32));
  }

  encode(hash: string, key: readonly SortValue[]): string {
    const values = key.map((v) => (v === OBJECT_VALUE ? { o: 1 } : v));
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([cipher.update(JSON.stringify([hash, values]), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The sort key of a cursor issued for `hash`; throws `thing-search:search.option.invalid` otherwise. */
  decode(cursor: string, hash: string, keyLength: number): SortValue[] {
    const parsed = this.open(cursor);
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

  private open(cursor: string): unknown {
    const raw = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url') : undefined;
    if (raw === undefined || raw.length <= 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION)
      throw cursorInvalid('it could not be decoded');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([
        decipher.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
      return JSON.parse(text);
    } catch (cause) {
      // A changed byte, a cursor of another key: no explanation beyond "invalid" (as Ditto).
      throw cursorInvalid('it could not be decoded', { cause });
    }
  }
}
