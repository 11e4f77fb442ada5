/**
 * Bearer-token authentication against configured OpenID Connect issuers (ditto-interfaces.md §8).
 *
 * A token is accepted when its `iss` is a configured issuer (compared without scheme and trailing `/`, as
 * Ditto's `issuer = "host/path"` is), its signature verifies with a key of the issuer's JSON Web Key Set,
 * and `exp` / `nbf` / (when configured) `aud` hold. The key set is fetched from `jwksUri` or from the
 * `jwks_uri` of `<issuer>/.well-known/openid-configuration`, cached, and fetched again when a token names a
 * key id the cache does not know (key rotation), at most once per cooldown. The subjects are the issuer's
 * `{{ jwt:… }}` templates resolved over the claims (arrays expand, unresolvable templates are skipped;
 * default `{{ jwt:sub }}`), each prefixed `<prefix>:`.
 *
 * Called per request by src/api/http/auth.ts `authenticate` (HTTP and the WebSocket upgrade). Tokens are
 * never logged nor echoed in errors.
 */
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { OidcIssuerConfig } from '../config/config.js';
import { jwtInvalid, jwtIssuerNotSupported, publicKeyProviderUnavailable } from '../errors/auth.js';
import { DittoError } from '../errors/ditto-error.js';
import { compileTemplate, jwtResolver, resolveAll, type CompiledTemplate } from '../placeholders/index.js';

export interface JwtAuthenticatorOptions {
  /** Least time between two JWKS fetches caused by unknown key ids; default 30 s. */
  cooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again; default 10 min. */
  cacheMaxAgeMs?: number;
  /** Timeout of discovery and JWKS requests; default 5 s. */
  fetchTimeoutMs?: number;
  /** Allowed clock skew for `exp` / `nbf`, in seconds; default 0. */
  clockToleranceSec?: number;
}

export interface JwtAuthentication {
  /** `<prefix>:<value>` for each resolved auth-subject template, in template order, without duplicates. */
  subjects: string[];
  /** The token's `exp` in ms since epoch, when it has one. */
  expiresAt?: number;
}

interface Issuer {
  prefix: string;
  config: OidcIssuerConfig;
  templates: CompiledTemplate[];
  keys?: ReturnType<typeof createRemoteJWKSet>;
}

const DEFAULT_SUBJECTS = ['{{ jwt:sub }}'];

/** `https://host/path/` and `host/path` compare equal (ditto: issuer configured without scheme). */
export function normaliseIssuer(issuer: string): string {
  return issuer.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
}

export class JwtAuthenticator {
  private readonly byIssuer = new Map<string, Issuer>();
  private readonly options: Required<JwtAuthenticatorOptions>;

  /** Compiles every auth-subject template now: a bad template fails at startup, not on the first token. */
  constructor(issuers: Readonly<Record<string, OidcIssuerConfig>>, options: JwtAuthenticatorOptions = {}) {
    this.options = {
      cooldownMs: options.cooldownMs ?? 30_000,
      cacheMaxAgeMs: options.cacheMaxAgeMs ?? 600_000,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 5_000,
      clockToleranceSec: options.clockToleranceSec ?? 0,
    };
    for (const [prefix, config] of Object.entries(issuers)) {
      const templates = (config.authSubjects ?? DEFAULT_SUBJECTS).map((t) => compileTemplate(t));
      this.byIssuer.set(normaliseIssuer(config.issuer), { prefix, config, templates });
    }
  }

  /**
   * Verifies `token` and returns its subjects.
   * @throws DittoError 401 `gateway:jwt.invalid` (malformed, signature, expired, not yet valid, audience,
   *   no matching key, no subject), 401 `gateway:jwt.issuer.notsupported`, 503
   *   `gateway:publickey.provider.unavailable` (discovery or JWKS not reachable).
   */
  async authenticate(token: string): Promise<JwtAuthentication> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw jwtInvalid({ reason: 'the token is not a well-formed JWT.' });
    }
    const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
    const issuer = this.byIssuer.get(normaliseIssuer(iss));
    if (!issuer) throw jwtIssuerNotSupported({ issuer: iss });
    const keys = await this.keysOf(issuer);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        audience: issuer.config.audience,
        clockTolerance: this.options.clockToleranceSec,
      }));
    } catch (err) {
      throw verificationError(err, iss);
    }
    const subjects: string[] = [];
    const resolvers = { jwt: jwtResolver(payload as Record<string, unknown>) };
    for (const template of issuer.templates) {
      for (const value of resolveAll(template, resolvers)) {
        const subject = `${issuer.prefix}:${value}`;
        if (value !== '' && !subjects.includes(subject)) subjects.push(subject);
      }
    }
    if (subjects.length === 0)
      throw jwtInvalid({ reason: 'no authorization subject could be resolved from its claims.' });
    return payload.exp === undefined ? { subjects } : { subjects, expiresAt: payload.exp * 1000 };
  }

  /** The issuer's key set, discovering its location on first use (not cached when discovery fails). */
  private async keysOf(issuer: Issuer): Promise<NonNullable<Issuer['keys']>> {
    if (issuer.keys) return issuer.keys;
    const jwksUri = issuer.config.jwksUri ?? (await this.discover(issuer));
    issuer.keys ??= createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: this.options.cooldownMs,
      cacheMaxAge: this.options.cacheMaxAgeMs,
      timeoutDuration: this.options.fetchTimeoutMs,
    });
    return issuer.keys;
  }

  private async discover(issuer: Issuer): Promise<string> {
    const base = /^https?:\/\//i.test(issuer.config.issuer)
      ? issuer.config.issuer
      : `https://${issuer.config.issuer}`;
    const url = `${base.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.fetchTimeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
      const document = (await response.json()) as { jwks_uri?: unknown };
      if (typeof document.jwks_uri !== 'string') throw new Error(`no jwks_uri in ${url}`);
      return document.jwks_uri;
    } catch (err) {
      throw publicKeyProviderUnavailable({ issuer: issuer.config.issuer }, { cause: err });
    }
  }
}

/** Maps a jose verification failure to Ditto's error; key-set fetch failures are 503. */
function verificationError(err: unknown, issuer: string): DittoError {
  if (err instanceof DittoError) return err;
  if (err instanceof joseErrors.JWTExpired)
    return jwtInvalid({ reason: 'the JWT is expired.' }, { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const reason =
      err.claim === 'nbf'
        ? 'the JWT is not valid yet.'
        : err.claim === 'aud'
          ? 'the JWT audience is not accepted.'
          : `the claim '${err.claim}' is invalid.`;
    return jwtInvalid({ reason }, { cause: err });
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return jwtInvalid({ reason: 'the signature is invalid.' }, { cause: err });
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return jwtInvalid({ reason: 'no key of the issuer matches the JWT.' }, { cause: err });
  if (
    err instanceof joseErrors.JWKSTimeout ||
    err instanceof joseErrors.JWKSInvalid ||
    !(err instanceof joseErrors.JOSEError)
  ) {
    return publicKeyProviderUnavailable({ issuer }, { cause: err });
  }
  return jwtInvalid({ reason: 'the JWT is invalid.' }, { cause: err });
}
