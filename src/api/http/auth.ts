/**
 * Authentication of HTTP requests (§8): API routes accept the configured basic users (subject
 * `nginx:<user>`), `Authorization: Bearer <JWT>` of a configured OpenID Connect issuer (also as query
 * parameter `access_token`), or, from a trusted proxy only, `x-ditto-pre-authenticated`; devops routes
 * accept only the devops users. Missing or wrong credentials: 401 `gateway:authentication.failed`; a bad
 * token: 401 `gateway:jwt.*` (see src/errors/auth.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { AuthContext } from '../../auth/context.js';
import { checkUser, parseBasic } from '../../auth/basic.js';
import type { JwtAuthenticator } from '../../auth/jwt.js';
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
  /** Verifies Bearer tokens (services.jwt); without it a Bearer token is refused with 401. */
  jwt?: JwtAuthenticator;
}

/** What authentication reads of a request: a FastifyRequest and a raw IncomingMessage (WebSocket upgrade) both fit. */
export interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string };
  /** The request URL (path and query); its `access_token` query parameter is a Bearer token (api realm). */
  url?: string;
}

export function registerAuthentication(app: FastifyInstance, options: AuthOptions): void {
  const trusted = new Set(options.trustedProxies);
  app.decorateRequest('auth', undefined as unknown as AuthContext);
  // Callback style with a synchronous path for remembered Basic credentials: no promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    const realm = request.routeOptions.config?.realm ?? 'api';
    if (realm === 'none') return done();
    const remembered = rememberedBasic(request, realm, options);
    if (remembered) {
      request.auth = remembered;
      return done();
    }
    authenticate(request, realm, options, trusted).then((auth) => {
      request.auth = auth;
      done();
    }, done);
  });
}

/** The context of Basic credentials that passed before, when nothing else (pre-authentication, a token) takes precedence. */
function rememberedBasic(
  request: AuthRequest,
  realm: Exclude<Realm, 'none'>,
  options: AuthOptions,
): AuthContext | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization !== 'string' || request.headers['x-ditto-pre-authenticated'] !== undefined)
    return undefined;
  if (realm === 'api' && request.url?.includes('access_token=')) return undefined;
  return verifiedBasic(options)[realm].get(authorization);
}

/**
 * Authenticates a request's headers and remote address for `realm`; resolves with the subjects or rejects
 * with a 401 DittoError (503 when an issuer's keys cannot be fetched). Never logs credentials.
 */
export async function authenticate(
  request: AuthRequest,
  realm: Exclude<Realm, 'none'>,
  options: AuthOptions,
  trusted: ReadonlySet<string>,
): Promise<AuthContext> {
  const preAuthenticated = request.headers['x-ditto-pre-authenticated'];
  if (
    realm === 'api' &&
    typeof preAuthenticated === 'string' &&
    trusted.has(request.socket.remoteAddress ?? '')
  ) {
    // ditto: §8 the proxy sets `<issuer>:<subject>`; it is the single subject of the request
    if (!/^[^:]+:.+$/.test(preAuthenticated))
      throw authenticationFailed({ detail: 'malformed x-ditto-pre-authenticated header' });
    return { subjects: [preAuthenticated] };
  }
  const authorization =
    typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined;
  const token =
    realm === 'api' ? (bearerToken(authorization) ?? accessTokenParameter(request.url)) : undefined;
  if (token !== undefined) {
    if (!options.jwt) throw authenticationFailed({ detail: 'no OpenID Connect issuer is configured' });
    return { subjects: (await options.jwt.authenticate(token)).subjects };
  }
  const remembered =
    authorization === undefined ? undefined : verifiedBasic(options)[realm].get(authorization);
  if (remembered) return remembered;
  const credentials = parseBasic(authorization);
  if (!credentials) throw authenticationFailed({ detail: 'no credentials' });
  const users = realm === 'devops' ? options.devopsUsers : options.users;
  if (!checkUser(users, credentials)) throw authenticationFailed({ detail: 'wrong user or password' });
  const context = {
    subjects: [realm === 'devops' ? `devops:${credentials.user}` : `nginx:${credentials.user}`],
  };
  remember(verifiedBasic(options)[realm], authorization!, context);
  return context;
}

/**
 * Basic credentials that already passed, per configuration and realm, keyed by the exact header: clients
 * send the same header on every request, and the users are fixed at start, so a hit skips the base64
 * decoding and the password comparison. Only successes are kept, at most VERIFIED_MAX per realm.
 */
const VERIFIED_MAX = 1024;
const verified = new WeakMap<AuthOptions, Record<'api' | 'devops', Map<string, AuthContext>>>();

function verifiedBasic(options: AuthOptions): Record<'api' | 'devops', Map<string, AuthContext>> {
  let maps = verified.get(options);
  if (!maps) verified.set(options, (maps = { api: new Map(), devops: new Map() }));
  return maps;
}

function remember(map: Map<string, AuthContext>, header: string, context: AuthContext): void {
  if (map.size >= VERIFIED_MAX) map.delete(map.keys().next().value!);
  map.set(header, context);
}

/** The token of an `Authorization: Bearer <token>` header. */
function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** ditto: §5 the `access_token` query parameter (WebSocket / SSE clients that cannot set headers). */
function accessTokenParameter(url: string | undefined): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  if (url === undefined || q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('access_token') ?? undefined;
}
