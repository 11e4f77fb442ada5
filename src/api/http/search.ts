/**
 * Search HTTP API (§2.7): `GET|POST /api/2/search/things` (POST with an
 * `application/x-www-form-urlencoded` body) and `…/count` (a bare integer), plus the unfiltered listing
 * behind `GET /api/2/things` without `ids` (a JSON array, as Ditto answers there).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mediaTypeUnsupported } from '../../errors/general.js';
import type { SearchRequest, SearchService } from '../../search/service.js';
import { dittoHeadersOf } from './headers.js';
import { parseTimeout } from '../../protocol/index.js';

// ditto: §2.7 a search is bounded by the command timeout (60 s max)
const SEARCH_TIMEOUT_MS = 60_000;

type Params = Record<string, string | string[] | undefined>;

export async function searchRoutes(app: FastifyInstance, options: { search: SearchService }): Promise<void> {
  const { search } = options;

  const paramsOf = (request: FastifyRequest): Params => {
    const query = request.query as Params;
    if (request.method !== 'POST') return query;
    const contentType = String(request.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    if (body === '') return query;
    if (contentType !== 'application/x-www-form-urlencoded') {
      throw mediaTypeUnsupported({ contentType, allowed: ['application/x-www-form-urlencoded'] });
    }
    const form = new URLSearchParams(body);
    const params: Params = { ...query };
    for (const key of new Set(form.keys())) {
      const values = form.getAll(key);
      params[key] = values.length === 1 ? values[0] : values;
    }
    return params;
  };

  const requestOf = (request: FastifyRequest, reply: FastifyReply): SearchRequest => {
    const headers = dittoHeadersOf(request);
    reply.header('correlation-id', headers['correlation-id']);
    const params = paramsOf(request);
    const single = (name: string) => {
      const v = params[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    return {
      filter: single('filter'),
      namespaces: single('namespaces'),
      fields: single('fields'),
      option: params.option,
      timeoutMs: parseTimeout(headers['timeout'], SEARCH_TIMEOUT_MS, SEARCH_TIMEOUT_MS),
    };
  };

  const find = async (request: FastifyRequest, reply: FastifyReply) => {
    const page = await search.search(requestOf(request, reply), request.auth);
    return reply.type('application/json').send(JSON.stringify(page));
  };
  const count = async (request: FastifyRequest, reply: FastifyReply) => {
    const n = await search.count(requestOf(request, reply), request.auth);
    return reply.type('application/json').send(String(n));
  };
  app.get('/api/2/search/things', find);
  app.post('/api/2/search/things', find);
  app.get('/api/2/search/things/count', count);
  app.post('/api/2/search/things/count', count);
}

/** GET /api/2/things without ids: the things the caller may read, as a JSON array (§2.5). */
export function listThings(search: SearchService) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Params;
    const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
    const page = await search.search(
      { namespaces: single(query.namespaces), fields: single(query.fields), option: query.option },
      request.auth,
    );
    return reply.type('application/json').send(JSON.stringify(page.items));
  };
}
