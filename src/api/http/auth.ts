/**
 * Authentication of HTTP requests (§8): API routes accept the configured basic users (subject
 * `nginx:<user>`) or, from a trusted proxy only, `x-ditto-pre-authenticated`; devops routes accept only
 * the devops users. Missing or wrong credentials: 401 `gateway:authentication.failed`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../auth/context.js';
import { checkUser, parseBasic } from '../../auth/basic.js';
import type { UserCredential } from '../../config/config.js';
import { authenticationFailed } from '../../errors/gateway.js';

export type Realm = 'api' | 'devops' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    realm?: Realm;
  }
}

export interface AuthOptions {
  users: readonly UserCredential[];
  devopsUsers: readonly UserCredential[];
  trustedProxies: readonly string[];
}

export function registerAuthentication(app: FastifyInstance, options: AuthOptions): void {
  const trusted = new Set(options.trustedProxies);
  app.decorateRequest('auth', undefined as unknown as AuthContext);
  app.addHook('onRequest', async (request) => {
    const realm = request.routeOptions.config?.realm ?? 'api';
    if (realm === 'none') return;
    request.auth = authenticate(request, realm, options, trusted);
  });
}

export function authenticate(request: FastifyRequest, realm: Exclude<Realm, 'none'>, options: AuthOptions, trusted: ReadonlySet<string>): AuthContext {
  const preAuthenticated = request.headers['x-ditto-pre-authenticated'];
  if (realm === 'api' && typeof preAuthenticated === 'string' && trusted.has(request.socket.remoteAddress ?? '')) {
    // ditto: §8 the proxy sets `<issuer>:<subject>`; it is the single subject of the request
    if (!/^[^:]+:.+$/.test(preAuthenticated)) throw authenticationFailed({ detail: 'malformed x-ditto-pre-authenticated header' });
    return { subjects: [preAuthenticated] };
  }
  const credentials = parseBasic(request.headers.authorization);
  if (!credentials) throw authenticationFailed({ detail: 'no credentials' });
  const users = realm === 'devops' ? options.devopsUsers : options.users;
  if (!checkUser(users, credentials)) throw authenticationFailed({ detail: 'wrong user or password' });
  return { subjects: [realm === 'devops' ? `devops:${credentials.user}` : `nginx:${credentials.user}`] };
}
