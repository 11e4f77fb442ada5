/**
 * History through a connection (ditto: protocol-specification-streaming-subscription "Connections support",
 * basic-history) over a real Mosquitto: a device sends the streaming subscription commands through a source
 * and receives created, next, complete and failed on the source's reply target; a retrieve with
 * `at-historical-revision` through the source is answered there too, with historical-headers.
 */
import { expect, it } from 'vitest';
import { expectValid } from '../unit/protocol/schemas.js';
import { createOpenConnection, DEVOPS, mqttConnection, uniquePrefix } from './helpers.js';
import { mqttTestbed } from './mqtt-testbed.js';

const bed = mqttTestbed();

it('streams the history of a thing and of its policy to a device on its reply target, paced by its requests', async () => {
  const prefix = uniquePrefix('history-mqtt');
  const thingId = `history.mqtt:${prefix}`;
  const [ns, name] = thingId.split(':');
  expect(
    (await bed.service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { n: 1 } } })).status,
  ).toBe(201);
  for (let r = 2; r <= 5; r++)
    expect(
      (await bed.service.request('PUT', `/api/2/things/${thingId}/attributes/n`, { body: r })).status,
    ).toBe(204);
  const id = await createOpenConnection(
    bed.service.request,
    mqttConnection({ uri: bed.broker.url, prefix, target: null }),
  );
  const replies = await bed.driver.subscribe(`${prefix}/replies`);
  let c = 0;
  const send = (
    group: string,
    action: string,
    value: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) =>
    bed.driver.publish(
      `${prefix}/telemetry/history`,
      JSON.stringify({
        topic: `${ns}/${name}/${group}/${action}`,
        headers: { 'correlation-id': `${prefix}-${++c}`, 'reply-to': `${prefix}/replies`, ...headers },
        path: '/',
        value,
      }),
    );
  const reply = async () => JSON.parse((await replies.next()).payload.toString()) as Record<string, any>;
  try {
    const subscribe = { fromHistoricalRevision: 2, toHistoricalRevision: 4 };
    expectValid('protocol-streaming-subscription-subscribe-for-persisted-events-payload.json', subscribe);
    await send('things/twin/streaming', 'subscribeForPersistedEvents', subscribe);
    const created = await reply();
    expect(created).toMatchObject({
      topic: `${ns}/${name}/things/twin/streaming/created`,
      headers: { 'correlation-id': `${prefix}-1` },
      value: { subscriptionId: '0' },
    });
    expectValid('protocol-streaming-subscriptionid.json', created.value);

    await send('things/twin/streaming', 'request', { subscriptionId: '0', demand: 2 });
    const first = [await reply(), await reply()];
    for (const next of first) expectValid('protocol-streaming-subscription-next-payload.json', next.value);
    expect(
      first.map((m) => [m.topic, m.headers['correlation-id'], m.value.item.revision, m.value.item.value]),
    ).toEqual([
      [`${ns}/${name}/things/twin/streaming/next`, `${prefix}-2`, 2, 2],
      [`${ns}/${name}/things/twin/streaming/next`, `${prefix}-2`, 3, 3],
    ]);
    expectValid('protocol-envelope.json', first[0].value.item);
    await send('things/twin/streaming', 'request', { subscriptionId: '0', demand: 5 });
    const rest = [await reply(), await reply()];
    expect(rest.map((m) => m.topic.split('/').at(-1))).toEqual(['next', 'complete']);
    expect(rest[0].value.item).toMatchObject({
      topic: `${ns}/${name}/things/twin/events/modified`,
      path: '/attributes/n',
      value: 4,
      revision: 4,
    });

    // A request for a subscription that does not exist: failed, on the reply target as well.
    await send('things/twin/streaming', 'request', { subscriptionId: '41', demand: 1 });
    const failed = await reply();
    expectValid('protocol-streaming-subscription-failed-payload.json', failed.value);
    expect(failed).toMatchObject({
      topic: `${ns}/${name}/things/twin/streaming/failed`,
      value: { subscriptionId: '41', error: { status: 404, error: 'streaming.subscription.not.found' } },
    });

    // The policy the thing was created with: its creation event.
    await send('policies/streaming', 'subscribeForPersistedEvents', {});
    expect((await reply()).topic).toBe(`${ns}/${name}/policies/streaming/created`);
    await send('policies/streaming', 'request', { subscriptionId: '1', demand: 5 });
    const policy = [await reply(), await reply()];
    expect(policy[0].value.item).toMatchObject({
      topic: `${ns}/${name}/policies/events/created`,
      path: '/',
      revision: 1,
      value: { policyId: thingId },
    });
    expect(policy[1].topic).toBe(`${ns}/${name}/policies/streaming/complete`);

    // A retrieve at a historical revision through the source.
    await bed.driver.publish(
      `${prefix}/telemetry/history`,
      JSON.stringify({
        topic: `${ns}/${name}/things/twin/commands/retrieve`,
        headers: {
          'correlation-id': `${prefix}-r`,
          'reply-to': `${prefix}/replies`,
          'at-historical-revision': '3',
        },
        path: '/attributes/n',
      }),
    );
    const retrieved = await reply();
    expectValid('protocol-response.json', retrieved);
    expect(retrieved).toMatchObject({
      topic: `${ns}/${name}/things/twin/commands/retrieve`,
      status: 200,
      value: 3,
      headers: { 'correlation-id': `${prefix}-r`, 'historical-headers': {} },
    });
  } finally {
    await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
  }
});
