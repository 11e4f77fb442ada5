/**
 * A connection with JavaScript mappers end to end on a real broker (issue 9): a device publishes its own
 * JSON on Mosquitto, the starter script mappings/json-telemetry/incoming.js turns it into a twin update,
 * and the twin event leaves through mappings/twin-event-to-flat-json/outgoing.js as the backend's flat
 * JSON — the scripts unchanged, as a user would paste them into a connection.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { createOpenConnection, DEVOPS, metric, mqttConnection, uniquePrefix, waitFor } from './helpers.js';
import { mqttTestbed } from './mqtt-testbed.js';

const script = (path: string) => readFileSync(new URL(`../../mappings/${path}`, import.meta.url), 'utf8');

const bed = mqttTestbed();

it("maps a device's custom JSON to a twin update and the twin event to the backend's flat JSON", async () => {
  const prefix = uniquePrefix('js');
  const thingId = `js.test:${prefix}`;
  expect(
    (
      await bed.service.request('PUT', `/api/2/things/${thingId}`, {
        body: { features: { environment: { properties: {} } } },
      })
    ).status,
  ).toBe(201);
  const connection = mqttConnection({
    uri: bed.broker.url,
    prefix,
    source: { payloadMapping: ['telemetry'] },
    target: { payloadMapping: ['flat'] },
    extra: {
      mappingDefinitions: {
        telemetry: {
          mappingEngine: 'JavaScript',
          options: { incomingScript: script('json-telemetry/incoming.js'), outgoingScript: '' },
        },
        flat: {
          mappingEngine: 'JavaScript',
          options: { incomingScript: '', outgoingScript: script('twin-event-to-flat-json/outgoing.js') },
        },
      },
    },
  });
  const id = await createOpenConnection(bed.service.request, connection);
  const backend = await bed.driver.subscribe(`${prefix}/events/#`);
  const device = await mqtt.connectAsync(bed.broker.url, { clientId: `${prefix}-device` });
  const ts = Date.parse('2026-11-21T10:00:00Z');
  await device.publishAsync(
    `${prefix}/telemetry/sensor-1`,
    JSON.stringify({ deviceId: thingId, temperature: 21.5, humidity: 40, ts }),
    { qos: 1 },
  );

  const properties = await waitFor(async () => {
    const res = await bed.service.request('GET', `/api/2/things/${thingId}/features/environment/properties`);
    return res.json?.temperature === 21.5 ? res.json : undefined;
  }, 'twin updated by the incoming script');
  expect(properties).toEqual({ temperature: 21.5, humidity: 40, measuredAt: '2026-11-21T10:00:00.000Z' });

  const out = await backend.next();
  expect(out.topic).toBe(`${prefix}/events/${thingId}`);
  const record = JSON.parse(out.payload.toString());
  expect(record).toMatchObject({
    thingId,
    path: '/features/environment/properties',
    action: 'modified',
    value: properties,
    revision: 2,
  });
  expect(Date.parse(record.timestamp)).not.toBeNaN();

  // `published` counts the broker's PUBACK, which may come after the backend got the message.
  const metrics = await waitFor(async () => {
    const m = (await bed.service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
    return metric(m, 'outbound', 'published') >= 1 ? m : undefined;
  }, 'published metric');
  expect(metric(metrics, 'inbound', 'mapped')).toBe(1);
  expect(metric(metrics, 'outbound', 'published')).toBe(1);
  await device.endAsync();
  await backend.close();
  expect((await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS })).status).toBe(
    204,
  );
});
