/**
 * The live channel through an HTTP push target (§2.6, §9, §10, §11.6) against a local HTTP server: live
 * messages and live commands reach targets subscribed to them (namespaces, READ on the `message:` resource),
 * the endpoint's HTTP response is the message response when the target issues `live-response` (status, body,
 * content type; a Ditto Protocol body as such), and the issued acknowledgement of a custom label when not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { expectValid } from '../unit/protocol/schemas.js';
import { createOpenConnection, DEVOPS, uniquePrefix, waitFor } from './helpers.js';

interface Recorded {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the endpoint answers for a path prefix; `body` may compute the answer from the request. */
interface Answer {
  status: number;
  contentType?: string;
  body: string | ((request: Recorded) => string);
}

let service: TestService;
let server: http.Server;
let base = '';
const recorded: Recorded[] = [];
const answers = new Map<string, Answer>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      recorded.push(request);
      const answer = [...answers.entries()].find(([prefix]) => req.url!.startsWith(prefix))?.[1] ?? {
        status: 204,
        body: '',
      };
      if (answer.contentType !== undefined) res.setHeader('content-type', answer.contentType);
      res.statusCode = answer.status;
      res.end(typeof answer.body === 'function' ? answer.body(request) : answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
  await new Promise((r) => server?.close(r));
});

/** Namespaces allow no `-`. */
const ns = (prefix: string) => prefix.replace(/-/g, '_');
const requestsFor = (prefix: string) => recorded.filter((r) => r.url.startsWith(`/${prefix}/`));

function connection(prefix: string, target: Record<string, unknown>) {
  return {
    name: `live ${prefix}`,
    connectionType: 'http-push',
    connectionStatus: 'open',
    uri: base,
    sources: [],
    targets: [
      {
        address: `POST:/${prefix}/{{ thing:id }}/{{ topic:subject | fn:default(topic:action) }}`,
        topics: [`_/_/things/live/messages?namespaces=${ns(prefix)}`],
        authorizationContext: ['nginx:ditto'],
        issuedAcknowledgementLabel: 'live-response',
        ...target,
      },
    ],
  };
}

async function thing(prefix: string, name: string, body: Record<string, unknown> = {}): Promise<string> {
  const thingId = `${ns(prefix)}:${name}`;
  const res = await service.request('PUT', `/api/2/things/${thingId}`, {
    body: { attributes: { counter: 0 }, ...body },
  });
  expect(res.status).toBe(201);
  return thingId;
}

const ask = (thingId: string, subject: string, headers: Record<string, string> = {}) =>
  service.request('POST', `/api/2/things/${thingId}/inbox/messages/${subject}`, {
    body: { question: 'the answer?' },
    headers,
  });

