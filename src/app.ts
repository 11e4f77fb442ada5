/**
 * buildApp(deps): the HTTP application as a tree of fastify plugins, without listening, so tests can use
 * `app.inject()` or a real port alike. main.ts composes the dependencies.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { registerAuthentication, type AuthOptions } from './api/http/auth.js';
import { registerErrorHandling } from './api/http/errors.js';
import { thingsRoutes } from './api/http/things.js';
import type { ThingsService } from './things/service.js';

export interface AppDeps {
  logger: Logger;
  things: ThingsService;
  auth: AuthOptions;
  defaultNamespace: string;
  /** HTTPS when given. */
  https?: { cert: Buffer; key: Buffer };
  /** Whether the service is ready (GET /health). */
  isReady: () => boolean;
}

// ditto: §2.1 max body 1 MB at the HTTP layer, max URI 8k
const BODY_LIMIT = 1024 * 1024;
const MAX_URL_LENGTH = 8192;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions = {
    loggerInstance: deps.logger,
    // Per-request logs cost throughput; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: MAX_URL_LENGTH },
  };
  const app = (deps.https ? Fastify({ ...options, https: deps.https } as FastifyServerOptions) : Fastify(options)) as unknown as FastifyInstance;
  // Bodies arrive raw; each route parses and validates its own media types (Ditto errors, not fastify's).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request) => {
    if (request.url.length > MAX_URL_LENGTH) {
      const { uriTooLong } = await import('./errors/general.js');
      throw uriTooLong({ length: request.url.length });
    }
  });
  registerErrorHandling(app);
  registerAuthentication(app, deps.auth);
  app.get('/health', { config: { realm: 'none' } }, async (_request, reply) => {
    const ready = deps.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'UP' : 'DOWN' });
  });
  await app.register(thingsRoutes, { things: deps.things, defaultNamespace: deps.defaultNamespace });
  return app;
}
