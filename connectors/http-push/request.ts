/**
 * HTTP push addresses and requests (ditto-interfaces.md §11.6): a target address is `VERB:/path?query`
 * (GET|POST|PUT|PATCH|DELETE); the path is appended to the connection URI's path. The outbound headers
 * `http.path` and `http.query` replace the path and the query; every other header is a request header.
 */
import { VERBS, type Verb } from './config.js';

export const PATH_HEADER = 'http.path';
export const QUERY_HEADER = 'http.query';

export interface PushRequest {
  method: Verb;
  /** Path and query relative to the host, e.g. `/base/things/x?a=1`. */
  path: string;
  headers: Record<string, string>;
}

/** Splits `VERB:/path?query`; undefined when the verb is not supported. */
export function parseAddress(address: string): { method: Verb; path: string; query: string } | undefined {
  const colon = address.indexOf(':');
  if (colon < 0) return undefined;
  const method = address.slice(0, colon).toUpperCase() as Verb;
  if (!VERBS.includes(method)) return undefined;
  const rest = address.slice(colon + 1);
  const q = rest.indexOf('?');
  return { method, path: q < 0 ? rest : rest.slice(0, q), query: q < 0 ? '' : rest.slice(q + 1) };
}

/** Joins the URI's base path and a target path with exactly one `/` between them. */
function joinPath(base: string, path: string): string {
  const left = base.endsWith('/') ? base.slice(0, -1) : base;
  if (path === '') return left === '' ? '/' : left;
  return `${left}${path.startsWith('/') ? '' : '/'}${path}`;
}

export function buildRequest(
  basePath: string,
  address: string,
  headers: Record<string, string>,
): PushRequest | undefined {
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k !== PATH_HEADER && k !== QUERY_HEADER) out[k] = v;
  const path = headers[PATH_HEADER] ?? parsed.path;
  const query = (headers[QUERY_HEADER] ?? parsed.query).replace(/^\?/, '');
  return {
    method: parsed.method,
    path: `${joinPath(basePath, path)}${query ? `?${query}` : ''}`,
    headers: out,
  };
}
