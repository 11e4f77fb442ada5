/**
 * Connections on three instances (docs/scale-out.md "Connections"): a connection created on one instance
 * opens on every instance (each with its own client, the client ID suffixed with the instance ID), and each
 * twin event goes to a target once per cluster — by the instance that made the change — not once per
 * instance. Closing it on another instance closes it everywhere.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getBroker, type BrokerEndpoint, keepBrokersUp } from '../brokers/index.js';
import { createMqttDriver, type MqttDriver } from '../drivers/mqtt.js';
import { DEVOPS, modifyCommand, mqttConnection, uniquePrefix } from '../connectivity/helpers.js';
import { eventually, startClusterKit, type ClusterKit } from './cluster-kit.js';

let kit: ClusterKit;
let broker: BrokerEndpoint;
let driver: MqttDriver;
keepBrokersUp('postgres', 'mqtt');

beforeAll(async () => {
  const postgres = await getBroker('postgres');
  broker = await getBroker('mqtt');
  driver = createMqttDriver(broker);
  kit = await startClusterKit(postgres.url, 3);
});
afterAll(async () => {
  await driver?.close();
  await kit?.stop();
});

const statusOn = async (node: number, id: string) =>
  (await kit.request(node, 'GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json?.liveStatus as
    string | undefined;

it('publishes each change to an MQTT target exactly once while three instances run the connection', async () => {
  const prefix = uniquePrefix('cluster-out');
  const events = await driver.subscribe(`${prefix}/events/#`, { qos: 1 });
  const created = await kit.request(0, 'POST', '/api/2/connections', {
    auth: DEVOPS,
    body: mqttConnection({ uri: broker.url, prefix, source: { addresses: [`${prefix}/unused`] } }),
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const id = created.json.id as string;
  for (const node of [0, 1, 2])
    await eventually(
      async () => ((await statusOn(node, id)) === 'open' ? true : undefined),
      20_000,
      `connection open on node ${node + 1}`,
    );
  // Three clients with one configured client ID would take each other's sessions over (and flap).
  await new Promise((r) => setTimeout(r, 1000));
  for (const node of [0, 1, 2]) expect(await statusOn(node, id)).toBe('open');

  const CHANGES = 30;
  const thingId = `cluster.out:${prefix}`;
  expect(
    (await kit.request(0, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { n: 0 } } })).status,
  ).toBe(201);
  for (let n = 1; n < CHANGES; n++) {
    expect(
      (await kit.request(n % 3, 'PUT', `/api/2/things/${thingId}/attributes/n`, { body: n })).status,
    ).toBe(204);
  }
  const revisions: number[] = [];
  for (let i = 0; i < CHANGES; i++)
    revisions.push(
      (JSON.parse((await events.next(10_000)).payload.toString()) as { revision: number }).revision,
    );
  expect(revisions.sort((a, b) => a - b)).toEqual(Array.from({ length: CHANGES }, (_, i) => i + 1));
  // Nothing more arrives: no instance published another instance's change.
  await new Promise((r) => setTimeout(r, 1500));
  expect(events.buffered).toBe(0);
  await events.close();

  // Closed on instance 3, the connection closes on every instance.
  expect(
    (
      await kit.request(2, 'POST', `/api/2/connections/${id}/command`, {
        auth: DEVOPS,
        body: 'connectivity.commands:closeConnection',
        headers: { 'content-type': 'text/plain' },
      })
    ).status,
  ).toBe(200);
  for (const node of [0, 1, 2])
    await eventually(
      async () => ((await statusOn(node, id)) === 'closed' ? true : undefined),
      10_000,
      `connection closed on node ${node + 1}`,
    );
}, 90_000);

it('splits an MQTT 5 source between the instances: each device message is applied once', async () => {
  // A shared subscription hands messages out round-robin, without per-thing affinity (unlike Kafka
  // partitions): one thing per message here, so the test shows the split and exactly-once application.
  const prefix = uniquePrefix('cluster-in');
  const MESSAGES = 30;
  const things = Array.from({ length: MESSAGES }, (_, i) => `cluster.in:${prefix}-${i}`);
  for (const thingId of things)
    expect(
      (await kit.request(0, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: {} } })).status,
    ).toBe(201);
  const created = await kit.request(1, 'POST', '/api/2/connections', {
    auth: DEVOPS,
    body: mqttConnection({ uri: broker.url, prefix, type: 'mqtt-5', target: null }),
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const id = created.json.id as string;
  for (const node of [0, 1, 2])
    await eventually(
      async () => ((await statusOn(node, id)) === 'open' ? true : undefined),
      20_000,
      `connection open on node ${node + 1}`,
    );
  for (const thingId of things)
    await driver.publish(`${prefix}/telemetry/device`, modifyCommand(thingId, '/attributes/seen', true), {
      qos: 1,
    });
  await eventually(
    async () => {
      for (const thingId of things) {
        if ((await kit.request(2, 'GET', `/api/2/things/${thingId}/attributes`)).json?.seen !== true)
          return undefined;
      }
      return true;
    },
    20_000,
    'all device messages applied',
  );
  await new Promise((r) => setTimeout(r, 1000));
  // Applied once each (revision 2), and every instance took a share of the messages.
  for (const thingId of things)
    expect(
      (await kit.request(2, 'GET', `/api/2/things/${thingId}?fields=_revision`)).json._revision,
      thingId,
    ).toBe(2);
  const consumed = await Promise.all(
    [0, 1, 2].map(
      async (node) =>
        (await kit.request(node, 'GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json
          .connectionMetrics.inbound.consumed.success.PT1M as number,
    ),
  );
  expect(consumed.reduce((a, b) => a + b, 0)).toBe(MESSAGES);
  expect(consumed.filter((n) => n > 0).length).toBeGreaterThan(1);
  expect((await kit.request(0, 'DELETE', `/api/2/connections/${id}`, { auth: DEVOPS })).status).toBe(204);
}, 90_000);
