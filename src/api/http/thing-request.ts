/**
 * Reading a thing request over HTTP, shared by the twin routes (things.ts) and the live/acknowledgement
 * routes (src/live/http.ts): the thing ID, the resource path below it, and the JSON body by media type.
 */
import type { FastifyRequest } from 'fastify';
import { DittoError } from '../../errors/ditto-error.js';
import { mediaTypeUnsupported } from '../../errors/general.js';
import { routeNotFound } from '../../errors/gateway.js';
import { thingIdInvalid } from '../../errors/things.js';
import { isValidNamespacedId } from '../../model/ids.js';
import { thingResourceAt } from '../../model/thing.js';
import { parseJson } from '../../util/json-parse.js';

type Params = { thingId: string; '*'?: string };

export function thingIdOf(request: FastifyRequest): string {
  const { thingId } = request.params as Params;
  if (!isValidNamespacedId(thingId)) throw thingIdInvalid({ id: thingId });
  return thingId;
}

/** The JSON pointer below the thing; a path that addresses no thing resource is an unknown route (404). */
export function resourcePathOf(request: FastifyRequest): string {
  const rest = (request.params as Params)['*'];
  if (rest === undefined) return '/';
  const path = '/' + rest;
  try {
    thingResourceAt(path);
  } catch (err) {
    if (err instanceof DittoError) throw routeNotFound({ path: request.url.split('?')[0] }, { cause: err });
    throw err;
  }
  return path;
}

/**
 * The parsed JSON body of any JSON route. PUT and POST take `application/json` (or a `+json` type); PATCH
 * requires `application/merge-patch+json` (§2.1, else 415 `mediatype.unsupported`). Not JSON, or nested
 * deeper than the limit: 400 `json.invalid` (src/util/json-parse.ts).
 */
export function jsonBody(request: FastifyRequest, kind: 'json' | 'merge-patch'): unknown {
  const contentType = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  const ok =
    kind === 'merge-patch'
      ? contentType === 'application/merge-patch+json'
      : contentType === 'application/json' || contentType.endsWith('+json');
  if (!ok)
    throw mediaTypeUnsupported({
      contentType,
      allowed: [kind === 'merge-patch' ? 'application/merge-patch+json' : 'application/json'],
    });
  const raw = request.body;
  return parseJson(Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '');
}

/** ditto: §2.1 the `Location` of a resource a request created: its URL, or under the collection for POST. */
export function createdLocation(request: FastifyRequest, thingId: string): string {
  const path = request.url.split('?')[0];
  return request.method === 'POST' ? `${path}/${encodeURIComponent(thingId)}` : path;
}
