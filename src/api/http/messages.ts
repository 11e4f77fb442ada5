/**
 * Live messages over HTTP (ditto-interfaces.md §2.6, §9, §13): `POST …/inbox|outbox/messages/{subject}`
 * of a thing or feature and `POST …/inbox/claim`. The raw body and its content type are kept; the first
 * response of a subscriber becomes the HTTP response (its status, body and content type); no response
 * within `timeout` ⇒ 408; `timeout=0` or `response-required=false` ⇒ 202 at once. Requested
 * acknowledgements other than `live-response` are answered aggregated (200 / 424).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AckRouter } from '../../acks/router.js';
import { routeNotFound } from '../../errors/gateway.js';
import { messagePayloadTooLarge, messageTimeout } from '../../errors/streaming.js';
import { thingIdInvalid } from '../../errors/things.js';
import { MAX_MESSAGE_BYTES, sendMessage } from '../../live/execute.js';
import { sendAcks } from '../../live/http.js';
import type { LiveRouter } from '../../live/router.js';
import { bodyOf, payloadOf } from '../../live/payload.js';
import { isValidNamespacedId } from '../../model/ids.js';
import type { MessageDirection, ThingMessage } from '../../model/signals.js';
import { CLAIM_SUBJECT, withoutInternalHeaders } from '../../protocol/index.js';
import { sendError } from './errors.js';
import { dittoHeadersOf } from './headers.js';
import { parseTimeout } from '../../protocol/index.js';

export interface MessagesRoutesOptions {
  live: LiveRouter;
  acks: AckRouter;
}

// ditto: §13 message payload 250 kB; message timeout default 10 s, max 60 s; claim default 60 s, max 600 s.
const MESSAGE_TIMEOUT = { default: 10_000, max: 60_000 };
const CLAIM_TIMEOUT = { default: 60_000, max: 600_000 };
// Headers of the HTTP request that are not message headers.
const NOT_MESSAGE_HEADERS = [
  'accept',
  'timeout',
  'accept-encoding',
  'user-agent',
  'content-length',
  'connection',
  'host',
];

type Params = { thingId: string; featureId?: string; '*'?: string };

export async function messagesRoutes(app: FastifyInstance, options: MessagesRoutesOptions): Promise<void> {
  const route =
    (direction: MessageDirection, feature: boolean, claim = false) =>
    (request: FastifyRequest, reply: FastifyReply) =>
      send(request, reply, direction, feature, claim, options);
  app.post('/api/2/things/:thingId/inbox/messages/*', route('to', false));
  app.post('/api/2/things/:thingId/outbox/messages/*', route('from', false));
  app.post('/api/2/things/:thingId/features/:featureId/inbox/messages/*', route('to', true));
  app.post('/api/2/things/:thingId/features/:featureId/outbox/messages/*', route('from', true));
  app.post('/api/2/things/:thingId/inbox/claim', route('to', false, true));
}

async function send(
  request: FastifyRequest,
  reply: FastifyReply,
  direction: MessageDirection,
  feature: boolean,
  claim: boolean,
  options: MessagesRoutesOptions,
): Promise<FastifyReply> {
  const params = request.params as Params;
  if (!isValidNamespacedId(params.thingId)) throw thingIdInvalid({ id: params.thingId });
  const subject = claim ? CLAIM_SUBJECT : (params['*'] ?? '').replace(/\/+$/, '');
  if (subject === '') throw routeNotFound({ path: request.url.split('?')[0] });
  const all = dittoHeadersOf(request);
  reply.header('correlation-id', all['correlation-id']);
  const limits = claim ? CLAIM_TIMEOUT : MESSAGE_TIMEOUT;
  const timeoutMs = parseTimeout(all['timeout'], limits.default, limits.max);
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (body.length > MAX_MESSAGE_BYTES)
    throw messagePayloadTooLarge({ size: body.length, max: MAX_MESSAGE_BYTES });

  const headers = withoutInternalHeaders(all);
  for (const name of NOT_MESSAGE_HEADERS) delete headers[name];
  headers['content-type'] ??= body.length === 0 ? 'text/plain' : 'application/octet-stream';
  const message: ThingMessage = { thingId: params.thingId, direction, subject, headers };
  if (feature) message.featureId = params.featureId;
  const payload = payloadOf(body, headers['content-type']);
  if (payload !== undefined) message.payload = payload;

  const result = await sendMessage(options, message, request.auth, timeoutMs);
  if (result.kind === 'none') return reply.code(202).send();
  if (result.kind === 'acks') return sendAcks(reply, result.acks);
  if (result.kind === 'timeout') return sendError(reply, messageTimeout({ timeoutMs }));
  const response = result.response;
  if (response.kind === 'error')
    return reply
      .code(response.signal.error.status)
      .type('application/json')
      .send(JSON.stringify(response.signal.error));
  const status = response.signal.status ?? 200;
  const value = response.kind === 'message' ? response.signal.payload : response.signal.value;
  const contentType = response.signal.headers['content-type'];
  reply.code(status);
  const out = status === 204 ? undefined : bodyOf(value, contentType);
  if (out === undefined) return reply.send();
  if (contentType !== undefined) reply.header('content-type', contentType);
  return reply.send(out);
}
