/**
 * The live channel through an MQTT connection (§2.6, §9, §10, §11.2, §11.4) over a real Mosquitto: a device
 * gets a live message on a target and answers it through a source; the HTTP caller receives that answer.
 * A device acknowledges a twin event through a source with a label the source declared (`declaredAcks`),
 * which completes the requested acknowledgement of the twin write; an undeclared label is dropped. A device
 * sends a live message through a source and gets the answer of a WebSocket subscriber on its reply target.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { expectValid } from '../unit/protocol/schemas.js';
import { connectWs } from '../ws/client.js';
import { createOpenConnection, DEVOPS, metric, mqttConnection, uniquePrefix, waitFor } from './helpers.js';
import { mqttTestbed } from './mqtt-testbed.js';

const bed = mqttTestbed();

/** A connection whose device answers on `<prefix>/telemetry/…` and receives on `<prefix>/events/<thingId>`. */
async function deviceConnection(prefix: string, topic: string): Promise<string> {
  return createOpenConnection(
    bed.service.request,
    mqttConnection({
      uri: bed.broker.url,
      prefix,
      source: { declaredAcks: ['{{connection:id}}:device-ack'] },
      target: { topics: [`${topic}?namespaces=live.mqtt`] },
    }),
  );
}

async function thing(prefix: string): Promise<string> {
  const thingId = `live.mqtt:${prefix}`;
  expect(
    (await bed.service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  return thingId;
}

it('routes a device answer to a live message through the source to the HTTP caller', async () => {
  const prefix = uniquePrefix('live-mqtt');
  const thingId = await thing(prefix);
  const id = await deviceConnection(prefix, '_/_/things/live/messages');
  const inbox = await bed.driver.subscribe(`${prefix}/events/#`);

  const pending = bed.service.request('POST', `/api/2/things/${thingId}/inbox/messages/ask`, {
    body: { question: 'the answer?' },
  });
  const received = await inbox.next();
  expect(received.topic).toBe(`${prefix}/events/${thingId}`);
  const message = JSON.parse(received.payload.toString());
  expectValid('protocol-envelope.json', message);
  expect(message).toMatchObject({
    topic: `live.mqtt/${prefix}/things/live/messages/ask`,
    path: '/inbox/messages/ask',
    value: { question: 'the answer?' },
  });

  const response = {
    topic: message.topic,
    headers: { 'correlation-id': message.headers['correlation-id'], 'content-type': 'application/json' },
    path: '/outbox/messages/ask',
    status: 200,
    value: { answer: 42 },
  };
  expectValid('protocol-response.json', response);
  await bed.driver.publish(`${prefix}/telemetry/answer`, JSON.stringify(response));
  const res = await pending;
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ answer: 42 });

  // A second answer finds nobody waiting: dropped, and logged as such.
  await bed.driver.publish(`${prefix}/telemetry/answer`, JSON.stringify(response));
  await waitFor(
    async () =>
      metric(
        (await bed.service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json,
        'inbound',
        'dropped',
        'failure',
      ) === 1,
    'late answer dropped',
  );
  await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('completes a requested acknowledgement of a twin write with the acknowledgement a device sent through the source', async () => {
  const prefix = uniquePrefix('live-mqtt');
  const thingId = await thing(prefix);
  const id = await deviceConnection(prefix, '_/_/things/twin/events');
  const label = `${id}:device-ack`;
  const events = await bed.driver.subscribe(`${prefix}/events/#`);
  const [ns, name] = thingId.split(':');
  const put = (value: number, timeout = '10s') =>
    bed.service.request('PUT', `/api/2/things/${thingId}/attributes/counter`, {
      body: value,
      headers: { 'requested-acks': `twin-persisted,${label}`, 'correlation-id': randomUUID(), timeout },
    });
  const acknowledge = async (ackLabel: string) => {
    const event = JSON.parse((await events.next()).payload.toString());
    expect(event.headers['requested-acks']).toContain(label);
    const ack = {
      topic: `${ns}/${name}/things/twin/acks/${ackLabel}`,
      headers: { 'correlation-id': event.headers['correlation-id'] },
      path: '/',
      status: 201,
      value: { stored: event.value },
    };
    expectValid('protocol-ack.json', ack);
    await bed.driver.publish(`${prefix}/telemetry/ack`, JSON.stringify(ack));
  };

  const acked = put(5);
  await acknowledge(label);
  const res = await acked;
  expect(res.status).toBe(200);
  expect(res.json[label]).toMatchObject({ status: 201, payload: { stored: 5 } });
  expect(res.json['twin-persisted']).toMatchObject({ status: 204 });

  // A label the source did not declare is not accepted from the device: the request times out on it.
  const undeclared = put(6, '1s');
  await acknowledge(`${id}:other`);
  const timedOut = await undeclared;
  expect(timedOut.status).toBe(424);
  expect(timedOut.json[label]).toMatchObject({
    status: 408,
    payload: { error: 'acknowledgement:request.timeout' },
  });
  // The request may time out before the device's acknowledgement went through the broker to the source.
  const droppedLogged = async () => {
    const logs = (await bed.service.request('GET', `/api/2/connections/${id}/logs`, { auth: DEVOPS })).json
      .connectionLogs as Array<{ type: string; message: string }>;
    return logs.some((l) => l.type === 'dropped' && l.message.includes(`${id}:other`));
  };
  expect(await waitFor(droppedLogged, 'the undeclared acknowledgement dropped')).toBe(true);
  await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('sends a live message of a device with the source subjects and publishes the answer to its reply target', async () => {
  const prefix = uniquePrefix('live-mqtt');
  const thingId = await thing(prefix);
  const [ns, name] = thingId.split(':');
  const id = await deviceConnection(prefix, '_/_/things/twin/events');
  const replies = await bed.driver.subscribe(`${prefix}/replies`);
  const app = await connectWs(bed.service.url, 'ditto');
  await app.control('START-SEND-MESSAGES');
  const send = (subject: string, headers: Record<string, string> = {}) =>
    bed.driver.publish(
      `${prefix}/telemetry/out`,
      JSON.stringify({
        topic: `${ns}/${name}/things/live/messages/${subject}`,
        headers: {
          'correlation-id': `${prefix}-${subject}`,
          'content-type': 'application/json',
          'reply-to': `${prefix}/replies`,
          ...headers,
        },
        path: `/outbox/messages/${subject}`,
        value: { level: 80 },
      }),
    );
  try {
    await send('battery');
    const message = await app.nextTopic('/messages/battery');
    expect(message).toMatchObject({ path: '/outbox/messages/battery', value: { level: 80 } });
    app.send({
      topic: message.topic,
      headers: { 'correlation-id': message.headers['correlation-id'], 'content-type': 'text/plain' },
      path: message.path,
      status: 202,
      value: 'noted',
    });
    const reply = JSON.parse((await replies.next()).payload.toString());
    expectValid('protocol-response.json', reply);
    expect(reply).toMatchObject({
      topic: `${ns}/${name}/things/live/messages/battery`,
      status: 202,
      value: 'noted',
      headers: { 'correlation-id': `${prefix}-battery` },
    });

    // Nobody answers: the device gets Ditto's 408 message timeout as an error on its reply target.
    await send('ignored', { timeout: '1s' });
    await app.nextTopic('/messages/ignored');
    const timeout = JSON.parse((await replies.next()).payload.toString());
    expectValid('protocol-error_response.json', timeout);
    expect(timeout).toMatchObject({
      topic: `${ns}/${name}/things/live/errors`,
      status: 408,
      value: { error: 'messages:message.timeout' },
      headers: { 'correlation-id': `${prefix}-ignored` },
    });
  } finally {
    await app.close();
  }
  await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it("carries live events both ways: a WebSocket client's to a target, a device's from a source to WebSocket sessions", async () => {
  const prefix = uniquePrefix('live-events');
  const thingId = await thing(prefix);
  const [ns, name] = thingId.split(':');
  const id = await deviceConnection(prefix, '_/_/things/live/events');
  const inbox = await bed.driver.subscribe(`${prefix}/events/#`);
  const app = await connectWs(bed.service.url, 'ditto');
  await app.control('START-SEND-LIVE-EVENTS');
  const sender = await connectWs(bed.service.url, 'ditto');
  const liveEvent = (correlationId: string, value: number) => ({
    topic: `${ns}/${name}/things/live/events/modified`,
    headers: { 'correlation-id': correlationId },
    path: '/attributes/counter',
    value,
    revision: 1,
  });
  try {
    // WebSocket client → connection target (READ of the target's subject, namespace filter of its topic).
    sender.send(liveEvent(`${prefix}-ws`, 7));
    const out = JSON.parse((await inbox.next()).payload.toString());
    expectValid('protocol-envelope.json', out);
    expect(out).toMatchObject({
      topic: `${ns}/${name}/things/live/events/modified`,
      path: '/attributes/counter',
      value: 7,
    });
    // Device → source → WebSocket sessions that asked for live events; the twin is not changed.
    await bed.driver.publish(`${prefix}/telemetry/event`, JSON.stringify(liveEvent(`${prefix}-device`, 9)));
    let received = await app.nextTopic('/things/live/events/modified');
    if (received.value === 7) received = await app.nextTopic('/things/live/events/modified'); // the WebSocket client's own
    expect(received).toMatchObject({
      path: '/attributes/counter',
      value: 9,
      headers: { 'correlation-id': `${prefix}-device`, 'ditto-originator': 'nginx:ditto' },
    });
    expect((await bed.service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json).toBe(0);
  } finally {
    await app.close();
    await sender.close();
  }
  await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});

it('publishes policy announcements to a target whose subject is announced', async () => {
  const prefix = uniquePrefix('announce');
  const policyId = `live.mqtt:${prefix}-policy`;
  const id = await createOpenConnection(
    bed.service.request,
    mqttConnection({
      uri: bed.broker.url,
      prefix,
      subject: 'nginx:bob',
      target: {
        address: `${prefix}/events/{{ entity:id }}`,
        topics: ['_/_/policies/announcements?namespaces=live.mqtt'],
      },
    }),
  );
  const inbox = await bed.driver.subscribe(`${prefix}/events/#`);
  const owner = {
    subjects: { 'nginx:ditto': { type: 'owner' } },
    resources: { 'policy:/': { grant: ['READ', 'WRITE'], revoke: [] } },
  };
  const temporary = {
    subjects: { 'nginx:bob': { type: 'temporary', announcement: { whenDeleted: true } } },
    resources: { 'thing:/': { grant: ['READ'], revoke: [] } },
  };
  expect(
    (
      await bed.service.request('PUT', `/api/2/policies/${policyId}`, {
        body: { entries: { owner, temporary } },
      })
    ).status,
  ).toBe(201);
  expect(
    (await bed.service.request('DELETE', `/api/2/policies/${policyId}/entries/temporary/subjects/nginx:bob`))
      .status,
  ).toBe(204);
  const received = await inbox.next();
  expect(received.topic).toBe(`${prefix}/events/${policyId}`);
  const announcement = JSON.parse(received.payload.toString());
  expectValid('protocol-envelope.json', announcement);
  expect(announcement).toMatchObject({
    topic: `live.mqtt/${prefix}-policy/policies/announcements/subjectDeletion`,
    value: { subjectIds: ['nginx:bob'] },
  });
  await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
});
