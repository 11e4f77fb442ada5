/**
 * Every HTTP error leaves as Ditto's error JSON (§2.11): DittoErrors as they are, fastify's own errors
 * (body too large, bad content type, malformed URL) mapped to the Ditto code of the same meaning, unknown
 * routes as 404 and known routes with an unsupported method as 405. Anything else is a 500 `internalerror`
 * and is logged with its stack; the client never sees internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DittoError } from '../../errors/ditto-error.js';
import { internalError, jsonInvalid, mediaTypeUnsupported, uriTooLong } from '../../errors/general.js';
import { methodNotAllowed, routeNotFound } from '../../errors/gateway.js';
import { thingTooLarge } from '../../errors/things.js';

export function sendError(reply: FastifyReply, error: DittoError): FastifyReply {
  const correlationId = reply.request.headers['correlation-id'];
  if (error.headers) reply.headers(error.headers);
  if (typeof correlationId === 'string') reply.header('correlation-id', correlationId);
  // A script that sends its own credentials (the console) says so with `X-Requested-With: XMLHttpRequest`
  // and gets no challenge, so the browser never opens its basic-auth prompt (as Spring Security does).
  if (error.status === 401 && reply.request.headers['x-requested-with'] !== 'XMLHttpRequest') reply.header('www-authenticate', 'Basic realm="DITTO"');
  // ditto: 304 has no body (internal code things:precondition.notmodified)
  if (error.status === 304) return reply.code(304).send();
  return reply.code(error.status).type('application/json').send(error.toJSON());
}

export function toDittoError(err: unknown, request: FastifyRequest): DittoError {
  if (err instanceof DittoError) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return thingTooLarge({ size: Number(request.headers['content-length'] ?? 0), max: fe.statusCode === 413 ? 1024 * 1024 : 0 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return mediaTypeUnsupported({ contentType: String(request.headers['content-type'] ?? ''), allowed: ['application/json'] });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return jsonInvalid({ detail: fe.message });
    case 'FST_ERR_BAD_URL':
      return routeNotFound({ path: request.url });
  }
  if (fe.statusCode === 414) return uriTooLong({ length: request.url.length });
  return internalError(undefined, { cause: err });
}

/** Path prefixes with routes, so a wrong method on them is 405 rather than 404. */
const routed = [/^\/api\/2\/things(\/|$)/, /^\/api\/2\/policies\//, /^\/api\/2\/search\/things/, /^\/api\/2\/connections(\/|$)/];

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const error = toDittoError(err, request);
    if (error.status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, error);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const error = routed.some((r) => r.test(path)) ? methodNotAllowed({ method: request.method }) : routeNotFound({ path });
    return sendError(reply, error);
  });
}
