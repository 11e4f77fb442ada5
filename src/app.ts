/**
 * buildApp(services): the HTTP application as a tree of fastify plugins, without listening, so tests can
 * use `app.inject()` or a real port alike. Adding a resource: a plugin under src/api/http/ registered here.
 */
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerAuthentication } from './api/http/auth.js';
import { piggybackRoutes } from './api/http/piggyback.js';
import {
  BODY_LIMIT,
  clientErrorHandler,
  frameworkErrors,
  MAX_URL_LENGTH,
  registerErrorHandling,
} from './api/http/errors.js';
import { thingsRoutes } from './api/http/things.js';
import { policiesRoutes } from './api/http/policies.js';
import { whoamiRoutes } from './api/http/whoami.js';
import { listThings, searchRoutes } from './api/http/search.js';
import { mappingRoutes } from './api/http/mapping.js';
import { messagesRoutes } from './api/http/messages.js';
import { connectionsRoutes } from './api/http/connections.js';
import { metricsRoutes } from './api/http/metrics.js';
import { registerVariantConstraint, sseRoutes } from './api/sse/index.js';
import { signalRoutes } from './live/http.js';
import { websocketRoutes } from './api/ws/index.js';
import { uiRoutes } from './api/http/ui.js';
import { uriTooLong } from './errors/general.js';
import type { Services } from './services.js';

export interface AppOptions {
  /** Whether the service is ready (GET /health); default: always. */
  isReady?: () => boolean;
}

export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  const isReady = options.isReady ?? (() => true);
  const serverOptions: FastifyServerOptions = {
    loggerInstance: services.logger,
    // Per-request logs cost throughput; errors are logged by the error handler. No child logger per
    // request either (measured: a pino child per request costs more than a whole GET of a thing).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: MAX_URL_LENGTH },
    frameworkErrors,
    clientErrorHandler,
  };
  const https =
    config.tlsCert && config.tlsKey
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
      : undefined;
  const app = (https
    ? Fastify({ ...serverOptions, https } as FastifyServerOptions)
    : Fastify(serverOptions)) as unknown as FastifyInstance;
  // Bodies arrive raw; each route parses and validates its own media types (Ditto errors, not fastify's).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) =>
    done(null, body),
  );
  app.addHook('onRequest', (request, _reply, done) =>
    done(request.url.length > MAX_URL_LENGTH ? uriTooLong({ length: request.url.length }) : undefined),
  );
  registerErrorHandling(app);
  registerAuthentication(app, {
    users: config.users,
    devopsUsers: config.devopsUsers,
    trustedProxies: config.trustedProxies,
    jwt: services.jwt,
  });
  app.get('/health', { config: { realm: 'none' } }, async (_request, reply) => {
    const ready = isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'UP' : 'DOWN' });
  });
  await app.register(thingsRoutes, {
    things: services.things,
    defaultNamespace: config.defaultNamespace,
    listThings: listThings(services.search),
  });
  await app.register(searchRoutes, { search: services.search });
  await app.register(policiesRoutes, { policies: services.policyService });
  await app.register(whoamiRoutes, { things: services.things, policies: services.policies });
  await app.register(mappingRoutes, {
    maxDefinitions: config.mappingMaxDefinitions ?? 10,
    concurrency: config.mappingTryConcurrency ?? 2,
  });
  await app.register(messagesRoutes, { live: services.live, acks: services.acks });
  await app.register(connectionsRoutes, { connections: services.connections });
  await app.register(piggybackRoutes, { connections: services.connections });
  await app.register(metricsRoutes, {
    events: services.connections.events,
    connectionStates: () => services.connections.liveStates(),
    outboundInFlight: () => services.connections.outboundInFlight(),
    onStoreWrite: (listener) => services.onStoreWrite(listener),
  });
  registerVariantConstraint(app);
  await app.register(sseRoutes, { services });
  await app.register(signalRoutes, { deps: services });
  await app.register(websocketRoutes, { services });
  await app.register(uiRoutes, { services });
  return app;
}
