/**
 * ditto: §2.2 conditional requests, for things and policies alike: If-Match / If-None-Match evaluated against
 * the resource's current ETag (src/util/etag.ts), and the `if-equal` option of writes. Each entity passes its
 * own error codes (`things:precondition.failed`, `policies:precondition.failed`, …).
 */
import type { DittoError, DittoErrorOptions, ErrorFactory } from '../errors/ditto-error.js';
import { headerInvalid } from '../errors/general.js';

export interface PreconditionErrors {
  /** 412 */
  preconditionFailed: ErrorFactory<{ header: string; value: string }>;
  /** 304 */
  preconditionNotModified: ErrorFactory<{ header: string; value: string }>;
}

type Headers = Readonly<Record<string, string | undefined>>;

/** Whether the request has If-Match or If-None-Match: a caller whose ETag is costly (a hash) computes it only then. */
export function asksPreconditions(headers: Headers): boolean {
  return headers['if-match'] !== undefined || headers['if-none-match'] !== undefined;
}

/**
 * Throws unless If-Match and If-None-Match hold for `etag`, the resource's current ETag (undefined: the resource
 * does not exist). A failing If-None-Match is 304 on a read, 412 on a write; the error carries the current ETag.
 */
export function checkPreconditions(
  headers: Headers,
  etag: string | undefined,
  isRead: boolean,
  errors: PreconditionErrors,
): void {
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  if (ifMatch === undefined && ifNoneMatch === undefined) return;
  const options: DittoErrorOptions = { headers: etag ? { etag } : {} };
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, etag))
    throw errors.preconditionFailed({ header: 'if-match', value: ifMatch }, options);
  if (ifNoneMatch !== undefined && !ifNoneMatchHolds(ifNoneMatch, etag)) {
    const failed = isRead ? errors.preconditionNotModified : errors.preconditionFailed;
    throw failed({ header: 'if-none-match', value: ifNoneMatch }, options);
  }
}

/** Splits a header value like `"rev:1", "rev:2"` or `*` into its tags (weak prefixes dropped). */
function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .filter((t) => t.length > 0);
}

/** If-Match holds when the resource exists and (`*` or) one tag equals the current one. */
function ifMatchHolds(header: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  const tags = tagsOf(header);
  return tags.includes('*') || tags.includes(current);
}

/** If-None-Match holds when the resource is missing, or (not `*` and) no tag equals the current one. */
function ifNoneMatchHolds(header: string, current: string | undefined): boolean {
  if (current === undefined) return true;
  const tags = tagsOf(header);
  return !tags.includes('*') && !tags.includes(current);
}

const IF_EQUAL = ['update', 'skip', 'skip-minimizing-merge'] as const;
export type IfEqual = (typeof IF_EQUAL)[number];

/** ditto: §2.2 `if-equal` (default `update`); anything else is 400 `header.invalid`. */
export function ifEqualOf(headers: Headers): IfEqual {
  const value = headers['if-equal'];
  if (value === undefined) return 'update';
  const option = IF_EQUAL.find((o) => o === value.trim().toLowerCase());
  if (!option)
    throw headerInvalid({ name: 'if-equal', detail: `'${value}' is not one of ${IF_EQUAL.join(', ')}.` });
  return option;
}

/** ditto: §2.2 a write that `if-equal` asks to skip because it would change nothing: 412, no revision, no event. */
export function skippedAsEqual(option: IfEqual, errors: PreconditionErrors): DittoError {
  return errors.preconditionFailed({ header: 'if-equal', value: option }, { description: IF_EQUAL_SKIPPED });
}

const IF_EQUAL_SKIPPED =
  "The new value equals the current one and 'if-equal' asks to skip such writes: nothing was changed, which is probably what you wanted.";
