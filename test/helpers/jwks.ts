/**
 * A real local OpenID Connect provider for tests: an HTTP server on a loopback port serving
 * `<issuer>/.well-known/openid-configuration` and the issuer's JSON Web Key Set, with RSA keys made by jose.
 * Tests sign tokens with it, rotate keys (`addKey`) and count JWKS fetches.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SignOptions {
  /** Key id of a served key (default: the first); `kid` of an unserved key signs with a key nobody knows. */
  kid?: string;
  /** Sign with this key instead (a wrong signature when it is not the served key of `kid`). */
  privateKey?: CryptoKey;
  /** Seconds from now; negative = already expired; default 300. Undefined `null` = no exp. */
  expiresIn?: number | null;
  issuer?: string;
  audience?: string | string[];
  notBefore?: number;
}

export interface TestIdentityProvider {
  /** `http://127.0.0.1:<port>/realms/test` */
  issuer: string;
  jwksUri: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  /** Generates a key and serves it in the JWKS from now on; returns its kid. */
  addKey(kid?: string): Promise<string>;
  /** A key pair that is not served. */
  strayKey(): Promise<{ privateKey: CryptoKey }>;
  sign(claims: JWTPayload, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  let fetches = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/realms/test/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }));
    } else if (path === '/realms/test/protocol/openid-connect/certs') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [...keys.values()].map((k) => k.jwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/test`;

  let counter = 0;
  const newPair = () => generateKeyPair('RS256', { extractable: true });
  const provider: TestIdentityProvider = {
    issuer,
    jwksUri: `${issuer}/protocol/openid-connect/certs`,
    jwksFetches: () => fetches,
    async addKey(kid = `key-${++counter}`) {
      const { privateKey, publicKey } = await newPair();
      const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      keys.set(kid, { privateKey, jwk });
      return kid;
    },
    async strayKey() {
      return { privateKey: (await newPair()).privateKey };
    },
    async sign(claims, options = {}) {
      const kid = options.kid ?? [...keys.keys()][0];
      const privateKey = options.privateKey ?? keys.get(kid)?.privateKey;
      if (!privateKey) throw new Error(`no key ${kid}`);
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuedAt()
        .setIssuer(options.issuer ?? issuer);
      if (options.expiresIn !== null)
        jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 300));
      if (options.audience !== undefined) jwt.setAudience(options.audience);
      if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
      return jwt.sign(privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
  await provider.addKey();
  return provider;
}
