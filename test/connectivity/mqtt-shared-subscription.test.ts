/**
 * An MQTT consumer group on a target's topics (§11.4 scaling; MQTT 5 shared subscriptions,
 * `$share/<group>/<filter>`), over the real Mosquitto: 3,000 twin events published by an `mqtt` target are
 * read by three members of one shared subscription; each event arrives exactly once across the group and
 * each member gets between 20 % and 47 % of them. The events come from 3,000 device commands on the
 * connection's source. The device stays at most WINDOW messages ahead of the events received: a broker
 * with Mosquitto's default limits (20 in flight, 1,000 queued per client) drops QoS 1 messages beyond its
 * queue when a device outruns the consumer, which a loaded CI machine made happen.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { expect, it } from 'vitest';
import {
  createOpenConnection,
  DEVOPS,
  modifyCommand,
  mqttConnection,
  uniquePrefix,
  waitFor,
} from './helpers.js';
import { mqttTestbed } from './mqtt-testbed.js';

const bed = mqttTestbed();

const EVENTS = 3000;
const THINGS = 20;
const MEMBERS = 3;
const WINDOW = 300;

/** `thingId@revision` of a Ditto Protocol event. */
const keyOf = (payload: Buffer) => {
  const event = JSON.parse(payload.toString()) as { topic: string; revision: number };
  const [ns, name] = event.topic.split('/');
  return `${ns}:${name}@${event.revision}`;
};

it(`delivers each of ${EVENTS} twin events exactly once across a shared subscription of ${MEMBERS}, 20–47 % to each member`, async () => {
  const prefix = uniquePrefix('shared');
  const ns = prefix.replace(/-/g, '_');
  const things = Array.from({ length: THINGS }, (_, i) => `${ns}:t${i}`);
  for (const t of things)
    expect(
      (await bed.service.request('PUT', `/api/2/things/${t}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
  const clients: MqttClient[] = [];
  const members: string[][] = [];
  for (let i = 0; i < MEMBERS; i++) {
    const client = await mqtt.connectAsync(bed.broker.url, {
      clientId: `${prefix}-member-${i}`,
      protocolVersion: 5,
    });
    const received: string[] = [];
    client.on('message', (_topic, payload) => received.push(keyOf(payload)));
    await client.subscribeAsync(`$share/${prefix}-group/${prefix}/events/#`, { qos: 1 });
    clients.push(client);
    members.push(received);
  }
  const device = await mqtt.connectAsync(bed.broker.url, {
    clientId: `${prefix}-device`,
    protocolVersion: 4,
  });
  clients.push(device);
  const id = await createOpenConnection(
    bed.service.request,
    mqttConnection({
      uri: bed.broker.url,
      prefix,
      target: { topics: [`_/_/things/twin/events?namespaces=${ns}`] },
    }),
  );
  const total = () => members.reduce((n, m) => n + m.length, 0);
  try {
    for (let i = 0; i < EVENTS; i++) {
      if (i - total() >= WINDOW)
        await waitFor(
          () => i - total() < WINDOW,
          () => `events to catch up with message ${i} (got ${total()})`,
          30_000,
          5,
        );
      const thing = things[i % THINGS];
      await device.publishAsync(
        `${prefix}/telemetry/${thing}`,
        modifyCommand(thing, '/attributes/counter', i + 1),
        { qos: 1 },
      );
    }
    await waitFor(
      () => total() >= EVENTS,
      () => `${EVENTS} events received (got ${total()})`,
      60_000,
      100,
    ).catch(async (error: Error) => {
      // Where the missing ones went: the connection's own counts tell a broker-side loss from a dropped signal.
      const metrics = (await bed.service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS }))
        .json;
      throw new Error(`${error.message}; connection metrics: ${JSON.stringify(metrics)}`);
    });
    // Anything beyond EVENTS would be a duplicate; give it a moment to show up.
    await new Promise((r) => setTimeout(r, 500));
    const all = members.flat();
    expect(all).toHaveLength(EVENTS);
    expect(new Set(all).size).toBe(EVENTS);
    for (const received of members) {
      const share = received.length / EVENTS;
      expect(share).toBeGreaterThanOrEqual(0.2);
      expect(share).toBeLessThanOrEqual(0.47);
    }
  } finally {
    await bed.service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
    await Promise.all(clients.map((c) => c.endAsync()));
  }
}, 120_000);
