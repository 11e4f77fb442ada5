/**
 * Issue 19 item 10: a token's subject is data, never JSON text. Subjects holding `"`, `\`, `$'`, `$&` or a
 * whole JSON fragment become one subject in the default policy and in `{{ request:subjectId }}` of an inline
 * policy, exactly as sent, and grant exactly what the policy says. Real JWTs signed by the test JWKS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/jwks.js';

let idp: TestIdentityProvider;
let svc: TestService;
beforeAll(async () => {
  idp = await startIdentityProvider();
  svc = await startTestService({ TWINBRIDGE_OIDC_ISSUERS: JSON.stringify({ idp: { issuer: idp.issuer } }) });
});
afterAll(async () => {
  await svc?.close();
  await idp?.close();
});

const SUBJECTS = [
  `quote"d`,
  `dollar$'after`,
  `dollar$&match$1$$`,
  `back\\slash`,
  `x"},"nginx:ditto":{"type":"injected`,
  `{{ request:subjectId }}`,
];

const as = async (sub: string) => ({
  auth: null,
  headers: { authorization: `Bearer ${await idp.sign({ sub })}` },
});
let n = 0;

describe('a subject with JSON-special characters', () => {
  it.each(SUBJECTS)(
    'owns the default policy of the thing it creates, as one exact subject: %s',
    async (sub) => {
      const thingId = `org.eclipse.ditto:jwt-default-${++n}`;
      const created = await svc.request('PUT', `/api/2/things/${thingId}`, {
        ...(await as(sub)),
        body: { attributes: { a: 1 } },
      });
      expect(created.status).toBe(201);
      const policy = await svc.request('GET', `/api/2/policies/${thingId}`, await as(sub));
      expect(policy.status).toBe(200);
      expect(Object.keys(policy.json.entries)).toEqual(['DEFAULT']);
      expect(policy.json.entries.DEFAULT.subjects).toEqual({ [`idp:${sub}`]: { type: 'generated' } });
      // Nobody else got in: the injected "nginx:ditto" did not become a subject.
      expect((await svc.request('GET', `/api/2/things/${thingId}`)).status).toBe(404);
    },
  );

  it.each(SUBJECTS)('replaces {{ request:subjectId }} of an inline policy by value: %s', async (sub) => {
    const thingId = `org.eclipse.ditto:jwt-inline-${++n}`;
    const _policy = {
      entries: {
        OWNER: {
          subjects: { '{{ request:subjectId }}': { type: 'creator {{request:subjectId}}' } },
          resources: {
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
      },
    };
    const created = await svc.request('PUT', `/api/2/things/${thingId}`, {
      ...(await as(sub)),
      body: { _policy },
    });
    expect(created.status).toBe(201);
    const policy = await svc.request('GET', `/api/2/policies/${thingId}`, await as(sub));
    expect(policy.json.entries.OWNER.subjects).toEqual({ [`idp:${sub}`]: { type: `creator idp:${sub}` } });
    expect((await svc.request('GET', `/api/2/things/${thingId}`, await as(sub))).status).toBe(200);
    expect((await svc.request('GET', `/api/2/things/${thingId}`)).status).toBe(404);
  });
});
