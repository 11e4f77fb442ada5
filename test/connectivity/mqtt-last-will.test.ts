/**
 * MQTT last will (§11.6 `lastWillTopic`, `lastWillQos`, `lastWillRetain`, `lastWillMessage`): published by
 * the broker when Twinbridge dies (SIGKILL), not when the connection is closed gracefully.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import { createMqttDriver } from '../drivers/mqtt.js';
import { request } from '../helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { DEVOPS, mqttConnection, uniquePrefix, waitFor } from './helpers.js';

let running: ServiceProcess | undefined;
keepBrokersUp('mqtt');

afterAll(async () => {
  await running?.stop('SIGKILL');
});

it('publishes the last will when Twinbridge dies but not on a graceful close', async () => {
  const broker = await getBroker('mqtt');
  const driver = createMqttDriver(broker);
  running = await startServiceProcess({
    TWINBRIDGE_DATA_DIR: await mkdtemp(path.join(tmpdir(), 'tb-will-')),
  });
  const prefix = uniquePrefix('will');
  const wills = await driver.subscribe(`${prefix}/will`);
  const json = mqttConnection({
    uri: broker.url,
    prefix,
    target: null,
    specificConfig: { lastWillTopic: `${prefix}/will`, lastWillQos: '1', lastWillMessage: 'twinbridge gone' },
  });
  const status = async (id: string) =>
    (await request(running!.url, 'GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json
      ?.liveStatus;

  const graceful = (await request(running.url, 'POST', '/api/2/connections', { auth: DEVOPS, body: json }))
    .json.id;
  await waitFor(async () => (await status(graceful)) === 'open', 'open');
  const closed = await request(running.url, 'POST', `/api/2/connections/${graceful}/command`, {
    auth: DEVOPS,
    raw: 'connectivity.commands:closeConnection',
    contentType: 'text/plain',
  });
  expect(closed.status).toBe(200);
  await expect(wills.next(1000)).rejects.toThrow();

  const open = await request(running.url, 'POST', `/api/2/connections/${graceful}/command`, {
    auth: DEVOPS,
    raw: 'connectivity.commands:openConnection',
    contentType: 'text/plain',
  });
  expect(open.status).toBe(200);
  await running.stop('SIGKILL');
  running = undefined;
  const will = await wills.next(10_000);
  expect(will.payload.toString()).toBe('twinbridge gone');
  expect(will.qos).toBe(1);
  await driver.close();
}, 60_000);
