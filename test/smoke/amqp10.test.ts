import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createAmqp10Driver, type Amqp10Driver } from '../drivers/amqp10.js';
import { createAmqp091Driver } from '../drivers/amqp091.js';
import { restartable, restartTimeoutMs, uniqueName } from './helpers.js';

describe('AMQP 1.0 broker', () => {
  let broker: BrokerEndpoint;
  let driver: Amqp10Driver;
  const queues: string[] = [];

  beforeAll(async () => {
    broker = await getBroker('amqp10');
    driver = createAmqp10Driver(broker);
  });
  afterAll(() =>
    // Cleanup while no other file restarts the broker.
    withBrokerLock(
      broker,
      async () => {
        await driver?.close();
        // AMQP 1.0 has no queue deletion; RabbitMQ's queues are removed through AMQP 0.9.1.
        const amqp091 = createAmqp091Driver({ ...broker, kind: 'amqp091' });
        for (const queue of queues) await amqp091.deleteQueue(queue);
      },
      'shared',
    ),
  );

  async function newQueue(): Promise<string> {
    const queue = uniqueName('smoke-amqp10');
    await driver.createQueue(queue);
    queues.push(queue);
    return driver.queueAddress(queue);
  }

  it('delivers a sent message to a receiver', () =>
    withBrokerLock(
      broker,
      async () => {
        const address = await newQueue();
        const subscription = await driver.subscribe(address);
        await driver.send(address, 'hello over AMQP 1.0', {
          applicationProperties: { thingId: 'org.example:thing-1' },
        });
        const message = await subscription.next();
        expect(message.payload.toString()).toBe('hello over AMQP 1.0');
        expect(message.applicationProperties.thingId).toBe('org.example:thing-1');
        await subscription.close();
      },
      'shared',
    ));

  it.runIf(restartable('amqp10'))(
    'keeps a durable message and delivers new ones after the broker was stopped and started',
    () =>
      withBrokerLock(broker, async () => {
        const address = await newQueue();
        await driver.send(address, 'before restart', { durable: true });
        await driver.restart();
        await driver.send(address, 'after restart', { durable: true });
        const subscription = await driver.subscribe(address);
        expect((await subscription.next()).payload.toString()).toBe('before restart');
        expect((await subscription.next()).payload.toString()).toBe('after restart');
        await subscription.close();
      }),
    restartTimeoutMs,
  );
});