it('answers an HTTP message with the JSON response of the http-push endpoint (target label live-response)', async () => {
  const prefix = uniquePrefix('live');
  answers.set(`/${prefix}/`, { status: 200, contentType: 'application/json', body: '{"answer":42}' });
  const thingId = await thing(prefix, 'a');
  const id = await createOpenConnection(service.request, connection(prefix, {}));

  const res = await ask(thingId, 'ask', { 'correlation-id': `${prefix}-1`, 'x-custom': 'kept' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.json).toEqual({ answer: 42 });
  const [request] = requestsFor(prefix);
  expect(request.url).toBe(`/${prefix}/${thingId}/ask`);
  expect(request.headers['content-type']).toBe('application/vnd.eclipse.ditto+json');
  const message = JSON.parse(request.body);
  expectValid('protocol-envelope.json', message);
  expect(message).toMatchObject({
    topic: `${ns(prefix)}/a/things/live/messages/ask`,
    path: '/inbox/messages/ask',
    value: { question: 'the answer?' },
    headers: { 'correlation-id': `${prefix}-1`, 'content-type': 'application/json', 'x-custom': 'kept' },
  });
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('passes a non-2xx status and a text body of the endpoint on as the message response', async () => {
  const prefix = uniquePrefix('live');
  answers.set(`/${prefix}/`, { status: 418, contentType: 'text/plain', body: 'I am a teapot.' });
  const thingId = await thing(prefix, 'b');
  const id = await createOpenConnection(service.request, connection(prefix, {}));

  const res = await ask(thingId, 'brew');
  expect(res.status).toBe(418);
  expect(res.headers.get('content-type')).toContain('text/plain');
  expect(res.text).toBe('I am a teapot.');
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('takes a Ditto Protocol message response in the body as the response', async () => {
  const prefix = uniquePrefix('live');
  answers.set(`/${prefix}/`, {
    status: 200,
    contentType: 'application/vnd.eclipse.ditto+json',
    body: (request) => {
      const message = JSON.parse(request.body);
      const response = {
        topic: message.topic,
        headers: { 'correlation-id': message.headers['correlation-id'], 'content-type': 'application/json' },
        path: '/outbox/messages/ask',
        status: 201,
        value: { from: 'protocol' },
      };
      expectValid('protocol-response.json', response);
      return JSON.stringify(response);
    },
  });
  const thingId = await thing(prefix, 'c');
  const id = await createOpenConnection(service.request, connection(prefix, {}));

  const res = await ask(thingId, 'ask');
  expect(res.status).toBe(201);
  expect(res.json).toEqual({ from: 'protocol' });
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('delivers only messages the target subjects may READ and in its namespaces; others time out with 408', async () => {
  const prefix = uniquePrefix('live');
  answers.set(`/${prefix}/`, { status: 200, contentType: 'application/json', body: '{"seen":true}' });
  // nginx:bob may read the thing and the `public` messages, not `secret` ones.
  const policy = {
    entries: {
      owner: {
        subjects: { 'nginx:ditto': { type: 'test' } },
        resources: {
          'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
          'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
          'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
        },
      },
      observer: {
        subjects: { 'nginx:bob': { type: 'test' } },
        resources: {
          'thing:/': { grant: ['READ'], revoke: [] },
          'message:/inbox/messages/public': { grant: ['READ'], revoke: [] },
        },
      },
    },
  };
  const thingId = await thing(prefix, 'd', { _policy: policy });
  const elsewhere = await thing(`${prefix}-other`, 'e');
  const id = await createOpenConnection(
    service.request,
    connection(prefix, { authorizationContext: ['nginx:bob'] }),
  );

  const secret = await ask(thingId, 'secret', { timeout: '1s' });
  expect(secret.status).toBe(408);
  expect(secret.json).toMatchObject({ status: 408, error: 'messages:message.timeout' });
  const otherNamespace = await ask(elsewhere, 'public', { timeout: '1s' });
  expect(otherNamespace.status).toBe(408);
  expect(requestsFor(prefix)).toEqual([]);

  const visible = await ask(thingId, 'public');
  expect(visible.status).toBe(200);
  expect(visible.json).toEqual({ seen: true });
  expect(requestsFor(prefix).map((r) => r.url)).toEqual([`/${prefix}/${thingId}/public`]);
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('answers a live command with the Ditto Protocol command response of the endpoint', async () => {
  const prefix = uniquePrefix('live');
  answers.set(`/${prefix}/`, {
    status: 200,
    contentType: 'application/vnd.eclipse.ditto+json',
    body: (request) => {
      const command = JSON.parse(request.body);
      return JSON.stringify({
        topic: command.topic,
        headers: { 'correlation-id': command.headers['correlation-id'] },
        path: command.path,
        status: 200,
        value: 'from the device',
      });
    },
  });
  const thingId = await thing(prefix, 'f');
  const id = await createOpenConnection(
    service.request,
    connection(prefix, { topics: [`_/_/things/live/commands?namespaces=${ns(prefix)}`] }),
  );

  const res = await service.request('GET', `/api/2/things/${thingId}/attributes/counter?channel=live`);
  expect(res.status).toBe(200);
  expect(res.json).toBe('from the device');
  const [request] = requestsFor(prefix);
  expect(request.url).toBe(`/${prefix}/${thingId}/retrieve`);
  expect(JSON.parse(request.body)).toMatchObject({
    topic: `${ns(prefix)}/f/things/live/commands/retrieve`,
    path: '/attributes/counter',
  });
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('issues a custom label with the HTTP status and body of the endpoint as the acknowledgement', async () => {
  const prefix = uniquePrefix('live');
  const thingId = await thing(prefix, 'g');
  const id = await createOpenConnection(
    service.request,
    connection(prefix, {
      address: `PUT:/${prefix}/{{ thing:id }}`,
      topics: [`_/_/things/twin/events?namespaces=${ns(prefix)}`],
      issuedAcknowledgementLabel: '{{connection:id}}:pushed',
    }),
  );
  const label = `${id}:pushed`;
  const put = (value: number) =>
    service.request('PUT', `/api/2/things/${thingId}/attributes/counter`, {
      body: value,
      headers: { 'requested-acks': `twin-persisted,${label}`, 'correlation-id': `${prefix}-${value}` },
    });

  answers.set(`/${prefix}/`, { status: 418, contentType: 'application/json', body: '{"reason":"teapot"}' });
  const failed = await put(1);
  expect(failed.status).toBe(424);
  expect(failed.json['twin-persisted']).toMatchObject({ status: 204 });
  expect(failed.json[label]).toEqual({
    status: 418,
    payload: { reason: 'teapot' },
    headers: { 'correlation-id': `${prefix}-1`, 'content-type': 'application/json' },
  });

  answers.set(`/${prefix}/`, { status: 202, contentType: 'text/plain', body: 'stored' });
  const fine = await put(2);
  expect(fine.status).toBe(200);
  expect(fine.json[label]).toMatchObject({ status: 202, payload: 'stored' });
  await waitFor(() => requestsFor(prefix).length === 2, 'two requests');
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('weak-acknowledges its label for signals the target does not subscribe to (§9)', async () => {
  const prefix = uniquePrefix('live');
  const thingId = await thing(prefix, 'weak');
  // Subscribed to live messages only: a twin write requesting its label gets a weak ack.
  const id = await createOpenConnection(
    service.request,
    connection(prefix, { issuedAcknowledgementLabel: '{{connection:id}}:seen' }),
  );
  const label = `${id}:seen`;
  const put = await service.request('PUT', `/api/2/things/${thingId}/attributes/counter`, {
    body: 5,
    headers: { 'requested-acks': `twin-persisted,${label}`, timeout: '5s' },
  });
  expect(put.status).toBe(200);
  expect(put.json[label]).toMatchObject({ status: 200, headers: { 'ditto-weak-ack': true } });
  expect(requestsFor(prefix)).toHaveLength(0);
  await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});
