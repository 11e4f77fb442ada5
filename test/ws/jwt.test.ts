/**
 * WebSocket sessions authenticated by a JWT (ditto-interfaces.md §5, §8) against a real local OpenID
 * Connect provider: `access_token`, session expiry with `gateway:websocket.session.expired`, and the
 * `JWT-TOKEN` refresh (same subjects extend the session; other subjects close it).
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/jwks.js';
import { TestWs } from './client.js';

let idp: TestIdentityProvider;
let svc: TestService;
beforeAll(async () => {
  idp = await startIdentityProvider();
  await idp.addKey();
  svc = await startTestService({
    TWINBRIDGE_OIDC_ISSUERS: JSON.stringify({ keycloak: { issuer: idp.issuer } }),
  });
});
afterAll(async () => {
  await svc?.close();
  await idp?.close();
});

async function connect(token: string): Promise<TestWs> {
  const socket = new WebSocket(`${svc.url.replace('http', 'ws')}/ws/2?access_token=${token}`);
  const client = new TestWs(socket);
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
  return client;
}

it('opens a session with access_token and acts as the token subject', async () => {
  const c = await connect(await idp.sign({ sub: 'ws-user' }));
  const response = await c.request({
    topic: 'org.eclipse.ditto/jwt-thing/things/twin/commands/create',
    path: '/',
    value: {},
  });
  expect(response.status).toBe(201);
  // The default policy names the token subject only: the basic user `ditto` cannot see the thing.
  const retrieved = await c.request({
    topic: 'org.eclipse.ditto/jwt-thing/things/twin/commands/retrieve',
    path: '/policyId',
  });
  expect(retrieved.status).toBe(200);
  expect((await svc.request('GET', '/api/2/things/org.eclipse.ditto:jwt-thing')).status).toBe(404);
  await c.close();
});

it('ends the session with gateway:websocket.session.expired when the token expires', async () => {
  const c = await connect(await idp.sign({ sub: 'short' }, { expiresIn: 2 }));
  const error = await c.nextTopic('/errors', () => true, 4000);
  expect(error.value).toMatchObject({ status: 401, error: 'gateway:websocket.session.expired' });
  expect((await c.closed()).code).toBe(1008);
});

it('extends the session with JWT-TOKEN of the same subject', async () => {
  // `exp` is in whole seconds: the first token lasts 2 to 3 s, time enough to connect and renew on a loaded machine.
  const renewal = await idp.sign({ sub: 'renew' }, { expiresIn: 60 });
  const c = await connect(await idp.sign({ sub: 'renew' }, { expiresIn: 3 }));
  c.send(`JWT-TOKEN?jwtToken=${renewal}`);
  await new Promise((r) => setTimeout(r, 4000));
  expect(c.closedWith).toBeUndefined();
  await c.control('START-SEND-EVENTS');
  await c.close();
});

it('closes the session with gateway:websocket.session.closed for a token of other subjects', async () => {
  const c = await connect(await idp.sign({ sub: 'first' }));
  c.send(`JWT-TOKEN?jwtToken=${await idp.sign({ sub: 'second' })}`);
  const error = await c.nextTopic('/errors');
  expect(error.value).toMatchObject({ status: 403, error: 'gateway:websocket.session.closed' });
  expect((await c.closed()).code).toBe(1008);
});

it('closes the session with gateway:websocket.session.closed for an invalid token', async () => {
  const c = await connect(await idp.sign({ sub: 'third' }));
  c.send('JWT-TOKEN?jwtToken=not.a.token');
  const error = await c.nextTopic('/errors');
  expect(error.value).toMatchObject({ status: 403, error: 'gateway:websocket.session.closed' });
  expect((await c.closed()).code).toBe(1008);
});
