/**
 * The MQTT connection end to end over real HTTP and a real Mosquitto (issue 7): created over REST by the
 * devops user, a device publishes Ditto Protocol commands, the twin changes, events go out on the target.
 */
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import {
  createOpenConnection,
  DEVOPS,
  metric,
  modifyCommand,
  mqttConnection,
  uniquePrefix,
  waitFor,
} from './helpers.js';
import { startTestService } from '../helpers/app.js';
import { mqttTestbed } from './mqtt-testbed.js';

const bed = mqttTestbed();

describe('an MQTT connection', () => {
  it('applies device commands to the twin and publishes the events to the target', async () => {
    const prefix = uniquePrefix('e2e');
    const thingId = `e2e.test:${prefix}`;
    expect(
      (await bed.service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
    const id = await createOpenConnection(
      bed.service.request,
      mqttConnection({ uri: bed.broker.url, prefix }),
    );
    const events = await bed.driver.subscribe(`${prefix}/events/#`);

    const device = await mqtt.connectAsync(bed.broker.url, { clientId: `${prefix}-device` });
    await device.publishAsync(`${prefix}/telemetry/dev1`, modifyCommand(thingId, '/attributes/counter', 42), {
      qos: 1,
    });

    await waitFor(
      async () =>
        (await bed.service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json === 42,
      'twin updated',
    );
    const event = await events.next();
    expect(event.topic).toBe(`${prefix}/events/${thingId}`);
    const json = JSON.parse(event.payload.toString());
    expect(json).toMatchObject({
      topic: `e2e.test/${prefix}/things/twin/events/modified`,
      path: '/attributes/counter',
      value: 42,
      revision: 2,
    });
    expect(json.headers['correlation-id']).toBeTypeOf('string');

    const status = await bed.service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS });
    expect(status.json).toMatchObject({ connectionId: id, connectionStatus: 'open', liveStatus: 'open' });
    expect(status.json.clientStatus[0].status).toBe('open');
    expect(status.json.sourceStatus[0]).toMatchObject({ address: `${prefix}/telemetry/#`, status: 'open' });

    const metrics = await waitFor(async () => {
      const m = (await bed.service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
      return metric(m, 'outbound', 'published') >= 1 ? m : undefined;
    }, 'published metric');
    expect(metric(metrics, 'inbound', 'consumed')).toBe(1);
    expect(metric(metrics, 'inbound', 'mapped')).toBe(1);
    expect(metric(metrics, 'inbound', 'acknowledged')).toBe(1);
    expect(metric(metrics, 'outbound', 'mapped')).toBe(1);
    expect(metric(metrics, 'outbound', 'published')).toBe(1);
    expect(metrics.sourceMetrics.addressMetrics[`${prefix}/telemetry/#`].inbound.consumed.success.PT1M).toBe(
      1,
    );

    const prom = await bed.service.request('GET', '/metrics', { auth: null });
    expect(prom.text).toContain(
      `twinbridge_connection_messages_total{connection="${id}",direction="inbound",type="consumed",outcome="success"} 1`,
    );
    // The event was confirmed by the broker: nothing of the target's outbound window is in flight.
    expect(prom.text).toMatch(
      new RegExp(`twinbridge_connection_outbound_in_flight\\{connection="${id}",target="[^"]+"\\} 0`),
    );
    await device.endAsync();
    await events.close();
    expect((await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS })).status).toBe(
      204,
    );
  });
});

describe('back-pressure', () => {
  it('pauses consumption at the in-flight cap and still applies every message', async () => {
    const capped = await startTestService({ TWINBRIDGE_CONNECTION_MAX_IN_FLIGHT: '4' });
    try {
      const prefix = uniquePrefix('cap');
      const thingId = `e2e.test:${prefix}`;
      expect(
        (await capped.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
          .status,
      ).toBe(201);
      const id = await createOpenConnection(
        capped.request,
        mqttConnection({ uri: bed.broker.url, prefix, target: null }),
      );
      const device = await mqtt.connectAsync(bed.broker.url, { clientId: `${prefix}-device` });
      const n = 300;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(thingId, '/attributes/counter', i + 1), {
            qos: 1,
          }),
        ),
      );
      await waitFor(
        async () => (await capped.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json === n,
        `counter ${n}`,
      );
      const metrics = (await capped.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS }))
        .json;
      expect(metric(metrics, 'inbound', 'throttled')).toBeGreaterThan(0);
      expect(metric(metrics, 'inbound', 'consumed')).toBe(n);
      await device.endAsync();
    } finally {
      await capped.close();
    }
  });
});

describe('MQTT 5 replies', () => {
  it('answers to the response topic with the correlation data (reply target, §11.2)', async () => {
    const prefix = uniquePrefix('reply');
    const thingId = `e2e.test:${prefix}`;
    expect(
      (await bed.service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
    await createOpenConnection(
      bed.service.request,
      mqttConnection({ uri: bed.broker.url, prefix, type: 'mqtt-5', target: null }),
    );
    const device = await mqtt.connectAsync(bed.broker.url, {
      clientId: `${prefix}-device`,
      protocolVersion: 5,
    });
    const replies: Array<{ payload: string; correlation?: string }> = [];
    device.on('message', (_t, payload, packet) =>
      replies.push({
        payload: payload.toString(),
        correlation: packet.properties?.correlationData?.toString(),
      }),
    );
    await device.subscribeAsync(`${prefix}/replies`, { qos: 1 });
    const command = JSON.stringify({
      topic: `e2e.test/${prefix}/things/twin/commands/modify`,
      headers: {},
      path: '/attributes/counter',
      value: 3,
    });
    await device.publishAsync(`${prefix}/telemetry/d`, command, {
      qos: 1,
      properties: { responseTopic: `${prefix}/replies`, correlationData: Buffer.from('corr-42') },
    });
    const forbidden = JSON.stringify({
      topic: `e2e.test/${prefix}/things/twin/commands/modify`,
      headers: {},
      path: '/thingId',
      value: 'x',
    });
    await device.publishAsync(`${prefix}/telemetry/d`, forbidden, {
      qos: 1,
      properties: { responseTopic: `${prefix}/replies`, correlationData: Buffer.from('corr-43') },
    });
    await waitFor(() => replies.length >= 2, 'two replies');
    // Replies are not ordered among each other: the error is answered before the write becomes durable.
    const byCorrelation = (c: string) => JSON.parse(replies.find((r) => r.correlation === c)!.payload);
    expect(byCorrelation('corr-42')).toMatchObject({
      topic: `e2e.test/${prefix}/things/twin/commands/modify`,
      status: 204,
      headers: { 'correlation-id': 'corr-42' },
    });
    expect(byCorrelation('corr-43')).toMatchObject({
      topic: `e2e.test/${prefix}/things/twin/errors`,
      status: 400,
    });
    await device.endAsync();
  });
});
