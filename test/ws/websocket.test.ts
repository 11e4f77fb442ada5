/**
 * The WebSocket binding `/ws/2` over a real socket (ditto-interfaces.md §5, §14.8): authentication,
 * control messages and their parameters, twin commands and their errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from './client.js';

let svc: TestService;
const open: TestWs[] = [];
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await svc.close();
});

let n = 0;
const newId = (ns = 'org.eclipse.ditto') => `${ns}:ws-${++n}-${Date.now()}`;
const enc = encodeURIComponent;
async function ws(user: string | null = 'ditto', query = ''): Promise<TestWs> {
  const c = await connectWs(svc.url, user, query);
  open.push(c);
  return c;
}
async function put(id: string, path: string, body: unknown, user = 'ditto:ditto') {
  const res = await svc.request('PUT', `/api/2/things/${enc(id)}${path}`, { body, auth: user });
  expect(res.status).toBeLessThan(300);
  return res;
}
const topicOf = (id: string, rest: string) => `${id.replace(':', '/')}/things/${rest}`;

describe('authentication', () => {
  it('refuses the upgrade without credentials with 401', async () => {
    await expect(connectWs(svc.url, null)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses the upgrade with a wrong password with 401', async () => {
    await expect(connectWs(svc.url, 'nobody')).rejects.toMatchObject({ status: 401 });
  });
});

describe('START-SEND-EVENTS', () => {
  it('is acknowledged and then delivers twin events with revision and timestamp', async () => {
    const c = await ws();
    await c.control('START-SEND-EVENTS');
    const id = newId();
    await put(id, '', { attributes: { a: 1 } });
    const created = await c.nextTopic(topicOf(id, 'twin/events/created'));
    expect(created).toMatchObject({ path: '/', revision: 1, value: { thingId: id, attributes: { a: 1 } } });
    expect(typeof created.timestamp).toBe('string');
    await put(id, '/attributes/a', 2);
    const modified = await c.nextTopic(topicOf(id, 'twin/events/modified'));
    expect(modified).toMatchObject({ path: '/attributes/a', value: 2, revision: 2 });
  });

  it('delivers events of every frame size intact (7-bit, 16-bit and 64-bit lengths)', async () => {
    const c = await ws();
    await c.control('START-SEND-EVENTS');
    const id = newId();
    await put(id, '', {});
    for (const size of [10, 1_000, 70_000]) {
      await put(id, '/attributes/blob', 'x'.repeat(size));
      const event = (await c.next(
        (f) =>
          typeof f !== 'string' &&
          String(f.topic).startsWith(topicOf(id, 'twin/events/')) &&
          f.path === '/attributes/blob' &&
          f.value.length === size,
      )) as Record<string, any>;
      expect(event.value).toBe('x'.repeat(size));
    }
  });

  it('stops delivering after STOP-SEND-EVENTS:ACK', async () => {
    const c = await ws();
    await c.control('START-SEND-EVENTS');
    await c.control('STOP-SEND-EVENTS');
    const id = newId();
    await put(id, '', {});
    await c.expectNone((f) => typeof f !== 'string' && String(f.topic).startsWith(id.replace(':', '/')));
  });

  it('delivers only the namespaces listed in `namespaces`', async () => {
    const c = await ws();
    await c.control('START-SEND-EVENTS?namespaces=ns.one,ns.two');
    const other = newId('ns.three');
    const wanted = newId('ns.two');
    await put(other, '', {});
    await put(wanted, '', {});
    const event = await c.nextTopic('/twin/events/created');
    expect(event.value.thingId).toBe(wanted);
    await c.expectNone((f) => typeof f !== 'string' && String(f.topic).startsWith('ns.three/'));
  });

  it('delivers only events matching the RQL `filter` (URL-encoded)', async () => {
    const c = await ws();
    await c.control(`START-SEND-EVENTS?filter=${enc('gt(attributes/temp,20)')}`);
    const id = newId();
    await put(id, '', { attributes: { temp: 10 } });
    await put(id, '/attributes/temp', 25);
    const event = await c.nextTopic(topicOf(id, 'twin/events/modified'));
    expect(event.value).toBe(25);
    await c.expectNone(
      (f) =>
        typeof f !== 'string' &&
        String(f.topic).endsWith('/created') &&
        String(f.topic).startsWith(id.replace(':', '/')),
    );
  });

  it('answers an invalid filter with an rql.expression.invalid error and no ACK', async () => {
    const c = await ws();
    c.send('START-SEND-EVENTS?filter=eq(attributes/x');
    const error = await c.nextTopic('unknown/unknown/things/twin/errors');
    expect(error).toMatchObject({ status: 400, value: { error: 'rql.expression.invalid' } });
    await c.expectNone((f) => f === 'START-SEND-EVENTS:ACK');
  });

  it('adds `extra` from `extraFields` and filters on it', async () => {
    const c = await ws();
    await c.control(
      `START-SEND-EVENTS?extraFields=attributes/location&filter=${enc('eq(attributes/location,"kitchen")')}`,
    );
    const id = newId();
    await put(id, '', { attributes: { location: 'kitchen', temp: 1 } });
    await put(id, '/attributes/temp', 2);
    const event = await c.nextTopic(topicOf(id, 'twin/events/modified'));
    expect(event.extra).toEqual({ attributes: { location: 'kitchen' } });
    const id2 = newId();
    await put(id2, '', { attributes: { location: 'garage', temp: 1 } });
    await put(id2, '/attributes/temp', 2);
    await c.expectNone((f) => typeof f !== 'string' && String(f.topic).startsWith(id2.replace(':', '/')));
  });

  it('projects event values with `fields` and skips events with nothing selected', async () => {
    const c = await ws();
    await c.control(`START-SEND-EVENTS?fields=${enc('thingId,attributes/a')}`);
    const id = newId();
    await put(id, '', { attributes: { a: 1, b: 2 }, features: { f: {} } });
    const created = await c.nextTopic(topicOf(id, 'twin/events/created'));
    expect(created.value).toEqual({ thingId: id, attributes: { a: 1 } });
    await put(id, '/attributes/b', 3);
    await put(id, '/attributes', { a: 5, b: 6 });
    const modified = await c.nextTopic(topicOf(id, 'twin/events/modified'));
    expect(modified).toMatchObject({ path: '/attributes', value: { a: 5 }, revision: 3 });
    await c.expectNone((f) => typeof f !== 'string' && f.path === '/attributes/b');
  });

  it('replaces the subscription when START is sent again with other parameters', async () => {
    const c = await ws();
    await c.control('START-SEND-EVENTS?namespaces=ns.a');
    await c.control('START-SEND-EVENTS?namespaces=ns.b');
    const a = newId('ns.a');
    const b = newId('ns.b');
    await put(a, '', {});
    await put(b, '', {});
    expect((await c.nextTopic('/twin/events/created')).value.thingId).toBe(b);
    await c.expectNone((f) => typeof f !== 'string' && String(f.topic).startsWith('ns.a/'));
  });
});

describe('the other control messages', () => {
  for (const kind of ['MESSAGES', 'LIVE-COMMANDS', 'LIVE-EVENTS', 'POLICY-ANNOUNCEMENTS']) {
    it(`acknowledges START-SEND-${kind} and STOP-SEND-${kind}`, async () => {
      const c = await ws();
      await c.control(`START-SEND-${kind}?namespaces=org.eclipse.ditto`);
      await c.control(`STOP-SEND-${kind}`);
    });
  }
});

describe('twin commands', () => {
  it('creates, modifies and retrieves a thing with responses correlated by correlation-id', async () => {
    const c = await ws();
    const id = newId();
    const created = await c.request({
      topic: topicOf(id, 'twin/commands/create'),
      headers: { 'correlation-id': 'create-1' },
      path: '/',
      value: { attributes: { a: 1 } },
    });
    expect(created).toMatchObject({
      topic: topicOf(id, 'twin/commands/create'),
      status: 201,
      headers: { 'correlation-id': 'create-1' },
    });
    const modified = await c.request({
      topic: topicOf(id, 'twin/commands/modify'),
      path: '/attributes/a',
      value: 5,
    });
    expect(modified.status).toBe(204);
    const retrieved = await c.request({ topic: topicOf(id, 'twin/commands/retrieve'), path: '/attributes' });
    expect(retrieved).toMatchObject({ status: 200, value: { a: 5 } });
    const merged = await c.request({
      topic: topicOf(id, 'twin/commands/merge'),
      path: '/attributes',
      value: { b: 2 },
    });
    expect(merged.status).toBe(204);
    const fields = await c.request({
      topic: topicOf(id, 'twin/commands/retrieve'),
      path: '/',
      fields: 'attributes/b',
    });
    expect(fields.value).toEqual({ attributes: { b: 2 } });
  });

  it('answers a failing command with an error on the thing topic', async () => {
    const c = await ws();
    const id = newId();
    const error = await c.request({ topic: topicOf(id, 'twin/commands/retrieve'), path: '/' });
    expect(error).toMatchObject({
      topic: topicOf(id, 'twin/errors'),
      status: 404,
      value: { error: 'things:thing.notfound' },
    });
  });

  it('answers invalid JSON with an error on the fallback topic', async () => {
    const c = await ws();
    c.send('{not json');
    const error = await c.nextTopic('unknown/unknown/things/twin/errors');
    expect(error.value.error).toBe('json.invalid');
  });

  it('answers an unknown topic with protocoladapter:unknown.topicpath', async () => {
    const c = await ws();
    const error = await c.request({ topic: 'a/b/things/nope/commands/modify', path: '/', value: 1 });
    expect(error.value.error).toBe('protocoladapter:unknown.topicpath');
  });

  it('sends no response with response-required:false', async () => {
    const c = await ws();
    const id = newId();
    c.send({
      topic: topicOf(id, 'twin/commands/create'),
      headers: { 'correlation-id': 'silent', 'response-required': false },
      path: '/',
      value: {},
    });
    await c.expectNone((f) => typeof f !== 'string' && f.headers?.['correlation-id'] === 'silent', 500);
    // Nobody waits for the create: on a loaded machine it may be durable (and readable) only after those 500 ms.
    const until = Date.now() + 5000;
    let res = await svc.request('GET', `/api/2/things/${enc(id)}`);
    while (res.status === 404 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
      res = await svc.request('GET', `/api/2/things/${enc(id)}`);
    }
    expect(res.status).toBe(200);
  });

  it('retrieves several things with a wildcard topic', async () => {
    const c = await ws();
    const a = newId();
    const b = newId();
    await put(a, '', { attributes: { n: 1 } });
    await put(b, '', { attributes: { n: 2 } });
    const response = await c.request({
      topic: '_/_/things/twin/commands/retrieve',
      path: '/',
      value: { thingIds: [a, b] },
      fields: 'thingId,attributes',
    });
    expect(response.status).toBe(200);
    expect(response.value).toEqual([
      { thingId: a, attributes: { n: 1 } },
      { thingId: b, attributes: { n: 2 } },
    ]);
  });

  it('generates a correlation-id when the command has none', async () => {
    const c = await ws();
    const id = newId();
    c.send({ topic: topicOf(id, 'twin/commands/create'), path: '/', value: {} });
    const response = await c.nextTopic(topicOf(id, 'twin/commands/create'));
    expect(response.headers['correlation-id']).toMatch(/[0-9a-f-]{36}/);
  });
});

describe('policy commands', () => {
  it('creates, retrieves and modifies a policy, and answers errors on the policies topic', async () => {
    const c = await ws();
    const policyId = newId();
    const topic = (action: string) => `${policyId.replace(':', '/')}/policies/commands/${action}`;
    const policy = {
      entries: {
        owner: {
          subjects: { 'nginx:ditto': { type: 'generated' } },
          resources: {
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
      },
    };
    expect((await c.request({ topic: topic('create'), path: '/', value: policy })).status).toBe(201);
    const subjects = await c.request({ topic: topic('retrieve'), path: '/entries/owner/subjects' });
    expect(subjects).toMatchObject({
      topic: topic('retrieve'),
      status: 200,
      value: { 'nginx:ditto': { type: 'generated' } },
    });
    const resource = await c.request({
      topic: topic('modify'),
      path: '/entries/owner/resources/message:/inbox',
      value: { grant: ['READ'], revoke: [] },
    });
    expect(resource.status).toBe(201);
    const read = await c.request({
      topic: topic('retrieve'),
      path: '/entries/owner/resources/message:/inbox',
    });
    expect(read.value).toEqual({ grant: ['READ'], revoke: [] });
    // An import's listed entries (`/imports/<id>/entries`); a policy cannot import itself.
    const other = newId();
    expect(
      (
        await c.request({
          topic: `${other.replace(':', '/')}/policies/commands/create`,
          path: '/',
          value: policy,
        })
      ).status,
    ).toBe(201);
    expect(
      (await c.request({ topic: topic('modify'), path: `/imports/${other}`, value: { entries: [] } })).status,
    ).toBe(201);
    expect(
      (await c.request({ topic: topic('modify'), path: `/imports/${other}/entries`, value: ['owner'] }))
        .status,
    ).toBe(204);
    expect((await c.request({ topic: topic('retrieve'), path: `/imports/${other}/entries` })).value).toEqual([
      'owner',
    ]);
    const self = await c.request({
      topic: topic('modify'),
      path: `/imports/${policyId}`,
      value: { entries: [] },
    });
    expect(self).toMatchObject({ status: 400, value: { error: 'policies:import.invalid' } });
    const missing = await c.request({
      topic: `${newId().replace(':', '/')}/policies/commands/retrieve`,
      path: '/',
    });
    expect(missing).toMatchObject({ status: 404, value: { error: 'policies:policy.notfound' } });
    expect(String(missing.topic)).toMatch(/\/policies\/errors$/);
  });
});
