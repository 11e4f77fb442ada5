/**
 * Connection management over HTTP (§2.9): `/api/2/connections` and its sub-resources, devops users only
 * (`realm: 'devops'`). The manager (src/connectivity) does the work; this plugin translates HTTP.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setOriginator } from '../../auth/context.js';
import type { ConnectionManager } from '../../connectivity/index.js';
import type { DittoHeaders } from '../../model/signals.js';
import { fieldSelectorInvalid, mediaTypeUnsupported } from '../../errors/general.js';
import { applyFieldSelector, parseFieldSelector } from '../../util/field-selector.js';
import { dittoHeadersOf } from './headers.js';
import { jsonBody } from './thing-request.js';

export interface ConnectionsRoutesOptions {
  connections: ConnectionManager;
}

const devops = { config: { realm: 'devops' as const } };
type Params = { id: string };

/** The request's Ditto headers with its `ditto-originator` (kept with a change when history is told to). */
function headersOf(request: FastifyRequest): DittoHeaders {
  const headers = dittoHeadersOf(request);
  setOriginator(headers, request.auth);
  return headers;
}

export async function connectionsRoutes(
  app: FastifyInstance,
  options: ConnectionsRoutesOptions,
): Promise<void> {
  const { connections } = options;
  const base = '/api/2/connections';

  app.get(base, devops, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const all = connections.list();
    if (query['ids-only'] === 'true') return all.map((c) => c.id);
    if (query.fields !== undefined) {
      try {
        parseFieldSelector(query.fields);
      } catch (err) {
        throw fieldSelectorInvalid({ selector: query.fields }, { cause: err });
      }
      return all.map((c) => applyFieldSelector(c, query.fields!));
    }
    return all;
  });

  app.post(base, devops, async (request, reply) => {
    const body = jsonBody(request, 'json');
    const query = request.query as Record<string, string | undefined>;
    if (query['dry-run'] === 'true') {
      await connections.test(body);
      return reply.code(200).send();
    }
    const created = await connections.create(body, undefined, headersOf(request));
    return reply.code(201).header('location', `${base}/${created.id}`).send(created);
  });

  app.get(`${base}/:id`, devops, async (request, reply) => {
    const { id } = request.params as Params;
    const query = request.query as Record<string, string | undefined>;
    const { connection, historicalHeaders } = await connections.retrieve(id, dittoHeadersOf(request));
    if (historicalHeaders !== undefined) reply.header('historical-headers', historicalHeaders);
    return query.fields !== undefined ? applyFieldSelector(connection, query.fields) : connection;
  });

  app.put(`${base}/:id`, devops, async (request, reply) => {
    const { id } = request.params as Params;
    await connections.modify(id, jsonBody(request, 'json'), headersOf(request));
    return reply.code(204).send();
  });

  app.delete(`${base}/:id`, devops, async (request, reply) => {
    const { id } = request.params as Params;
    await connections.delete(id, headersOf(request));
    return reply.code(204).send();
  });

  app.post(`${base}/:id/command`, devops, async (request, reply) => {
    const { id } = request.params as Params;
    const contentType = String(request.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (contentType !== 'text/plain') throw mediaTypeUnsupported({ contentType, allowed: ['text/plain'] });
    const raw = request.body;
    await connections.command(
      id,
      Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw ?? ''),
      headersOf(request),
    );
    return reply.code(200).send();
  });

  app.get(`${base}/:id/status`, devops, async (request) => connections.status((request.params as Params).id));
  app.get(`${base}/:id/metrics`, devops, async (request) =>
    connections.metrics((request.params as Params).id),
  );
  app.get(`${base}/:id/logs`, devops, async (request) => connections.logs((request.params as Params).id));
}
