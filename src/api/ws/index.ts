/**
 * `GET /ws/2` (ditto-interfaces.md §5): the WebSocket binding of the Ditto Protocol. The upgrade request
 * goes through fastify's request lifecycle (via @fastify/websocket), so the root authentication hook
 * (`authenticate(request, 'api', …)`: basic, pre-authenticated, Bearer / `access_token`) runs before the
 * upgrade and a failure is an HTTP 401 with Ditto's error JSON.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { subjectsKeyOf, type AuthContext } from '../../auth/context.js';
import { isDittoError } from '../../errors/ditto-error.js';
import { websocketSessionClosed } from '../../errors/streaming.js';
import {
  checkIssuedLabel,
  errorToProtocol,
  headerList,
  stringifyProtocolMessage,
} from '../../protocol/index.js';
import type { Services } from '../../services.js';
import { SubjectLimit } from '../subject-limit.js';
import { WsSearch } from './search.js';
import { WsSession } from './session.js';
import type { WsDeps } from './signals.js';
import { wsStreaming } from './streaming.js';
import type { StreamingSubscriptions } from '../../history/subscriptions.js';
import type { WebSocket } from 'ws';

export interface WebSocketRoutesOptions {
  services: Pick<
    Services,
    | 'things'
    | 'registry'
    | 'live'
    | 'acks'
    | 'search'
    | 'logger'
    | 'jwt'
    | 'config'
    | 'policyService'
    | 'historyEvents'
  >;
}

// ditto: §2.1 max body 1 MB; a protocol message is at most a thing (100 kB) plus envelope.
const MAX_FRAME_BYTES = 1024 * 1024;

export async function websocketRoutes(app: FastifyInstance, options: WebSocketRoutesOptions): Promise<void> {
  const { services } = options;
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false } });
  const searches = new WeakMap<WsSession, WsSearch>();
  const perUser = new SubjectLimit(services.config.wsMaxSessionsPerSubject ?? 100, 'WebSocket sessions');
  const releases = new WeakMap<WsSession, () => void>();
  const maxSearches = services.config.wsMaxSearchSubscriptions ?? 32;
  const sockets = new WeakMap<WsSession, WebSocket>();
  const streamings = new WeakMap<WsSession, StreamingSubscriptions>();
  const deps: WsDeps = {
    things: services.things,
    registry: services.registry,
    live: services.live,
    acks: services.acks,
    search: services.search,
    policies: services.policyService,
    logger: services.logger,
    searchFor: (session) => {
      let s = searches.get(session);
      if (!s) searches.set(session, (s = new WsSearch(session, services.search, maxSearches)));
      return s;
    },
    streamingFor: (session) => {
      let s = streamings.get(session);
      const socket = sockets.get(session);
      if (!s && socket)
        streamings.set(
          session,
          (s = wsStreaming(socket, services.historyEvents, (msg, err) =>
            services.logger.error({ err }, msg),
          )),
        );
      return s;
    },
    onClose: (session) => {
      searches.get(session)?.close();
      streamings.get(session)?.close();
      releases.get(session)?.();
    },
  };
  const jwt = services.jwt;
  if (jwt) {
    // ditto: §5 JWT-TOKEN extends the session only for a valid token of the same subjects.
    deps.refreshAuth = async (token, current) => {
      // An invalid token closes the session with 403 gateway:websocket.session.closed (not the 401 of the upgrade).
      const result = await jwt.authenticate(token).catch((err: unknown) => {
        throw websocketSessionClosed(
          { detail: `the new token is not valid (${(err as Error).message})` },
          { cause: err },
        );
      });
      if (subjectsKeyOf(result) !== subjectsKeyOf(current)) {
        throw websocketSessionClosed({ detail: 'the new token authenticates other subjects.' });
      }
      return result.expiresAt === undefined
        ? { subjects: result.subjects }
        : withExpiry({ subjects: result.subjects }, result.expiresAt);
    };
  }
  const sessionOptions = {
    maxBufferedBytes: services.config.wsBufferBytes ?? 1024 * 1024,
    pingIntervalMs: services.config.wsPingIntervalMs ?? 30_000,
  };

  // A refused upgrade (e.g. 401 from the authentication hook, which runs before @fastify/websocket's own
  // hooks) is answered over the raw socket, which nobody else closes afterwards.
  app.addHook('onResponse', async (request) => {
    if (String(request.headers.upgrade).toLowerCase() === 'websocket') request.raw.socket.destroy();
  });

  // The session cap is checked before the upgrade (an HTTP 429 with Ditto's error JSON) and counted once
  // the session exists (two upgrades racing for the last place: the second is closed with the error).
  const checkSessions = async (request: FastifyRequest) => perUser.check(request.auth);
  app.get('/ws/2', { websocket: true, preHandler: checkSessions }, (socket, request) => {
    let release: () => void;
    try {
      release = perUser.acquire(request.auth);
    } catch (err) {
      if (!isDittoError(err)) throw err;
      socket.send(stringifyProtocolMessage(errorToProtocol(err, { headers: {} })));
      socket.close(1013, err.error);
      return;
    }
    const session = new WsSession(socket, request.auth, deps, sessionOptions);
    releases.set(session, release);
    sockets.set(session, socket);
    // ditto: §5 `declared-acks` query parameter: labels this session issues; a conflict closes the socket.
    const declared = headerList((request.query as Record<string, string | undefined>)['declared-acks']);
    try {
      for (const label of declared) checkIssuedLabel(label);
      services.acks.declare(declared, session);
    } catch (err) {
      if (!isDittoError(err)) throw err;
      socket.send(stringifyProtocolMessage(errorToProtocol(err, { headers: {} })));
      socket.close(1008, err.error);
      return;
    }
    const token = bearerOf(request);
    if (token !== undefined && jwt) {
      // The hook verified the token already; this only learns its expiry (§5 session expiry).
      jwt.authenticate(token).then(
        (result) => result.expiresAt !== undefined && session.expireAt(result.expiresAt),
        (err: unknown) => request.log.debug({ err }, 'token expiry unknown'),
      );
    }
  });
}

function withExpiry(auth: AuthContext, expiresAt: number): AuthContext {
  return Object.assign({ ...auth }, { expiresAt });
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? /^bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (m) return m[1];
  return (request.query as Record<string, string | undefined>).access_token;
}
