/**
 * Errors of Bearer-token (JWT / OpenID Connect) authentication (ditto-interfaces.md §8, §2.11). Ditto
 * reports every token that fails verification (signature, expiry, not-before, audience, malformed, no
 * matching key) as `gateway:jwt.invalid` with the reason in the message; an issuer it is not configured
 * for as `gateway:jwt.issuer.notsupported`; a JWKS endpoint it cannot reach as 503.
 */
import { defineError } from './ditto-error.js';

export const jwtInvalid = defineError<{ reason: string }>({
  code: 'gateway:jwt.invalid',
  status: 401,
  message: ({ reason }) => `The JWT could not be verified: ${reason}`,
  description: 'Check if your JWT is correct.',
});

export const jwtIssuerNotSupported = defineError<{ issuer: string }>({
  code: 'gateway:jwt.issuer.notsupported',
  status: 401,
  message: ({ issuer }) => `The JWT issuer '${issuer}' is not supported.`,
  description: 'Check if your JWT is correct.',
});

export const publicKeyProviderUnavailable = defineError<{ issuer: string }>({
  code: 'gateway:publickey.provider.unavailable',
  status: 503,
  message: ({ issuer }) => `The public key provider of the JWT issuer '${issuer}' is not available.`,
  description: 'If after retry it is still unavailable, please contact the service team.',
});
