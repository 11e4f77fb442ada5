/**
 * Ditto headers of an HTTP request (§2.1): the request headers (lower-case), overridden by the query
 * parameters Ditto accepts as headers; `correlation-id` generated when absent (`timeout`: parseTimeout).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { DittoHeaders } from '../../model/signals.js';
import { ORIGIN_HEADER } from '../../protocol/index.js';

// ditto: gateway.conf query-params-as-headers
const QUERY_HEADERS = [
  'accept',
  'channel',
  'correlation-id',
  'requested-acks',
  'declared-acks',
  'response-required',
  'timeout',
  'live-channel-timeout-strategy',
  'allow-policy-lockout',
  'condition',
  'live-channel-condition',
  'at-historical-revision',
  'at-historical-timestamp',
  'dry-run',
];
// Transport headers that are not Ditto headers, and Ditto's internal `ditto-origin`.
const IGNORED = new Set([
  'authorization',
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'cookie',
  'x-ditto-pre-authenticated',
  ORIGIN_HEADER,
]);

export function dittoHeadersOf(request: FastifyRequest): DittoHeaders {
  const headers: DittoHeaders = {};
  for (const name in request.headers) {
    const value = request.headers[name];
    if (IGNORED.has(name) || value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = request.query as Record<string, string | string[] | undefined>;
  for (const name of QUERY_HEADERS) {
    const value = query[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  if (!headers['correlation-id']) headers['correlation-id'] = randomUUID();
  return headers;
}
