/**
 * Thing commands over HTTP that need more than the twin routes of src/api/http/things.ts do
 * (ditto-interfaces.md §2.1, §9, §10): `channel=live` (query or header), `live-channel-condition`, and
 * `requested-acks` other than the default `twin-persisted`. A router constraint sends exactly those
 * requests here, so the twin routes stay as they are; everything else about the request (body, media
 * types, `fields`, `timeout`, `response-required`) is read the same way.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Acknowledgements, ThingCommand, ThingCommandAction } from '../model/signals.js';
import { renderHeaders } from '../protocol/index.js';
import { parseFieldSelector } from '../util/field-selector.js';
import { dittoHeadersOf } from '../api/http/headers.js';
import { parseTimeout } from '../protocol/index.js';
import { createdLocation, jsonBody, resourcePathOf, thingIdOf } from '../api/http/thing-request.js';
import { executeCommand, type ExecuteDeps } from './execute.js';

/** The value of the `variant` router constraint for requests handled here. */
export const SIGNAL_VARIANT = 'signal';

/** Whether a request needs the live/acknowledgement path (used by the router constraint). */
export function needsSignalRoute(
  url: string,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  const q = url.indexOf('?');
  // The common case (runs for every request): nothing that could ask for the live/ack path.
  if (
    q < 0 &&
    headers['channel'] === undefined &&
    headers['live-channel-condition'] === undefined &&
    headers['requested-acks'] === undefined
  )
    return false;
  const query = q < 0 ? '' : url.slice(q + 1);
  const param = (name: string): string | undefined => {
    const m = new RegExp(`(?:^|&)${name}=([^&]*)`).exec(query);
    if (m) return decodeURIComponent(m[1]);
    const h = headers[name];
    return typeof h === 'string' ? h : undefined;
  };
  if (param('channel') === 'live' || param('live-channel-condition') !== undefined) return true;
  const acks = param('requested-acks');
  return acks !== undefined && acks.replace(/\s/g, '') !== 'twin-persisted';
}

// ditto: §2.1 command timeout default 60 s, max 60 s.
const COMMAND_TIMEOUT_MS = 60_000;

export async function signalRoutes(app: FastifyInstance, options: { deps: ExecuteDeps }): Promise<void> {
  const constraints = { variant: SIGNAL_VARIANT };
  const run =
    (action: ThingCommandAction, body?: 'json' | 'merge-patch') =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const headers = dittoHeadersOf(request);
      reply.header('correlation-id', headers['correlation-id']);
      const thingId = thingIdOf(request);
      const path = resourcePathOf(request);
      const channel = headers['channel'] === 'live' ? 'live' : 'twin';
      const command: ThingCommand = { thingId, channel, action, path, headers };
      if (body) command.value = jsonBody(request, body);
      const fields = (request.query as Record<string, string | undefined>).fields;
      if (action === 'retrieve' && fields !== undefined) {
        parseFieldSelector(fields);
        command.fields = fields;
      }
      const timeoutMs = parseTimeout(headers['timeout'], COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS);
      const result = await executeCommand(options.deps, command, request.auth, {
        timeoutMs,
        acksWithoutResponse: 'await',
      });
      if (result.kind === 'none') return reply.code(202).send();
      if (result.kind === 'acks') return sendAcks(reply, result.acks);
      const response = result.response;
      for (const name of ['etag', 'channel', 'live-channel-condition-matched']) {
        if (response.headers[name] !== undefined) reply.header(name, response.headers[name]);
      }
      if (channel === 'live' && response.headers['channel'] === undefined) reply.header('channel', 'live');
      if (response.status === 201) reply.header('location', createdLocation(request, response.thingId));
      reply.code(response.status);
      if (response.value === undefined || response.status === 204) return reply.send();
      return reply.type('application/json').send(JSON.stringify(response.value));
    };
  for (const url of ['/api/2/things/:thingId', '/api/2/things/:thingId/*']) {
    app.get(url, { constraints }, run('retrieve'));
    app.put(url, { constraints }, run('modify', 'json'));
    app.patch(url, { constraints }, run('merge', 'merge-patch'));
    app.delete(url, { constraints }, run('delete'));
  }
}

/** ditto: §9 the HTTP body of aggregated acknowledgements: `{ <label>: { status, payload?, headers } }` with their status. */
export function sendAcks(reply: FastifyReply, acks: Acknowledgements): FastifyReply {
  const value: Record<string, unknown> = {};
  for (const ack of acks.acknowledgements)
    value[ack.label] = {
      status: ack.status,
      ...(ack.payload === undefined ? {} : { payload: ack.payload }),
      headers: renderHeaders(ack.headers),
    };
  return reply.code(acks.status).type('application/json').send(JSON.stringify(value));
}
