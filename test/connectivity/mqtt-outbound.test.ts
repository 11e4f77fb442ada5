/**
 * The outbound pipeline (§11.4) over a real Mosquitto: namespaces, RQL filter with topic placeholders,
 * extraFields, and READ enforcement for the target's subjects (pruned values, nothing when unreadable).
 */
import { expect, it } from 'vitest';
import { createOpenConnection, DEVOPS, mqttConnection, uniquePrefix, waitFor } from './helpers.js';
import { mqttTestbed } from './mqtt-testbed.js';

const bed = mqttTestbed();

const policy = (observerPaths: string[]) => ({
  entries: {
    owner: {
      subjects: { 'nginx:ditto': { type: 'test' } },
      resources: {
        'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
        'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
      },
    },
    observer: {
      subjects: { 'nginx:observer': { type: 'test' } },
      resources: Object.fromEntries(
        observerPaths.map((p) => [`thing:${p}`, { grant: ['READ'], revoke: [] }]),
      ),
    },
  },
});

it('filters by namespace and RQL, adds extraFields and prunes to what the target may read', async () => {
  const prefix = uniquePrefix('out');
  const visible = `out.a:${prefix}`;
  const otherNamespace = `out.b:${prefix}`;
  const hidden = `out.a:${prefix}-hidden`;
  for (const [thingId, paths] of [
    [visible, ['/attributes/counter', '/attributes/name']],
    [otherNamespace, ['/']],
    [hidden, []],
  ] as const) {
    const res = await bed.service.request('PUT', `/api/2/things/${thingId}`, {
      body: { _policy: policy([...paths]), attributes: { counter: 0, name: 'n', secret: 's' } },
    });
    expect(res.status, res.text).toBe(201);
  }
  const filter = encodeURIComponent('and(gt(attributes/counter,5),eq(topic:action,"modified"))');
  const id = await createOpenConnection(
    bed.service.request,
    mqttConnection({
      uri: bed.broker.url,
      prefix,
      subject: 'nginx:observer',
      source: { authorizationContext: ['nginx:ditto'] },
      target: {
        topics: [`_/_/things/twin/events?namespaces=out.a&filter=${filter}&extraFields=attributes/name`],
      },
    }),
  );
  const events = await bed.driver.subscribe(`${prefix}/events/#`);
  const write = (thingId: string, value: unknown) =>
    bed.service.request('PUT', `/api/2/things/${thingId}/attributes`, { body: value });
  expect((await write(visible, { counter: 3, name: 'n', secret: 's' })).status).toBe(204); // filtered: counter ≤ 5
  expect((await write(otherNamespace, { counter: 9, name: 'n', secret: 's' })).status).toBe(204); // other namespace
  expect((await write(hidden, { counter: 9, name: 'n', secret: 's' })).status).toBe(204); // not readable
  expect((await write(visible, { counter: 7, name: 'n', secret: 's' })).status).toBe(204);

  const message = JSON.parse((await events.next()).payload.toString());
  expect(message.topic).toBe(`out.a/${prefix}/things/twin/events/modified`);
  expect(message.value).toEqual({ counter: 7, name: 'n' });
  expect(message.extra).toEqual({ attributes: { name: 'n' } });
  const metrics = await waitFor(async () => {
    const m = (await bed.service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
    // `published` counts the broker's PUBACK, which may come after the subscriber got the message.
    return m.connectionMetrics.outbound.filtered.failure.PT1H >= 2 &&
      m.connectionMetrics.outbound.published.success.PT1H >= 1
      ? m
      : undefined;
  }, 'filtered and published metrics');
  expect(metrics.connectionMetrics.outbound.published.success.PT1H).toBe(1);
  await expect(events.next(500)).rejects.toThrow();
  await events.close();
});

it('announces opened and closed to targets of _/_/connections/announcements', async () => {
  const prefix = uniquePrefix('ann');
  const announcements = await bed.driver.subscribe(`${prefix}/announce/#`);
  const id = await createOpenConnection(
    bed.service.request,
    mqttConnection({
      uri: bed.broker.url,
      prefix,
      target: {
        address: `${prefix}/announce/{{ connection:id }}`,
        topics: ['_/_/connections/announcements'],
      },
    }),
  );
  const opened = await announcements.next();
  expect(opened.topic).toBe(`${prefix}/announce/${id}`);
  const openedJson = JSON.parse(opened.payload.toString());
  expect(openedJson).toMatchObject({ topic: `_/${id}/connections/announcements/opened`, path: '/' });
  expect(Date.parse(openedJson.value.openedAt)).not.toBeNaN();
  const close = await bed.service.request('POST', `/api/2/connections/${id}/command`, {
    auth: DEVOPS,
    raw: 'connectivity.commands:closeConnection',
    contentType: 'text/plain',
  });
  expect(close.status).toBe(200);
  const closed = JSON.parse((await announcements.next()).payload.toString());
  expect(closed).toMatchObject({ topic: `_/${id}/connections/announcements/closed` });
  expect(Date.parse(closed.value.closedAt)).not.toBeNaN();
  await announcements.close();
});

it('honours mqtt.topic, mqtt.qos and mqtt.retain from the target header mapping, with a separate publisher client', async () => {
  const prefix = uniquePrefix('hdrs');
  const thingId = `out.a:${prefix}`;
  expect(
    (await bed.service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  const id = await createOpenConnection(
    bed.service.request,
    mqttConnection({
      uri: bed.broker.url,
      prefix,
      specificConfig: { separatePublisherClient: 'true' },
      target: {
        headerMapping: {
          'mqtt.topic': `${prefix}/override/{{ thing:name }}`,
          'mqtt.qos': '0',
          'mqtt.retain': 'true',
        },
      },
    }),
  );
  expect(
    (await bed.service.request('PUT', `/api/2/things/${thingId}/attributes/counter`, { body: 8 })).status,
  ).toBe(204);
  // Retained: a subscriber that arrives after the publish still gets it, flagged as retained. One that came
  // before would get it unflagged: wait until the target published it (a loaded machine may need over 300 ms).
  await waitFor(
    async () =>
      (await bed.service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json
        .connectionMetrics.outbound.published.success.PT1H >= 1,
    'published',
  );
  await new Promise((r) => setTimeout(r, 300));
  const late = await bed.driver.subscribe(`${prefix}/override/#`);
  const message = await late.next();
  expect(message.topic).toBe(`${prefix}/override/${prefix}`);
  expect(message.retain).toBe(true);
  expect(JSON.parse(message.payload.toString()).value).toBe(8);
  await late.close();
  await bed.driver.publish(`${prefix}/override/${prefix}`, '', { qos: 1, retain: true }); // clear the retained message
});
