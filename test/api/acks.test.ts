/**
 * Acknowledgements (ditto-interfaces.md §9, §4.6, §14.7): custom labels declared by WebSocket sessions,
 * aggregated 200 / 424 responses, 408 for a missing one, weak acks, search-persisted, and the errors.
 */
import { describe, expect, it } from 'vitest';
import { type TestWs, useWsService } from '../ws/client.js';

const bed = useWsService();

let n = 0;
const newId = () => `org.eclipse.ditto:acks-${++n}-${Date.now()}`;
const ws = (query = '', user = 'ditto'): Promise<TestWs> => bed.ws(user, query);
const twin = (id: string, rest: string) => `${id.replace(':', '/')}/things/twin/${rest}`;

describe('over WebSocket', () => {
  it('aggregates twin-persisted and a custom ack issued by a declaring subscriber with 200', async () => {
    const label = `custom-${Date.now()}`;
    const subscriber = await ws(`?declared-acks=${label}`);
    await subscriber.control('START-SEND-EVENTS');
    const requester = await ws();
    const id = newId();
    const pending = requester.request({
      topic: twin(id, 'commands/create'),
      headers: { 'requested-acks': ['twin-persisted', label], timeout: '5s' },
      path: '/',
      value: {},
    });
    const event = await subscriber.nextTopic(twin(id, 'events/created'));
    // Subscribers see only the custom labels (§4.3).
    expect(event.headers['requested-acks']).toEqual([label]);
    subscriber.send({
      topic: `${id.replace(':', '/')}/things/twin/acks/${label}`,
      headers: { 'correlation-id': event.headers['correlation-id'] },
      path: '/',
      status: 200,
      value: 'done',
    });
    const response = await pending;
    expect(response.topic).toBe(twin(id, 'acks'));
    expect(response.status).toBe(200);
    expect(response.value['twin-persisted'].status).toBe(201);
    expect(response.value[label]).toMatchObject({ status: 200, payload: 'done' });
  });

  it('answers 424 when a custom ack fails, and 408 entries for labels never acknowledged', async () => {
    const nack = `nack-${Date.now()}`;
    const never = `never-${Date.now()}`;
    const subscriber = await ws(`?declared-acks=${nack}`);
    await subscriber.control('START-SEND-EVENTS');
    const requester = await ws();
    const id = newId();
    const pending = requester.request({
      topic: twin(id, 'commands/create'),
      headers: { 'requested-acks': [nack, never], timeout: '2s' },
      path: '/',
      value: {},
    });
    const event = await subscriber.nextTopic(twin(id, 'events/created'));
    subscriber.send({
      topic: `${id.replace(':', '/')}/things/twin/acks/${nack}`,
      headers: { 'correlation-id': event.headers['correlation-id'] },
      path: '/',
      status: 400,
      value: 'You better try harder',
    });
    const response = await pending;
    expect(response.status).toBe(424);
    expect(response.value[nack]).toMatchObject({ status: 400, payload: 'You better try harder' });
    expect(response.value[never]).toMatchObject({
      status: 408,
      payload: { error: 'acknowledgement:request.timeout' },
    });
  });

  it('issues a weak ack for a declaring session that filtered the event out', async () => {
    const label = `weak-${Date.now()}`;
    const subscriber = await ws(`?declared-acks=${label}`);
    await subscriber.control(`START-SEND-EVENTS?filter=${encodeURIComponent('eq(attributes/never,true)')}`);
    const requester = await ws();
    const id = newId();
    const response = await requester.request({
      topic: twin(id, 'commands/create'),
      headers: { 'requested-acks': ['twin-persisted', label], timeout: '3s' },
      path: '/',
      value: {},
    });
    expect(response.status).toBe(200);
    expect(response.value[label]).toMatchObject({ status: 200, headers: { 'ditto-weak-ack': true } });
  });

  it('issues search-persisted once the search index has the change', async () => {
    const requester = await ws();
    const id = newId();
    const response = await requester.request({
      topic: twin(id, 'commands/create'),
      headers: { 'requested-acks': ['twin-persisted', 'search-persisted'] },
      path: '/',
      value: { attributes: { k: 'v' } },
    });
    expect(response.status).toBe(200);
    expect(response.value['search-persisted'].status).toBe(204);
    const search = await bed.svc.request(
      'GET',
      `/api/2/search/things?filter=${encodeURIComponent(`eq(thingId,"${id}")`)}`,
    );
    expect(search.json.items).toHaveLength(1);
  });

  it('refuses an ack whose label the session did not declare', async () => {
    const c = await ws();
    const id = newId();
    const error = await c.request({
      topic: `${id.replace(':', '/')}/things/twin/acks/undeclared-label`,
      headers: { 'correlation-id': 'x1' },
      path: '/',
      status: 200,
    });
    expect(error.value.error).toBe('acknowledgement:label.not.declared');
  });

  it('refuses a built-in label issued by a client', async () => {
    const c = await ws();
    const id = newId();
    const error = await c.request({
      topic: `${id.replace(':', '/')}/things/twin/acks/twin-persisted`,
      headers: { 'correlation-id': 'x2' },
      path: '/',
      status: 200,
    });
    expect(error.value.error).toBe('acknowledgement:ditto.acklabel.forbidden');
  });

  it('closes a session declaring a label another session holds', async () => {
    const label = `unique-${Date.now()}`;
    await ws(`?declared-acks=${label}`);
    const second = await ws(`?declared-acks=${label}`);
    const error = await second.nextTopic('/errors');
    expect(error.value.error).toBe('acknowledgement:label.not.unique');
    expect((await second.closed()).code).toBe(1008);
  });

  it('refuses requested acks together with response-required:false', async () => {
    const c = await ws();
    const id = newId();
    c.send({
      topic: twin(id, 'commands/create'),
      headers: { 'correlation-id': 'rr', 'requested-acks': ['twin-persisted'], 'response-required': false },
      path: '/',
      value: {},
    });
    const error = await c.nextTopic(twin(id, 'errors'));
    expect(error).toMatchObject({
      status: 400,
      value: { error: 'header.invalid' },
      headers: { 'correlation-id': 'rr' },
    });
    expect((await bed.svc.request('GET', `/api/2/things/${encodeURIComponent(id)}`)).status).toBe(404);
  });
});

