/**
 * Live messages over HTTP (ditto-interfaces.md §2.6, §13): inbox and outbox of things and features,
 * claim, raw bodies of any content type, the first response's status/body/content type, timeouts,
 * 202 for timeout=0, permissions and the payload limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from '../ws/client.js';

let svc: TestService;
let device: TestWs;
beforeAll(async () => {
  svc = await startTestService();
  device = await connectWs(svc.url, 'ditto');
  await device.control('START-SEND-MESSAGES');
});
afterAll(async () => {
  await device.close();
  await svc.close();
});

let n = 0;
async function newThing(body: unknown = {}): Promise<string> {
  const id = `org.eclipse.ditto:msg-${++n}-${Date.now()}`;
  expect((await svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, { body })).status).toBe(201);
  return id;
}
const enc = encodeURIComponent;

/** Answers the next message whose topic ends with `suffix` with `status`, `value`, `contentType`. */
async function answer(suffix: string, status: number, value?: unknown, contentType = 'application/json') {
  const message = await device.nextTopic(suffix);
  const response: Record<string, unknown> = {
    topic: message.topic,
    headers: { 'correlation-id': message.headers['correlation-id'], 'content-type': contentType },
    path: message.path.replace('/inbox/', '/outbox/'),
    status,
  };
  if (value !== undefined) response.value = value;
  device.send(response);
  return message;
}

describe('POST inbox messages', () => {
  it('delivers the raw text body with its content type and returns the response status, body and type', async () => {
    const id = await newThing();
    const pending = svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/ask`, {
      raw: 'Hey, how are you?',
      contentType: 'text/plain',
    });
    const message = await answer('/messages/ask', 418, 'I am a coffee machine.', 'text/plain');
    expect(message).toMatchObject({
      path: '/inbox/messages/ask',
      value: 'Hey, how are you?',
      headers: { 'content-type': 'text/plain' },
    });
    const res = await pending;
    expect(res.status).toBe(418);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toBe('I am a coffee machine.');
  });

  it('keeps JSON as JSON and binary content as base64 in the protocol', async () => {
    const id = await newThing();
    const json = svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/json`, { body: { a: [1, 2] } });
    expect((await answer('/messages/json', 200, { ok: true })).value).toEqual({ a: [1, 2] });
    const jsonRes = await json;
    expect(jsonRes.json).toEqual({ ok: true });

    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const binary = fetch(`${svc.url}/api/2/things/${enc(id)}/inbox/messages/bin`, {
      method: 'POST',
      body: bytes,
      headers: {
        'content-type': 'application/octet-stream',
        authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}`,
      },
    });
    const message = await answer(
      '/messages/bin',
      200,
      Buffer.from([9, 8, 7]).toString('base64'),
      'application/octet-stream',
    );
    expect(Buffer.from(message.value, 'base64')).toEqual(bytes);
    const binRes = await binary;
    expect(Buffer.from(await binRes.arrayBuffer())).toEqual(Buffer.from([9, 8, 7]));
  });

  it('supports multi-segment subjects and feature inboxes and outboxes', async () => {
    const id = await newThing({ features: { lamp: {} } });
    const pending = svc.request('POST', `/api/2/things/${enc(id)}/features/lamp/inbox/messages/a/b/c`, {
      raw: 'x',
      contentType: 'text/plain',
    });
    const message = await answer('/messages/a/b/c', 204);
    expect(message.path).toBe('/features/lamp/inbox/messages/a/b/c');
    const res = await pending;
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    const outbox = svc.request('POST', `/api/2/things/${enc(id)}/outbox/messages/status?timeout=5s`, {
      raw: 'up',
      contentType: 'text/plain',
    });
    const out = await answer('/messages/status', 200, 'seen', 'text/plain');
    expect(out.path).toBe('/outbox/messages/status');
    expect((await outbox).text).toBe('seen');
  });

  it('answers 408 when no response arrives within the timeout', async () => {
    const id = await newThing();
    const started = Date.now();
    const res = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/nobody?timeout=300ms`, {
      raw: 'x',
      contentType: 'text/plain',
    });
    expect(res.status).toBe(408);
    expect(res.json.error).toBe('messages:message.timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await device.nextTopic('/messages/nobody'); // it was delivered; nobody answered
  });

  it('answers 202 at once for timeout=0 and still delivers the message', async () => {
    const id = await newThing();
    const res = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/fire?timeout=0`, {
      raw: 'and forget',
      contentType: 'text/plain',
    });
    expect(res.status).toBe(202);
    expect((await device.nextTopic('/messages/fire')).value).toBe('and forget');
  });

  it('refuses a timeout above 60 s with 400 timeout.invalid', async () => {
    const id = await newThing();
    const res = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/x?timeout=61`, {
      raw: 'x',
      contentType: 'text/plain',
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('timeout.invalid');
  });

  it('refuses payloads above 250 kB with 413', async () => {
    const id = await newThing();
    const res = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/big`, {
      raw: 'x'.repeat(250 * 1024 + 1),
      contentType: 'text/plain',
    });
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('messages:payload.toolarge');
  });

  it('answers 404 for a missing thing and for a thing the sender cannot read', async () => {
    const missing = await svc.request(
      'POST',
      `/api/2/things/${enc('org.eclipse.ditto:nope')}/inbox/messages/x`,
      { raw: 'x', contentType: 'text/plain' },
    );
    expect(missing.status).toBe(404);
    const id = await newThing();
    const foreign = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/x`, {
      raw: 'x',
      contentType: 'text/plain',
      auth: 'alice:alice',
    });
    expect(foreign.status).toBe(404);
  });

  it('answers 403 without WRITE on the message resource', async () => {
    const id = `org.eclipse.ditto:msg-ro-${Date.now()}`;
    const policy = {
      entries: {
        owner: {
          subjects: { 'nginx:ditto': { type: 'generated' } },
          resources: {
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
        reader: {
          subjects: { 'nginx:bob': { type: 'generated' } },
          resources: {
            'thing:/': { grant: ['READ'], revoke: [] },
            'message:/inbox/messages/allowed': { grant: ['WRITE'], revoke: [] },
          },
        },
      },
    };
    expect((await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { _policy: policy } })).status).toBe(
      201,
    );
    const denied = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/other?timeout=0`, {
      raw: 'x',
      contentType: 'text/plain',
      auth: 'bob:bob',
    });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toBe('messages:send.notallowed');
    const allowed = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/allowed?timeout=0`, {
      raw: 'x',
      contentType: 'text/plain',
      auth: 'bob:bob',
    });
    expect(allowed.status).toBe(202);
    await device.nextTopic('/messages/allowed');
  });
});

describe('POST inbox/claim', () => {
  it('needs no WRITE permission and is delivered with subject claim', async () => {
    const id = `org.eclipse.ditto:claim-${Date.now()}`;
    const policy = {
      entries: {
        owner: {
          subjects: { 'nginx:ditto': { type: 'generated' } },
          resources: {
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
        claimer: {
          subjects: { 'nginx:bob': { type: 'generated' } },
          resources: { 'thing:/attributes': { grant: ['READ'], revoke: [] } },
        },
      },
    };
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { _policy: policy, attributes: {} } }))
        .status,
    ).toBe(201);
    const pending = svc.request('POST', `/api/2/things/${enc(id)}/inbox/claim`, {
      body: { code: 1234 },
      auth: 'bob:bob',
    });
    const message = await answer('/messages/claim', 200, { granted: true });
    expect(message.path).toBe('/inbox/messages/claim');
    expect((await pending).json).toEqual({ granted: true });
  });
});
