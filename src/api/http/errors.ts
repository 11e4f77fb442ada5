/**
 * Every HTTP error leaves as Ditto's error JSON (§2.11), through this one place: DittoErrors as they are,
 * fastify's own errors (body too large, bad content type, malformed URL, overlong parameter, a request the
 * HTTP parser refused) mapped to the Ditto code of the same meaning, unknown routes as 404, and known
 * routes with an unsupported method as 405 with `Allow`. Anything else is a 500 `internalerror`; the client
 * never sees internals. Every 5xx answer is logged here exactly once, with its correlation id and the
 * stack of its cause (route plugins must not set error handlers of their own).
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DittoError } from '../../errors/ditto-error.js';
import {
  headersTooLarge,
  internalError,
  jsonInvalid,
  mediaTypeUnsupported,
  requestInvalid,
  requestTooLarge,
  uriInvalid,
  uriTooLong,
} from '../../errors/general.js';
import { methodNotAllowed, routeNotFound } from '../../errors/gateway.js';
import { policyTooLarge } from '../../errors/policies.js';
import { messagePayloadTooLarge } from '../../errors/streaming.js';
import { thingTooLarge } from '../../errors/things.js';

/** ditto: §2.1 max body 1 MB at the HTTP layer, max URI 8k. */
export const BODY_LIMIT = 1024 * 1024;
export const MAX_URL_LENGTH = 8192;

export function sendError(reply: FastifyReply, error: DittoError): FastifyReply {
  const request = reply.request;
  const given = request.headers['correlation-id'];
  const correlationId =
    typeof given === 'string' && given !== ''
      ? given
      : String(reply.getHeader('correlation-id') ?? randomUUID());
  logFailure(request, error, correlationId);
  if (error.headers) reply.headers(error.headers);
  reply.header('correlation-id', correlationId);
  // A script that sends its own credentials (the console) says so with `X-Requested-With: XMLHttpRequest`
  // and gets no challenge, so the browser never opens its basic-auth prompt (as Spring Security does).
  if (error.status === 401 && reply.request.headers['x-requested-with'] !== 'XMLHttpRequest')
    reply.header('www-authenticate', 'Basic realm="DITTO"');
  // ditto: 304 has no body (internal code things:precondition.notmodified)
  if (error.status === 304) return reply.code(304).send();
  return reply.code(error.status).type('application/json').send(error.toJSON());
}

/**
 * The one log line of a 5xx (called by sendError, and by a stream that fails after its headers went out):
 * the cause's stack when the error wraps one (an internal error), else the error's own. Client errors are
 * not logged.
 */
export function logFailure(
  request: FastifyRequest,
  error: DittoError,
  correlationId = String(request.headers['correlation-id'] ?? ''),
): void {
  if (error.status < 500) return;
  request.log[error.status === 500 ? 'error' : 'warn'](
    {
      err: error.cause ?? error,
      correlationId,
      method: request.method,
      url: request.url,
      status: error.status,
    },
    'request failed',
  );
}

export function toDittoError(err: unknown, request: FastifyRequest): DittoError {
  if (err instanceof DittoError) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return bodyTooLarge(request);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE':
      return mediaTypeUnsupported(
        { contentType: String(request.headers['content-type'] ?? ''), allowed: ['application/json'] },
        { cause: err },
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return jsonInvalid({ detail: fe.message }, { cause: err });
    case 'FST_ERR_BAD_URL':
      return uriInvalid({ uri: request.url }, { cause: err });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return uriTooLong({ length: request.url.length }, { cause: err });
  }
  if (fe.statusCode === 414) return uriTooLong({ length: request.url.length }, { cause: err });
  // Any other error fastify raises for the request itself (a 4xx of its own) is the client's.
  if (
    typeof fe.code === 'string' &&
    fe.code.startsWith('FST_ERR') &&
    typeof fe.statusCode === 'number' &&
    fe.statusCode >= 400 &&
    fe.statusCode < 500
  ) {
    return requestInvalid({ detail: fe.message }, { cause: err });
  }
  return internalError(undefined, { cause: err });
}

/** The 413 of the resource the body was sent to. */
function bodyTooLarge(request: FastifyRequest): DittoError {
  const params = { size: Number(request.headers['content-length'] ?? 0) || BODY_LIMIT + 1, max: BODY_LIMIT };
  const path = request.url.split('?')[0];
  if (path.startsWith('/api/2/policies')) return policyTooLarge(params);
  if (/^\/api\/2\/things\/[^/]+\/(features\/[^/]+\/)?(inbox|outbox)\//.test(path))
    return messagePayloadTooLarge(params);
  if (path.startsWith('/api/2/things')) return thingTooLarge(params);
  return requestTooLarge(params);
}

/** The methods a request could be routed with (fastify answers 404 for a known path with another method). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** ditto: (Pekko's rejection handler) a known path with a wrong method is 405 with `Allow`; else 404. */
function notRouted(app: FastifyInstance, request: FastifyRequest): DittoError {
  const path = request.url.split('?')[0];
  let allowed: string[] = [];
  try {
    allowed = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
  } catch {
    // a path the router cannot look up (e.g. a malformed escape) has no route
  }
  if (allowed.length === 0) return routeNotFound({ path });
  return methodNotAllowed({ method: request.method }, { headers: { allow: allowed.join(', ') } });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    // On the not-found route (no route for the method and path) the route decides, not a body or
    // content-type problem that fastify found first.
    if (request.is404 && !(err instanceof DittoError)) return sendError(reply, notRouted(app, request));
    return sendError(reply, toDittoError(err, request));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, notRouted(app, request)));
}

/** `frameworkErrors` of the fastify options: a malformed URL or an overlong parameter, before routing. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, toDittoError(err, request));
}

/**
 * `clientErrorHandler` of the fastify options: a request the HTTP parser refused (an unknown method, a bad
 * header, headers too large) is answered with Ditto's error JSON, then the socket is closed.
 */
export function clientErrorHandler(
  err: NodeJS.ErrnoException & { rawPacket?: unknown },
  socket: Socket,
): void {
  if (!socket.writable) return void socket.destroy();
  const error =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? headersTooLarge()
      : err.code === 'HPE_URI_TOO_LONG'
        ? uriTooLong({ length: MAX_URL_LENGTH + 1 })
        : requestInvalid({ detail: 'the HTTP request could not be parsed.' });
  const body = JSON.stringify(error.toJSON());
  const reason =
    error.status === 431
      ? 'Request Header Fields Too Large'
      : error.status === 414
        ? 'URI Too Long'
        : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
