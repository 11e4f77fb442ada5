/**
 * Issue 19 items 9 and 11: every answer to a malformed or unroutable HTTP request is Ditto's error JSON with
 * the right status (never fastify's own format, never a 5xx for the client's mistake), and every 5xx is
 * logged exactly once with its correlation id and the stack of its cause.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs } from '../ws/client.js';

let svc: TestService;
const lines: Array<Record<string, any>> = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  svc = await startTestService({}, { logger: pino({ level: 'info' }, sink) });
});
afterAll(async () => {
  await svc?.close();
});

/** Asserts Ditto's error JSON with this status and code (and nothing of fastify's format). */
function expectDittoError(
  res: { status: number; json: any; headers: Headers },
  status: number,
  code: string,
) {
  expect(res.status).toBe(status);
  expect(res.json).toMatchObject({ status, error: code });
  expect(typeof res.json.message).toBe('string');
  expect(res.json).not.toHaveProperty('statusCode');
  expect(res.json).not.toHaveProperty('code');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/** Sends raw bytes on a socket and returns what the server answered before closing. */
async function raw(text: string): Promise<string> {
  const url = new URL(svc.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(text));
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('unroutable requests', () => {
  it('answers a known path with an unknown method 405 gateway:method.notallowed with Allow', async () => {
    for (const method of ['QUERY', 'PROPFIND', 'POST', 'MKCOL']) {
      const res = await svc.request(method, '/api/2/things/org.eclipse.ditto:t1');
      expectDittoError(res, 405, 'gateway:method.notallowed');
      expect(res.headers.get('allow')).toBe('GET, HEAD, PUT, PATCH, DELETE');
    }
    const query = await svc.request('QUERY', '/api/2/search/things', {
      raw: 'filter=exists(thingId)',
      contentType: 'application/x-www-form-urlencoded',
    });
    expectDittoError(query, 405, 'gateway:method.notallowed');
    expect(query.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('answers an unknown path 404 gateway:route.notfound, whatever the method and body', async () => {
    for (const method of ['GET', 'PUT', 'QUERY', 'DELETE']) {
      const res = await svc.request(
        method,
        '/api/2/nothing/here',
        method === 'GET' ? {} : { raw: '{', contentType: 'application/json' },
      );
      expectDittoError(res, 404, 'gateway:route.notfound');
    }
  });

  it('answers malformed percent escapes 400 uri.invalid', async () => {
    for (const path of [
      '/api/2/things/org.eclipse.ditto:%zz',
      '/api/2/things/%',
      '/api/2/policies/a:%E0%A4%A',
      '/api/2/things/a:b/attributes/%',
    ]) {
      expectDittoError(await svc.request('GET', path), 400, 'uri.invalid');
    }
  });

  it('answers overlong URIs 414 gateway:uri.toolong and overlong IDs 400 things:id.invalid', async () => {
    expectDittoError(
      await svc.request('GET', `/api/2/things/a:${'x'.repeat(9000)}`),
      414,
      'gateway:uri.toolong',
    );
    expectDittoError(
      await svc.request('GET', `/api/2/things?ids=a:${'x'.repeat(9000)}`),
      414,
      'gateway:uri.toolong',
    );
    expectDittoError(
      await svc.request('PUT', `/api/2/things/a:${'x'.repeat(300)}`, { body: {} }),
      400,
      'things:id.invalid',
    );
  });

  it('answers a request the HTTP parser refuses with 400 request.invalid as Ditto JSON', async () => {
    for (const request of [
      'BREW /api/2/things HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/2/things HTTP/1.1\r\nHost: x\r\nBad\x01Header: 1\r\n\r\n',
    ]) {
      const answer = await raw(request);
      expect(answer).toMatch(/^HTTP\/1.1 400 /);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body).toMatchObject({ status: 400, error: 'request.invalid' });
    }
  });

  it('answers headers over the limit with 431 headers.too.large', async () => {
    const answer = await raw(`GET /api/2/things HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1.1 431 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 431,
      error: 'headers.too.large',
    });
  });
});

describe("fastify's own body errors", () => {
  const id = 'org.eclipse.ditto:body-errors';
  it('renders 415, 413, empty and invalid JSON as Ditto errors and stores nothing', async () => {
    expectDittoError(
      await svc.request('PUT', `/api/2/things/${id}`, { raw: '{}', contentType: 'text/plain' }),
      415,
      'mediatype.unsupported',
    );
    expectDittoError(
      await svc.request('PUT', `/api/2/things/${id}`, { raw: '{}', contentType: 'not a media type' }),
      415,
      'mediatype.unsupported',
    );
    expectDittoError(
      await svc.request('PATCH', `/api/2/things/${id}`, { raw: '{}', contentType: 'application/json' }),
      415,
      'mediatype.unsupported',
    );
    const big = `{"a":"${'x'.repeat(1024 * 1024)}"}`;
    expectDittoError(
      await svc.request('PUT', `/api/2/things/${id}`, { raw: big }),
      413,
      'things:thing.toolarge',
    );
    expectDittoError(
      await svc.request('PUT', `/api/2/policies/${id}`, { raw: big }),
      413,
      'policies:policy.toolarge',
    );
    expectDittoError(
      await svc.request('POST', `/api/2/things/${id}/inbox/messages/m`, { raw: big }),
      413,
      'messages:payload.toolarge',
    );
    expectDittoError(
      await svc.request('POST', '/api/2/connections', { raw: big, auth: 'devops:foobar' }),
      413,
      'request.toolarge',
    );
    expectDittoError(await svc.request('PUT', `/api/2/things/${id}`, { raw: '' }), 400, 'json.invalid');
    expectDittoError(await svc.request('PUT', `/api/2/things/${id}`, { raw: '{"a":' }), 400, 'json.invalid');
    expectDittoError(await svc.request('PUT', `/api/2/policies/${id}`, { raw: '' }), 400, 'json.invalid');
    expectDittoError(
      await svc.request('POST', '/api/2/connections', { raw: '[', auth: 'devops:foobar' }),
      400,
      'json.invalid',
    );
    expectDittoError(await svc.request('GET', `/api/2/things/${id}`), 404, 'things:thing.notfound');
    expectDittoError(await svc.request('GET', `/api/2/policies/${id}`), 404, 'policies:policy.notfound');
  });
});

describe('a 5xx', () => {
  const failures = () => lines.filter((l) => l.msg === 'request failed');

  it('is logged exactly once with its correlation id and the stack of its cause, on every route family', async () => {
    const { services } = svc;
    const restore: Array<() => void> = [];
    const fail = <T extends object>(target: T, method: keyof T, message: string) => {
      const original = target[method];
      (target as any)[method] = () => {
        throw new Error(message);
      };
      restore.push(() => ((target as any)[method] = original));
    };
    fail(services.store, 'write', 'the disk is on fire');
    fail(services.live, 'sendMessage', 'the live router is on fire');
    fail(services.live, 'sendCommand', 'the live commands are on fire');
    fail(services.registry, 'subscribe', 'the registry is on fire');
    try {
      const cases: Array<[string, string, Parameters<TestService['request']>[2], string]> = [
        ['PUT', '/api/2/things/org.eclipse.ditto:on-fire', { body: {} }, 'the disk is on fire'],
        [
          'POST',
          '/api/2/things/org.eclipse.ditto:on-fire/inbox/messages/hello',
          { raw: 'hi', contentType: 'text/plain' },
          'the live router is on fire',
        ],
        [
          'PUT',
          '/api/2/things/org.eclipse.ditto:on-fire/attributes/a?channel=live',
          { body: 1 },
          'the live commands are on fire',
        ],
        ['GET', '/api/2/things', { headers: { accept: 'text/event-stream' } }, 'the registry is on fire'],
      ];
      for (const [method, path, options, message] of cases) {
        const correlationId = `fire-${lines.length}-${method}`;
        const before = failures().length;
        const res = await svc.request(method, path, {
          ...options,
          headers: { ...options?.headers, 'correlation-id': correlationId },
        });
        if (res.headers.get('content-type') === 'text/event-stream') {
          // The stream had opened: the error is its last event, then it ends.
          expect(res.text).toMatch(/data:\{"status":500,"error":"internalerror".*\}\n\n$/);
        } else {
          expectDittoError(res, 500, 'internalerror');
          expect(res.headers.get('correlation-id')).toBe(correlationId);
        }
        expect(res.text).not.toContain('on fire');
        const logged = failures().slice(before);
        expect(logged, `${method} ${path}`).toHaveLength(1);
        expect(logged[0]).toMatchObject({ level: 50, correlationId, method, status: 500 });
        expect(logged[0].err.message).toBe(message);
        expect(logged[0].err.stack).toContain('Error: ' + message);
      }
    } finally {
      for (const undo of restore) undo();
    }
  });

  it('gets a correlation id when the request had none, the same in the answer and the log', async () => {
    const { services } = svc;
    const original = services.store.write;
    services.store.write = () => Promise.reject(new Error('the disk is still on fire'));
    try {
      const before = failures().length;
      const res = await svc.request('PUT', '/api/2/things/org.eclipse.ditto:on-fire-2', { body: {} });
      expectDittoError(res, 500, 'internalerror');
      const logged = failures().slice(before);
      expect(logged).toHaveLength(1);
      expect(res.headers.get('correlation-id')).toBeTruthy();
      expect(logged[0].correlationId).toBe(res.headers.get('correlation-id'));
    } finally {
      services.store.write = original;
    }
  });

  it('over WebSocket is logged once with its correlation id and cause, and answered as internalerror', async () => {
    const { services } = svc;
    const original = services.store.write;
    services.store.write = () => Promise.reject(new Error('the websocket disk is on fire'));
    const ws = await connectWs(svc.url);
    try {
      const before = lines.length;
      const answer = await ws.request({
        topic: 'org.eclipse.ditto/ws-fire/things/twin/commands/create',
        headers: { 'correlation-id': 'ws-fire-1' },
        path: '/',
        value: {},
      });
      expect(answer).toMatchObject({ status: 500, value: { error: 'internalerror' } });
      expect(JSON.stringify(answer)).not.toContain('on fire');
      const logged = lines.slice(before).filter((l) => l.msg === 'websocket signal failed');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 50, correlationId: 'ws-fire-1', status: 500 });
      expect(logged[0].err.stack).toContain('the websocket disk is on fire');
    } finally {
      ws.socket.close();
      services.store.write = original;
    }
  });

  it('is not logged for a client error', async () => {
    const before = lines.length;
    await svc.request('PUT', '/api/2/things/org.eclipse.ditto:fine', { raw: '{' });
    await svc.request('QUERY', '/api/2/things/org.eclipse.ditto:fine');
    expect(lines.slice(before).filter((l) => l.level >= 40)).toEqual([]);
  });
});