describe('over WebSocket messages', () => {
  it('aggregates live-response and a custom ack into 424 when one fails, and refuses a payload over 250 kB', async () => {
    const label = `ws-msg-ack-${Date.now()}`;
    const id = newId();
    await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, { body: {} });
    const device = await ws(`?declared-acks=${label}`);
    await device.control('START-SEND-MESSAGES');
    const requester = await ws();
    const topic = `${id.replace(':', '/')}/things/live/messages/ping`;
    const pending = requester.request({
      topic,
      headers: {
        'correlation-id': `${label}-c`,
        'requested-acks': ['live-response', label],
        timeout: '5s',
        'content-type': 'text/plain',
      },
      path: '/inbox/messages/ping',
      value: 'ping',
    });
    const message = await device.nextTopic('/messages/ping');
    device.send({
      topic: `${id.replace(':', '/')}/things/live/acks/${label}`,
      headers: { 'correlation-id': `${label}-c` },
      path: '/',
      status: 500,
      value: 'could not',
    });
    device.send({
      topic: message.topic,
      headers: { 'correlation-id': `${label}-c`, 'content-type': 'text/plain' },
      path: '/outbox/messages/ping',
      value: 'pong',
      status: 200,
    });
    const acks = await pending;
    expect(acks).toMatchObject({ topic: `${id.replace(':', '/')}/things/live/acks`, status: 424 });
    expect(acks.value['live-response']).toMatchObject({ status: 200, payload: 'pong' });
    expect(acks.value[label]).toMatchObject({ status: 500, payload: 'could not' });

    const tooLarge = await requester.request({
      topic,
      headers: { 'correlation-id': `${label}-big`, 'content-type': 'text/plain' },
      path: '/inbox/messages/ping',
      value: 'x'.repeat(260 * 1024),
    });
    expect(tooLarge).toMatchObject({ status: 413, value: { error: 'messages:payload.toolarge' } });
  });
});

describe('over HTTP messages', () => {
  it('aggregates live-response and a custom ack of the receiving session', async () => {
    const label = `msg-ack-${Date.now()}`;
    const id = newId();
    await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, { body: {} });
    const device = await ws(`?declared-acks=${label}`);
    await device.control('START-SEND-MESSAGES');
    const pending = bed.svc.request(
      'POST',
      `/api/2/things/${encodeURIComponent(id)}/inbox/messages/ping?requested-acks=live-response,${label}&timeout=5`,
      { raw: 'ping', contentType: 'text/plain' },
    );
    const message = await device.nextTopic('/messages/ping');
    expect(message.headers['requested-acks']).toEqual([label]);
    const correlationId = message.headers['correlation-id'];
    device.send({
      topic: `${id.replace(':', '/')}/things/live/acks/${label}`,
      headers: { 'correlation-id': correlationId },
      path: '/',
      status: 200,
    });
    device.send({
      topic: message.topic,
      headers: { 'correlation-id': correlationId, 'content-type': 'text/plain' },
      path: '/outbox/messages/ping',
      value: 'pong',
      status: 200,
    });
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.json['live-response']).toMatchObject({ status: 200, payload: 'pong' });
    expect(response.json[label].status).toBe(200);
  });

  it('refuses requested acks with timeout=0 with 400', async () => {
    const id = newId();
    await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, { body: {} });
    const res = await bed.svc.request(
      'POST',
      `/api/2/things/${encodeURIComponent(id)}/inbox/messages/x?timeout=0&requested-acks=live-response`,
      { raw: 'x', contentType: 'text/plain' },
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('header.invalid');
  });
});
