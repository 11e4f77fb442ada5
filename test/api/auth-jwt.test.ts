/**
 * Bearer-token authentication (ditto-interfaces.md §8) against a real local OpenID Connect provider
 * (test/helpers/jwks.ts): discovery, JWKS, key rotation with cooldown, issuer / audience / expiry /
 * signature checks, and claims to subjects through `{{ jwt:… }}` templates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/api/http/auth.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/jwks.js';

let idp: TestIdentityProvider;
let other: TestIdentityProvider;
let svc: TestService;
const COOLDOWN_MS = 1500;

beforeAll(async () => {
  idp = await startIdentityProvider();
  other = await startIdentityProvider();
  // `other` serves under a second issuer with a fixed jwksUri, an audience and subject templates.
  const issuers = {
    keycloak: { issuer: idp.issuer },
    partner: {
      issuer: other.issuer.replace(/^http:\/\//, ''),
      jwksUri: other.jwksUri,
      audience: 'twinbridge',
      authSubjects: [
        '{{ jwt:sub }}',
        '{{ jwt:groups }}',
        '{{ jwt:email | fn:lower() }}',
        '{{ jwt:missing }}',
        '{{ jwt:sub }}@{{ jwt:tenant }}',
      ],
    },
  };
  svc = await startTestService({
    TWINBRIDGE_OIDC_ISSUERS: JSON.stringify(issuers),
    TWINBRIDGE_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
  });
});
afterAll(async () => {
  await svc?.close();
  await idp?.close();
  await other?.close();
});

const bearer = (token: string) => ({ auth: null, headers: { authorization: `Bearer ${token}` } });
const whoami = (token: string) => svc.request('GET', '/api/2/whoami', bearer(token));

describe('a valid JWT', () => {
  it('authenticates with subject <prefix>:<sub> found through discovery', async () => {
    const res = await whoami(await idp.sign({ sub: 'user-1' }));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ defaultSubject: 'keycloak:user-1', subjects: ['keycloak:user-1'] });
  });

  it('is also accepted as access_token query parameter', async () => {
    const token = await idp.sign({ sub: 'user-q' });
    const res = await svc.request('GET', `/api/2/whoami?access_token=${token}`, { auth: null });
    expect(res.status).toBe(200);
    expect(res.json.subjects).toEqual(['keycloak:user-q']);
  });

  it('maps claims to subjects with templates: arrays expand, pipelines apply, unresolvable ones are skipped', async () => {
    const token = await other.sign(
      { sub: 'u7', groups: ['admins', 'ops'], email: 'U7@Example.COM', tenant: 'acme' },
      { audience: ['twinbridge', 'x'] },
    );
    const res = await whoami(token);
    expect(res.status).toBe(200);
    expect(res.json.subjects).toEqual([
      'partner:u7',
      'partner:admins',
      'partner:ops',
      'partner:u7@example.com',
      'partner:u7@acme',
    ]);
    expect(res.json.defaultSubject).toBe('partner:u7');
  });

  it('acts as its subjects on things and policies', async () => {
    const token = await idp.sign({ sub: 'creator' });
    const thingId = `org.eclipse.ditto:jwt-${Date.now()}`;
    const created = await svc.request('PUT', `/api/2/things/${encodeURIComponent(thingId)}`, {
      ...bearer(token),
      body: { attributes: { a: 1 } },
    });
    expect(created.status).toBe(201);
    const policy = await svc.request('GET', `/api/2/policies/${encodeURIComponent(thingId)}`, bearer(token));
    expect(Object.keys(policy.json.entries.DEFAULT.subjects)).toEqual(['keycloak:creator']);
    expect(
      (
        await svc.request(
          'GET',
          `/api/2/things/${encodeURIComponent(thingId)}`,
          bearer(await idp.sign({ sub: 'someone-else' })),
        )
      ).status,
    ).toBe(404);
  });
});

describe('an invalid JWT', () => {
  const expectError = async (token: string, status: number, error: string) => {
    const res = await whoami(token);
    expect({ status: res.status, error: res.json?.error }).toEqual({ status, error });
    expect(res.text).not.toContain(token);
    return res;
  };

  it('is refused when expired: 401 gateway:jwt.invalid', async () => {
    const res = await expectError(
      await idp.sign({ sub: 'u' }, { expiresIn: -60 }),
      401,
      'gateway:jwt.invalid',
    );
    expect(res.json.message).toContain('expired');
  });

  it('is refused before nbf: 401 gateway:jwt.invalid', async () => {
    await expectError(
      await idp.sign({ sub: 'u' }, { notBefore: Math.floor(Date.now() / 1000) + 600 }),
      401,
      'gateway:jwt.invalid',
    );
  });

  it('is refused from an unknown issuer: 401 gateway:jwt.issuer.notsupported', async () => {
    await expectError(
      await idp.sign({ sub: 'u' }, { issuer: 'https://evil.example.com/realms/test' }),
      401,
      'gateway:jwt.issuer.notsupported',
    );
  });

  it('is refused with a wrong or missing audience: 401 gateway:jwt.invalid', async () => {
    const res = await expectError(
      await other.sign({ sub: 'u' }, { audience: 'someone-else' }),
      401,
      'gateway:jwt.invalid',
    );
    expect(res.json.message).toContain('audience');
    await expectError(await other.sign({ sub: 'u' }), 401, 'gateway:jwt.invalid');
  });

  it('is refused with a wrong signature: 401 gateway:jwt.invalid', async () => {
    const stray = await idp.strayKey();
    const res = await expectError(
      await idp.sign({ sub: 'u' }, { privateKey: stray.privateKey }),
      401,
      'gateway:jwt.invalid',
    );
    expect(res.json.message).toContain('signature');
  });

  it('is refused when tampered with: 401 gateway:jwt.invalid', async () => {
    const [h, , s] = (await idp.sign({ sub: 'u' })).split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: 'admin', iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    await expectError(`${h}.${forged}.${s}`, 401, 'gateway:jwt.invalid');
  });

  it('is refused when malformed: 401 gateway:jwt.invalid', async () => {
    await expectError('not-a-jwt', 401, 'gateway:jwt.invalid');
  });

  it('is refused when no template resolves to a subject: 401 gateway:jwt.invalid', async () => {
    await expectError(await idp.sign({ name: 'no sub' }), 401, 'gateway:jwt.invalid');
  });
});

describe('key rotation', () => {
  it('refetches the JWKS for an unknown kid, at most once per cooldown', async () => {
    // A fresh token from a known key makes sure the key set is loaded.
    expect((await whoami(await idp.sign({ sub: 'before' }))).status).toBe(200);
    // The key of the second new kid is made ahead: generating one can take longer than the cooldown on a loaded machine.
    const early = await idp.strayKey();
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 100));
    const fetchesBefore = idp.jwksFetches();
    const rotated = await idp.addKey();
    // After the cooldown, the unknown kid triggers one fetch and the new key verifies the token.
    const res = await whoami(await idp.sign({ sub: 'after-rotation' }, { kid: rotated }));
    expect(res.status).toBe(200);
    expect(res.json.subjects).toEqual(['keycloak:after-rotation']);
    expect(idp.jwksFetches()).toBe(fetchesBefore + 1);
    // Within the cooldown a second new kid is not fetched: 401, no further request to the provider.
    const refused = await whoami(
      await idp.sign({ sub: 'too-soon' }, { kid: 'second', privateKey: early.privateKey }),
    );
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('gateway:jwt.invalid');
    expect(idp.jwksFetches()).toBe(fetchesBefore + 1);
    // Once the cooldown has passed it is.
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 100));
    await idp.addKey('second');
    expect((await whoami(await idp.sign({ sub: 'later' }, { kid: 'second' }))).status).toBe(200);
    expect(idp.jwksFetches()).toBe(fetchesBefore + 2);
  });
});

describe('the exported authenticate (WebSocket upgrade)', () => {
  it('authenticates a raw request by Bearer header and by access_token', async () => {
    const options = { users: [], devopsUsers: [], trustedProxies: [], jwt: svc.services.jwt };
    const token = await idp.sign({ sub: 'ws-user' });
    const viaHeader = await authenticate(
      { headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: '10.0.0.1' }, url: '/ws/2' },
      'api',
      options,
      new Set(),
    );
    expect(viaHeader.subjects).toEqual(['keycloak:ws-user']);
    const viaQuery = await authenticate(
      { headers: {}, socket: {}, url: `/ws/2?access_token=${token}` },
      'api',
      options,
      new Set(),
    );
    expect(viaQuery.subjects).toEqual(['keycloak:ws-user']);
    await expect(
      authenticate({ headers: {}, socket: {}, url: '/ws/2' }, 'api', options, new Set()),
    ).rejects.toMatchObject({ error: 'gateway:authentication.failed' });
  });

  it('refuses Bearer tokens on the devops realm', async () => {
    const options = {
      users: [],
      devopsUsers: [{ user: 'devops', password: 'x' }],
      trustedProxies: [],
      jwt: svc.services.jwt,
    };
    const token = await idp.sign({ sub: 'u' });
    await expect(
      authenticate(
        { headers: { authorization: `Bearer ${token}` }, socket: {} },
        'devops',
        options,
        new Set(),
      ),
    ).rejects.toMatchObject({ status: 401 });
  });
});

describe('without configured issuers', () => {
  it('refuses a Bearer token with 401 gateway:authentication.failed', async () => {
    const plain = await startTestService();
    try {
      const res = await plain.request('GET', '/api/2/whoami', bearer(await idp.sign({ sub: 'u' })));
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('gateway:authentication.failed');
    } finally {
      await plain.close();
    }
  });

  it('answers 503 gateway:publickey.provider.unavailable when discovery fails', async () => {
    const down = await startTestService({
      TWINBRIDGE_OIDC_ISSUERS: JSON.stringify({ down: { issuer: 'http://127.0.0.1:1/realms/none' } }),
    });
    try {
      const res = await down.request(
        'GET',
        '/api/2/whoami',
        bearer(await idp.sign({ sub: 'u' }, { issuer: 'http://127.0.0.1:1/realms/none' })),
      );
      expect(res.status).toBe(503);
      expect(res.json.error).toBe('gateway:publickey.provider.unavailable');
    } finally {
      await down.close();
    }
  });
});
