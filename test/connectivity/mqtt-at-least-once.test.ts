/**
 * At least once through a crash (issue 7, §9): a device publishes 20,000 QoS 1 messages, each setting a
 * counter to its sequence number on one of 100 things, while Twinbridge (its own process) is killed with
 * SIGKILL and restarted. The connection uses cleanSession=false and a fixed clientId, so the broker keeps
 * the session and redelivers everything that was not PUBACKed — and Twinbridge PUBACKs only after the twin
 * write is durable. Afterwards every thing holds its last sequence number.
 */
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { request } from '../helpers/app.js';
import {
  createCounterThings,
  crashOnce,
  expectNoneLost,
  startCrashingService,
  type CrashingService,
} from './at-least-once.js';
import { DEVOPS, modifyCommand, mqttConnection, uniquePrefix, waitFor } from './helpers.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';

const MESSAGES = 20_000;
const THINGS = 100;
const WINDOW = 500;

let service: CrashingService | undefined;
let broker: Mosquitto | undefined;
afterAll(async () => {
  await service?.stop();
  await broker?.stop();
});

it('applies every message of a device although Twinbridge is killed with SIGKILL mid-stream', async () => {
  broker = await startMosquitto();
  service = await startCrashingService();
  const prefix = uniquePrefix('alo');
  const thingIds = await createCounterThings(service.url, 'alo.test', prefix, THINGS);
  const json = mqttConnection({
    uri: broker.url,
    prefix,
    target: null,
    specificConfig: { clientId: `${prefix}-twinbridge`, cleanSession: 'false' },
  });
  const created = await request(service.url, 'POST', '/api/2/connections', { auth: DEVOPS, body: json });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id;
  const isOpen = service.isOpen(id);
  await waitFor(isOpen, 'connection open');

  const device = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-device`, clean: true });
  const crash = crashOnce(MESSAGES, service);
  for (let i = 1; i <= MESSAGES; i += WINDOW) {
    const batch: Array<Promise<unknown>> = [];
    for (let seq = i; seq < i + WINDOW && seq <= MESSAGES; seq++) {
      batch.push(
        device.publishAsync(
          `${prefix}/telemetry/d`,
          modifyCommand(thingIds[seq % THINGS], '/attributes/counter', seq),
          { qos: 1 },
        ),
      );
    }
    await Promise.all(batch);
    crash.published(Math.min(MESSAGES, i + WINDOW - 1));
  }
  await crash.done();
  await device.endAsync();

  // The restarted process reopens the stored connection; the broker redelivers the session's messages.
  await waitFor(isOpen, 'connection reopened', 20_000);
  await expectNoneLost(service.url, thingIds, MESSAGES, 60_000);
}, 180_000);
