/**
 * The live channel between WebSocket sessions (ditto-interfaces.md §4.4, §10): live messages, live
 * commands and live events routed to subscribers with READ, responses correlated back, timeouts.
 */
import { expect, it } from 'vitest';
import { useWsService } from './client.js';

const bed = useWsService();

let n = 0;
async function newThing(body: unknown = { attributes: { on: false } }): Promise<string> {
  const id = `org.eclipse.ditto:live-${++n}-${Date.now()}`;
  const res = await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, { body });
  expect(res.status).toBe(201);
  return id;
}
const ws = bed.ws;
const topic = (id: string, rest: string) => `${id.replace(':', '/')}/things/live/${rest}`;

it('routes a live message from one session to another and the response back', async () => {
  const id = await newThing();
  const device = await ws();
  await device.control('START-SEND-MESSAGES');
  const app = await ws();
  const pending = app.request({
    topic: topic(id, 'messages/ask'),
    headers: { 'content-type': 'text/plain', 'correlation-id': 'msg-1' },
    path: '/inbox/messages/ask',
    value: 'Hey, how are you?',
  });
  const received = await device.nextTopic(topic(id, 'messages/ask'));
  // `ditto-originator`: the sender's first subject (§4.1), set by the service.
  expect(received).toMatchObject({
    path: '/inbox/messages/ask',
    value: 'Hey, how are you?',
    headers: { 'content-type': 'text/plain', 'correlation-id': 'msg-1', 'ditto-originator': 'nginx:ditto' },
  });
  device.send({
    topic: topic(id, 'messages/ask'),
    headers: { 'content-type': 'text/plain', 'correlation-id': 'msg-1' },
    path: '/outbox/messages/ask',
    value: 'I am only a coffee machine.',
    status: 418,
  });
  const response = await pending;
  expect(response).toMatchObject({
    status: 418,
    value: 'I am only a coffee machine.',
    headers: { 'correlation-id': 'msg-1' },
  });
});

it('does not echo a live message to the session that sent it, and delivers multi-segment subjects', async () => {
  const id = await newThing();
  const both = await ws();
  await both.control('START-SEND-MESSAGES');
  const other = await ws();
  await other.control('START-SEND-MESSAGES');
  both.send({
    topic: topic(id, 'messages/a/b/c'),
    headers: { 'content-type': 'application/json', 'response-required': false },
    path: '/features/f1/outbox/messages/a/b/c',
    value: { x: 1 },
  });
  const got = await other.nextTopic(topic(id, 'messages/a/b/c'));
  expect(got.path).toBe('/features/f1/outbox/messages/a/b/c');
  await both.expectNone((f) => typeof f !== 'string' && String(f.topic).endsWith('messages/a/b/c'));
});

it('answers an unanswered live message with 408 after its timeout', async () => {
  const id = await newThing();
  const app = await ws();
  const response = await app.request({
    topic: topic(id, 'messages/silence'),
    headers: { 'content-type': 'text/plain', timeout: '300ms' },
    path: '/inbox/messages/silence',
    value: 'anyone?',
  });
  expect(response).toMatchObject({ status: 408, value: { error: 'messages:message.timeout' } });
});

it('does not deliver messages to sessions without READ on the message resource', async () => {
  const id = await newThing();
  const alice = await ws('alice');
  await alice.control('START-SEND-MESSAGES');
  const app = await ws();
  app.send({
    topic: topic(id, 'messages/hello'),
    headers: { 'content-type': 'text/plain', 'response-required': false },
    path: '/inbox/messages/hello',
    value: 'hi',
  });
  await alice.expectNone((f) => typeof f !== 'string' && String(f.topic).includes('messages/hello'), 400);
});

it('refuses to send a message to a thing the sender cannot see with 404', async () => {
  const id = await newThing();
  const alice = await ws('alice');
  const response = await alice.request({
    topic: topic(id, 'messages/x'),
    headers: { 'content-type': 'text/plain' },
    path: '/inbox/messages/x',
    value: 'x',
  });
  expect(response).toMatchObject({ status: 404, value: { error: 'things:thing.notfound' } });
});

it('routes a live command to a live-command subscriber and its response back (policy-filtered)', async () => {
  const id = await newThing();
  const device = await ws();
  await device.control('START-SEND-LIVE-COMMANDS');
  const app = await ws();
  const pending = app.request({
    topic: topic(id, 'commands/retrieve'),
    headers: { 'correlation-id': 'live-1' },
    path: '/attributes',
  });
  const command = await device.nextTopic(topic(id, 'commands/retrieve'));
  expect(command.path).toBe('/attributes');
  device.send({
    topic: topic(id, 'commands/retrieve'),
    headers: { 'correlation-id': 'live-1' },
    path: '/attributes',
    value: { on: true },
    status: 200,
  });
  const response = await pending;
  expect(response).toMatchObject({ topic: topic(id, 'commands/retrieve'), status: 200, value: { on: true } });
  // Nothing reached the twin.
  expect((await bed.svc.request('GET', `/api/2/things/${encodeURIComponent(id)}/attributes/on`)).json).toBe(
    false,
  );
});

it('answers a live command nobody answers with 408 command.timeout', async () => {
  const id = await newThing();
  const app = await ws();
  const response = await app.request({
    topic: topic(id, 'commands/modify'),
    headers: { timeout: '200ms' },
    path: '/attributes/on',
    value: true,
  });
  expect(response).toMatchObject({ status: 408, value: { error: 'command.timeout' } });
});

it('falls back to the twin with live-channel-timeout-strategy=use-twin', async () => {
  const id = await newThing();
  const app = await ws();
  const response = await app.request({
    topic: topic(id, 'commands/retrieve'),
    headers: { timeout: '200ms', 'live-channel-timeout-strategy': 'use-twin' },
    path: '/attributes',
  });
  expect(response).toMatchObject({ status: 200, value: { on: false } });
});

it('switches a twin retrieve to live when live-channel-condition matches', async () => {
  const id = await newThing({ attributes: { on: false, mode: 'live' } });
  const device = await ws();
  await device.control('START-SEND-LIVE-COMMANDS');
  const app = await ws();
  const pending = app.request({
    topic: `${id.replace(':', '/')}/things/twin/commands/retrieve`,
    headers: { 'correlation-id': 'cond-1', 'live-channel-condition': 'eq(attributes/mode,"live")' },
    path: '/attributes/on',
  });
  await device.nextTopic(topic(id, 'commands/retrieve'));
  device.send({
    topic: topic(id, 'commands/retrieve'),
    headers: { 'correlation-id': 'cond-1' },
    path: '/attributes/on',
    value: true,
    status: 200,
  });
  const response = await pending;
  expect(response).toMatchObject({
    status: 200,
    value: true,
    headers: { 'live-channel-condition-matched': 'true' },
  });
});

it('forwards live events to START-SEND-LIVE-EVENTS subscribers', async () => {
  const id = await newThing();
  const listener = await ws();
  await listener.control('START-SEND-LIVE-EVENTS');
  const device = await ws();
  device.send({
    topic: topic(id, 'events/modified'),
    headers: {},
    path: '/attributes/on',
    value: true,
    revision: 7,
  });
  const event = await listener.nextTopic(topic(id, 'events/modified'));
  expect(event).toMatchObject({ path: '/attributes/on', value: true, revision: 7 });
});
