/**
 * Bad input of issue 19 items 1-5, 7, 8 and 14, each with the status and Ditto error code it must get
 * (never a 5xx), over the transports that accept it, and the documented caps (small here) with their
 * 429/400 answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from '../ws/client.js';

const ns = `sec.bad${Date.now()}`;
const thing = `${ns}:t`;
const enc = encodeURIComponent;
const DEVOPS = 'devops:foobar';
const auth = (user: string) => `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`;
const deep = (op: string, n: number) => `${`${op}(`.repeat(n)}exists(thingId)${')'.repeat(n)}`;
const FAR_PAST = 'gt(_modified,time:now-99999999999999d)';

let svc: TestService;
const sockets: TestWs[] = [];

beforeAll(async () => {
  svc = await startTestService({
    TWINBRIDGE_WS_MAX_SESSIONS_PER_SUBJECT: '2',
    TWINBRIDGE_SSE_MAX_STREAMS_PER_SUBJECT: '2',
    TWINBRIDGE_WS_MAX_SEARCH_SUBSCRIPTIONS: '2',
    TWINBRIDGE_MAPPING_MAX_DEFINITIONS: '2',
    TWINBRIDGE_MAPPING_TRY_CONCURRENCY: '1',
  });
  expect(
    (await svc.request('PUT', `/api/2/things/${thing}`, { body: { attributes: { a: 1, 'tmp-1': 1 } } }))
      .status,
  ).toBe(201);
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await svc?.close();
});

async function ws(user = 'ditto'): Promise<TestWs> {
  const c = await connectWs(svc.url, user);
  sockets.push(c);
  return c;
}

function expectError(res: { status: number; json: any; text: string }, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.json, res.text).toMatchObject({ status, error: code });
  expect(typeof res.json.message).toBe('string');
}

describe('bad RQL', () => {
  const filters: Array<[string, string]> = [
    ['not() 1,000 deep', deep('not', 1000)],
    ['and() 1,000 deep', deep('and', 1000)],
    ['a time offset beyond the range of a date', FAR_PAST],
    ['a like pattern over 1,000 characters', `like(attributes/a,"${'*'.repeat(1001)}")`],
  ];
  for (const [what, filter] of filters) {
    it(`answers ${what} with 400 rql.expression.invalid on search, count, SSE search and SSE changes`, async () => {
      expectError(
        await svc.request('GET', `/api/2/search/things?filter=${enc(filter)}`),
        400,
        'rql.expression.invalid',
      );
      expectError(
        await svc.request('GET', `/api/2/search/things/count?filter=${enc(filter)}`),
        400,
        'rql.expression.invalid',
      );
      for (const path of ['/api/2/search/things', '/api/2/things']) {
        const res = await fetch(`${svc.url}${path}?filter=${enc(filter)}`, {
          headers: { accept: 'text/event-stream', authorization: auth('ditto') },
        });
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ status: 400, error: 'rql.expression.invalid' });
      }
    });
  }

  it('answers RQL 5,000 deep in a POST search body (beyond the URL limit) and as a condition with 400', async () => {
    for (const path of ['/api/2/search/things', '/api/2/search/things/count']) {
      const res = await svc.request('POST', path, {
        raw: new URLSearchParams({ filter: deep('or', 5000) }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      });
      expectError(res, 400, 'rql.expression.invalid');
    }
    expectError(
      await svc.request('GET', `/api/2/things/${thing}?condition=${enc(deep('not', 1000))}`),
      400,
      'things:condition.invalid',
    );
    expectError(
      await svc.request('GET', `/api/2/things/${thing}?condition=${enc(FAR_PAST)}`),
      400,
      'things:condition.invalid',
    );
  });

  it('answers deep and out-of-range RQL on the WebSocket: START-SEND-EVENTS errors without ACK, search subscriptions fail', async () => {
    const c = await ws();
    for (const filter of [deep('not', 5000), deep('and', 5000), FAR_PAST]) {
      c.send(`START-SEND-EVENTS?filter=${enc(filter)}`);
      const error = await c.nextTopic('unknown/unknown/things/twin/errors');
      expect(error).toMatchObject({ status: 400, value: { error: 'rql.expression.invalid' } });
      c.send({
        topic: '_/_/things/twin/search/subscribe',
        headers: { 'correlation-id': `deep-${filter.length}` },
        path: '/',
        value: { filter },
      });
      const { value } = (await c.nextTopic('/search/created')) as { value: { subscriptionId: string } };
      c.send({
        topic: '_/_/things/twin/search/request',
        headers: {},
        path: '/',
        value: { subscriptionId: value.subscriptionId, demand: 1 },
      });
      const failed = await c.nextTopic('/search/failed');
      expect(failed.value.error).toMatchObject({ status: 400, error: 'rql.expression.invalid' });
    }
    await c.expectNone((f) => f === 'START-SEND-EVENTS:ACK', 100);
  });

  it('answers field selectors nested 200 deep with 400 json.fieldselector.invalid', async () => {
    const fields = `${'a('.repeat(200)}b${')'.repeat(200)}`;
    expectError(
      await svc.request('GET', `/api/2/search/things?fields=${enc(fields)}`),
      400,
      'json.fieldselector.invalid',
    );
    expectError(
      await svc.request('GET', `/api/2/things/${thing}?fields=${enc(fields)}`),
      400,
      'json.fieldselector.invalid',
    );
  });
});

describe('bad cursors', () => {
  it('answers malformed, forged and foreign cursors with 400 thing-search:search.option.invalid', async () => {
    const first = await svc.request('GET', '/api/2/search/things?option=size(1)');
    expect(first.status).toBe(200);
    const forged = Buffer.from(JSON.stringify(['AAAAAAAAAAAAAAAA', ['zzz:z']])).toString('base64url');
    for (const cursor of ['!!!', 'AAAA', forged, `${first.json.cursor ?? forged}x`]) {
      expectError(
        await svc.request('GET', `/api/2/search/things?option=${enc(`size(1),cursor(${cursor})`)}`),
        400,
        'thing-search:search.option.invalid',
      );
    }
  });
});

describe('bad merge-patch deletion regexes', () => {
  const invalid = [
    '{{ ~(a~ }}',
    '{{ ~(a)\\1~ }}',
    '{{ ~(?<=a)b~ }}',
    `{{ ~${'a'.repeat(1001)}~ }}`,
    '{{ ~a{0,150}b{0,150}~ }}',
    '{{ /[z-a]/ }}',
  ];
  for (const key of invalid) {
    it(`answers ${key.slice(0, 30)} with 400 json.key.invalid over HTTP and WebSocket and stores nothing`, async () => {
      const before = await svc.request('GET', `/api/2/things/${thing}`);
      const res = await svc.request('PATCH', `/api/2/things/${thing}/attributes`, {
        body: { [key]: null, added: true },
      });
      expectError(res, 400, 'json.key.invalid');
      const c = await ws();
      const answer = await c.request({
        topic: `${ns}/t/things/twin/commands/merge`,
        headers: { 'content-type': 'application/merge-patch+json' },
        path: '/attributes',
        value: { [key]: null, added: true },
      });
      expect(answer).toMatchObject({ status: 400, value: { error: 'json.key.invalid' } });
      await c.close();
      const after = await svc.request('GET', `/api/2/things/${thing}`);
      expect(after.json).toEqual(before.json);
      expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    });
  }

  it('still deletes what a valid deletion key matches as a whole', async () => {
    expect(
      (await svc.request('PATCH', `/api/2/things/${thing}/attributes`, { body: { '{{ ~tmp-.*~ }}': null } }))
        .status,
    ).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${thing}/attributes`)).json).toEqual({ a: 1 });
  });
});

describe('caps', () => {
  /** Opens /ws/2 expecting a refusal; resolves with the HTTP status and body. */
  function refusedUpgrade(user: string): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${svc.url.replace(/^http/, 'ws')}/ws/2`, {
        headers: { authorization: auth(user) },
      });
      socket.once('open', () => {
        socket.close();
        reject(new Error('the upgrade was accepted'));
      });
      socket.once('unexpected-response', (req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        });
      });
      socket.once('error', () => undefined);
    });
  }

  it('refuses a third WebSocket session of one user with 429 too.many.requests, and admits one again after a close', async () => {
    const one = await connectWs(svc.url, 'alice');
    const two = await connectWs(svc.url, 'alice');
    const refused = await refusedUpgrade('alice');
    expect(refused).toMatchObject({ status: 429, body: { status: 429, error: 'too.many.requests' } });
    const other = await connectWs(svc.url, 'bob'); // another user is not affected
    await other.close();
    await one.close();
    let three: TestWs | undefined;
    for (let i = 0; i < 50 && !three; i++)
      three = await connectWs(svc.url, 'alice').catch(
        async () => (await new Promise((r) => setTimeout(r, 20)), undefined),
      );
    expect(three).toBeDefined();
    await three!.close();
    await two.close();
  });

  it('refuses a third SSE stream of one user with 429 too.many.requests', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const open = await Promise.all(
      controllers.map((c) =>
        fetch(`${svc.url}/api/2/things`, {
          headers: { accept: 'text/event-stream', authorization: auth('alice') },
          signal: c.signal,
        }),
      ),
    );
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await fetch(`${svc.url}/api/2/search/things`, {
      headers: { accept: 'text/event-stream', authorization: auth('alice') },
    });
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ status: 429, error: 'too.many.requests' });
    for (const c of controllers) c.abort();
  });

  it('answers a third search subscription of a session with too.many.requests', async () => {
    const c = await ws('bob');
    for (let i = 0; i < 2; i++) {
      c.send({
        topic: '_/_/things/twin/search/subscribe',
        headers: { 'correlation-id': `sub-${i}` },
        path: '/',
        value: {},
      });
      await c.nextTopic('/search/created');
    }
    c.send({
      topic: '_/_/things/twin/search/subscribe',
      headers: { 'correlation-id': 'sub-3' },
      path: '/',
      value: {},
    });
    const error = await c.nextTopic('/errors');
    expect(error).toMatchObject({ status: 429, value: { error: 'too.many.requests' } });
  });

  const js = (script = 'function mapToDittoProtocolMsg() { return null; }') => ({
    mappingEngine: 'JavaScript',
    options: { incomingScript: script, outgoingScript: '' },
  });

  it('answers more mappingDefinitions than the cap with 400 in mappings/try and on connections', async () => {
    const mappingDefinitions = { a: js(), b: js(), c: js() };
    const tried = await svc.request('POST', '/api/2/mappings/try', {
      auth: DEVOPS,
      body: {
        mappingDefinitions,
        payloadMapping: ['a'],
        direction: 'incoming',
        message: { headers: {}, textPayload: 'x' },
      },
    });
    expectError(tried, 400, 'connectivity:message.mapper.config.invalid');
    expect(tried.json.message).toContain('more than the limit of 2');
    const connection = {
      name: 'capped',
      connectionType: 'mqtt',
      connectionStatus: 'closed',
      uri: 'tcp://127.0.0.1:1883',
      sources: [{ addresses: ['a/#'], authorizationContext: ['nginx:ditto'], qos: 1, payloadMapping: ['a'] }],
      targets: [],
      mappingDefinitions,
    };
    const created = await svc.request('POST', '/api/2/connections', { auth: DEVOPS, body: connection });
    expectError(created, 400, 'connectivity:connection.configuration.invalid');
    expect(created.json.message).toContain('more than the limit of 2');
  });

  it('answers a mapping try while another one runs with 429 too.many.requests', async () => {
    // A script that takes about 400 ms to load (under the 500 ms limit) holds the only slot meanwhile.
    const slow = js(
      'var until = Date.now() + 400; while (Date.now() < until) {} function mapToDittoProtocolMsg() { return null; }',
    );
    const body = (definition: unknown) => ({
      mappingDefinitions: { m: definition },
      payloadMapping: ['m'],
      direction: 'incoming',
      message: { headers: {}, textPayload: 'x' },
    });
    let done = false;
    const running = svc
      .request('POST', '/api/2/mappings/try', { auth: DEVOPS, body: body(slow) })
      .finally(() => (done = true));
    const statuses: number[] = [];
    while (!done) {
      const res = await svc.request('POST', '/api/2/mappings/try', { auth: DEVOPS, body: body(js()) });
      statuses.push(res.status);
      if (res.status === 429) expect(res.json).toMatchObject({ status: 429, error: 'too.many.requests' });
      else expect(res.status).toBe(200);
    }
    expect((await running).status).toBe(200);
    expect(statuses).toContain(429);
  });
});
