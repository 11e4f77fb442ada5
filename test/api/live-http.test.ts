/**
 * The live channel and requested acknowledgements on the HTTP things API (ditto-interfaces.md §2.1, §9,
 * §10): `channel=live` as query or header, timeouts and `use-twin`, `live-channel-condition`, and
 * aggregated acknowledgements of twin commands.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from '../ws/client.js';

let svc: TestService;
let device: TestWs;
beforeAll(async () => {
  svc = await startTestService();
  device = await connectWs(svc.url, 'ditto', '?declared-acks=http-custom-ack');
  await device.control('START-SEND-LIVE-COMMANDS');
});
afterAll(async () => {
  await device.close();
  await svc.close();
});

let n = 0;
async function newThing(): Promise<string> {
  const id = `org.eclipse.ditto:live-http-${++n}-${Date.now()}`;
  expect(
    (
      await svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, {
        body: { attributes: { on: false, mode: 'live' } },
      })
    ).status,
  ).toBe(201);
  return id;
}
const enc = encodeURIComponent;

async function answerNext(value: unknown, status = 200) {
  const command = await device.nextTopic('/things/live/commands/retrieve');
  device.send({
    topic: command.topic,
    headers: { 'correlation-id': command.headers['correlation-id'] },
    path: command.path,
    value,
    status,
  });
  return command;
}

it('routes GET ?channel=live to the device and returns its answer with header channel: live', async () => {
  const id = await newThing();
  const pending = svc.request('GET', `/api/2/things/${enc(id)}/attributes/on?channel=live`);
  await answerNext(true);
  const res = await pending;
  expect(res.status).toBe(200);
  expect(res.json).toBe(true);
  expect(res.headers.get('channel')).toBe('live');
});

it('accepts the channel as a header and answers 408 when the device is silent', async () => {
  const id = await newThing();
  const res = await svc.request('GET', `/api/2/things/${enc(id)}?timeout=300ms`, {
    headers: { channel: 'live' },
  });
  expect(res.status).toBe(408);
  await device.nextTopic('/things/live/commands/retrieve'); // it was published
});

it('falls back to the twin with live-channel-timeout-strategy=use-twin', async () => {
  const id = await newThing();
  const res = await svc.request(
    'GET',
    `/api/2/things/${enc(id)}/attributes/on?channel=live&timeout=200ms&live-channel-timeout-strategy=use-twin`,
  );
  expect(res.status).toBe(200);
  expect(res.json).toBe(false);
  expect(res.headers.get('channel')).toBe('twin');
  await device.nextTopic('/things/live/commands/retrieve');
});

it('switches to live only when live-channel-condition matches the twin', async () => {
  const id = await newThing();
  const pending = svc.request(
    'GET',
    `/api/2/things/${enc(id)}/attributes/on?live-channel-condition=${enc('eq(attributes/mode,"live")')}`,
  );
  await answerNext('from device');
  const matched = await pending;
  expect(matched.json).toBe('from device');
  expect(matched.headers.get('live-channel-condition-matched')).toBe('true');
  const twin = await svc.request(
    'GET',
    `/api/2/things/${enc(id)}/attributes/on?live-channel-condition=${enc('eq(attributes/mode,"twin")')}`,
  );
  expect(twin.json).toBe(false);
  expect(twin.headers.get('live-channel-condition-matched')).toBe('false');
});

it('does not persist a live modify', async () => {
  const id = await newThing();
  const pending = svc.request('PUT', `/api/2/things/${enc(id)}/attributes/on?channel=live`, { body: true });
  const command = await device.nextTopic('/things/live/commands/modify');
  device.send({
    topic: command.topic,
    headers: { 'correlation-id': command.headers['correlation-id'] },
    path: command.path,
    status: 204,
  });
  expect((await pending).status).toBe(204);
  expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes/on`)).json).toBe(false);
});

it('aggregates requested acks of a twin modify: 200 when all succeed, 424 when one fails', async () => {
  await device.control('START-SEND-EVENTS');
  const id = await newThing();
  const ok = svc.request(
    'PUT',
    `/api/2/things/${enc(id)}/attributes/on?requested-acks=twin-persisted,http-custom-ack&timeout=5`,
    { body: true },
  );
  let event = await device.nextTopic('/things/twin/events/modified');
  device.send({
    topic: `${id.replace(':', '/')}/things/twin/acks/http-custom-ack`,
    headers: { 'correlation-id': event.headers['correlation-id'] },
    path: '/',
    status: 204,
  });
  const okRes = await ok;
  expect(okRes.status).toBe(200);
  expect(okRes.json['twin-persisted'].status).toBe(204);
  expect(okRes.json['http-custom-ack'].status).toBe(204);

  const failed = svc.request(
    'PUT',
    `/api/2/things/${enc(id)}/attributes/on?requested-acks=twin-persisted,http-custom-ack&timeout=5`,
    { body: false },
  );
  event = await device.nextTopic('/things/twin/events/modified');
  device.send({
    topic: `${id.replace(':', '/')}/things/twin/acks/http-custom-ack`,
    headers: { 'correlation-id': event.headers['correlation-id'] },
    path: '/',
    status: 500,
    value: 'disk full',
  });
  const failedRes = await failed;
  expect(failedRes.status).toBe(424);
  expect(failedRes.json['http-custom-ack']).toMatchObject({ status: 500, payload: 'disk full' });
  await device.control('STOP-SEND-EVENTS');
});

it('answers 202 only after the requested acks with response-required=false, and 400 with timeout=0', async () => {
  await device.control('START-SEND-EVENTS');
  const id = await newThing();
  let answered = false;
  const pending = svc
    .request(
      'PUT',
      `/api/2/things/${enc(id)}/attributes/on?requested-acks=http-custom-ack&response-required=false&timeout=5`,
      { body: true },
    )
    .then((r) => ((answered = true), r));
  const event = await device.nextTopic('/things/twin/events/modified');
  await new Promise((r) => setTimeout(r, 100));
  expect(answered).toBe(false);
  device.send({
    topic: `${id.replace(':', '/')}/things/twin/acks/http-custom-ack`,
    headers: { 'correlation-id': event.headers['correlation-id'] },
    path: '/',
    status: 200,
  });
  const res = await pending;
  expect(res.status).toBe(202);
  expect(res.text).toBe('');
  const refused = await svc.request(
    'PUT',
    `/api/2/things/${enc(id)}/attributes/on?requested-acks=http-custom-ack&timeout=0`,
    { body: true },
  );
  expect(refused.status).toBe(400);
  expect(refused.json.error).toBe('header.invalid');
  await device.control('STOP-SEND-EVENTS');
});

it('answers a create through the acknowledgement route (no acks requested) with 201, Location and ETag like the twin route', async () => {
  const id = `org.eclipse.ditto:live-created-${Date.now()}`;
  const created = await svc.request('PUT', `/api/2/things/${enc(id)}?requested-acks=`, {
    body: { attributes: { a: 1 } },
  });
  expect(created.status).toBe(201);
  expect(created.headers.get('location')).toBe(`/api/2/things/${enc(id)}`);
  expect(created.headers.get('etag')).toBe('"rev:1"');
  const attribute = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/b?requested-acks=`, {
    body: 2,
  });
  expect(attribute.status).toBe(201);
  expect(attribute.headers.get('location')).toBe(`/api/2/things/${enc(id)}/attributes/b`);
});
