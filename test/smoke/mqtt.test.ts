import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createMqttDriver, type MqttDriver } from '../drivers/mqtt.js';
import { restartable, restartTimeoutMs, uniqueName } from './helpers.js';

describe('MQTT broker', () => {
  let broker: BrokerEndpoint;
  let driver: MqttDriver;

  beforeAll(async () => {
    broker = await getBroker('mqtt');
    driver = createMqttDriver(broker);
  });
  afterAll(() => driver?.close());

  async function roundTrip(): Promise<void> {
    const topic = `smoke/${uniqueName('mqtt')}`;
    const subscription = await driver.subscribe(topic, { qos: 1 });
    await driver.publish(topic, 'hello over MQTT', { qos: 1 });
    const message = await subscription.next();
    expect(message.topic).toBe(topic);
    expect(message.payload.toString()).toBe('hello over MQTT');
    await subscription.close();
  }

  it('delivers a published message to a subscriber', () => withBrokerLock(broker, roundTrip, 'shared'));

  it.runIf(restartable('mqtt'))(
    'delivers a published message after the broker was stopped and started',
    () =>
      withBrokerLock(broker, async () => {
        await driver.restart();
        await roundTrip();
      }),
    restartTimeoutMs,
  );

  it.runIf(restartable('mqtt'))(
    "keeps a persistent session's queued QoS 1 message across a restart",
    () =>
      withBrokerLock(broker, async () => {
        const topic = `smoke/${uniqueName('mqtt-session')}`;
        const clientId = uniqueName('smoke-session');
        const first = await driver.subscribe(topic, { qos: 1, clientId, clean: false });
        await first.close();
        await driver.publish(topic, 'queued while offline', { qos: 1 });
        await driver.restart();
        const resumed = await driver.subscribe(topic, { qos: 1, clientId, clean: false });
        expect((await resumed.next()).payload.toString()).toBe('queued while offline');
        // End the session so the broker forgets it.
        await resumed.close();
        await (await driver.subscribe(topic, { clientId, clean: true })).close();
      }),
    restartTimeoutMs,
  );

  it.runIf(restartable('mqtt'))(
    'fails an open subscription when the broker stops',
    () =>
      withBrokerLock(broker, async () => {
        const subscription = await driver.subscribe(`smoke/${uniqueName('mqtt-outage')}`);
        try {
          await driver.stop();
          await expect(subscription.next(10_000)).rejects.toThrow(/closed|ECONNRESET|error/i);
        } finally {
          await driver.start();
          await subscription.close();
        }
      }),
    restartTimeoutMs,
  );
});
