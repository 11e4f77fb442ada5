/**
 * Broker restart (issue 7): Mosquitto stops for 10 s mid-stream; the connection shows `failed` with details,
 * is `open` again within 5 s after the broker is back, and the QoS 1 messages published meanwhile arrive.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import {
  DEVOPS,
  modifyCommand,
  mqttConnection,
  uniquePrefix,
  waitFor,
  createOpenConnection,
} from './helpers.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';

let service: TestService;
let broker: Mosquitto;

beforeAll(async () => {
  broker = await startMosquitto();
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
  await broker?.stop();
});

it('reports failed while the broker is down, reopens within 5 s and receives what was published meanwhile', async () => {
  const prefix = uniquePrefix('restart');
  const thingId = `restart.test:${prefix}`;
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  const id = await createOpenConnection(
    service.request,
    mqttConnection({ uri: broker.url, prefix, target: null, specificConfig: { cleanSession: 'false' } }),
  );
  const status = async () =>
    (await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json;

  // The device keeps publishing; its own client reconnects and resends unacknowledged QoS 1 messages.
  const device = await mqtt.connectAsync(broker.url, {
    clientId: `${prefix}-device`,
    clean: false,
    reconnectPeriod: 200,
  });
  let seq = 0;
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      seq++;
      await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(thingId, '/attributes/counter', seq), {
        qos: 1,
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await waitFor(
    async () =>
      ((await service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json as number) >= 10,
    'first messages',
  );

  await broker.stop();
  const failed = await waitFor(
    async () => {
      const s = await status();
      return s.liveStatus === 'failed' ? s : undefined;
    },
    'failed status',
    5000,
  );
  expect(failed.clientStatus[0]).toMatchObject({ status: 'failed' });
  expect(failed.clientStatus[0].statusDetails).toMatch(/Connection lost|Failed to connect/);
  await new Promise((r) => setTimeout(r, 10_000));
  expect((await status()).liveStatus).toBe('failed');

  await broker.start();
  const back = Date.now();
  await waitFor(async () => (await status()).liveStatus === 'open', 'open again', 5000);
  expect(Date.now() - back).toBeLessThan(5000);

  // Everything published before, during and after the outage arrives; the last value wins.
  await new Promise((r) => setTimeout(r, 500));
  publishing = false;
  await publisher;
  const last = seq;
  await waitFor(
    async () => (await service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json === last,
    `counter ${last}`,
    10_000,
  );
  const metrics = (await service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
  const rev = (await service.request('GET', `/api/2/things/${thingId}?fields=_revision`)).json._revision;
  // Every message was applied at least once (creation was revision 1).
  expect(rev - 1).toBeGreaterThanOrEqual(last);
  expect(metrics.connectionMetrics.inbound.consumed.success.PT1H).toBeGreaterThanOrEqual(last);
  await device.endAsync();
}, 60_000);
