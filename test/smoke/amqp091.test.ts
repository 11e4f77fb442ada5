import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createAmqp091Driver, type Amqp091Driver } from '../drivers/amqp091.js';
import { restartable, restartTimeoutMs, uniqueName } from './helpers.js';

describe('AMQP 0.9.1 broker', () => {
  let broker: BrokerEndpoint;
  let driver: Amqp091Driver;
  const queues: string[] = [];

  beforeAll(async () => {
    broker = await getBroker('amqp091');
    driver = createAmqp091Driver(broker);
  });
  afterAll(() =>
    // Cleanup while no other file restarts the broker.
    withBrokerLock(
      broker,
      async () => {
        await driver?.close();
        for (const queue of queues) await driver.deleteQueue(queue);
      },
      'shared',
    ),
  );

  async function newQueue(): Promise<string> {
    const queue = uniqueName('smoke-amqp091');
    await driver.createQueue(queue, { durable: true });
    queues.push(queue);
    return queue;
  }

  it('delivers a message published through an exchange to a bound queue', () =>
    withBrokerLock(
      broker,
      async () => {
        const queue = await newQueue();
        const exchange = uniqueName('smoke-exchange');
        await driver.createExchange(exchange, 'topic', { durable: false, autoDelete: true });
        await driver.bindQueue(queue, exchange, 'things.#');
        const subscription = await driver.subscribe(queue);
        await driver.publish(exchange, 'things.twin.events', 'hello over AMQP 0.9.1', {
          headers: { 'correlation-id': 'c-1' },
        });
        const message = await subscription.next();
        expect(message.payload.toString()).toBe('hello over AMQP 0.9.1');
        expect(message.routingKey).toBe('things.twin.events');
        expect(message.headers['correlation-id']).toBe('c-1');
        await subscription.close();
      },
      'shared',
    ));

  it.runIf(restartable('amqp091'))(
    'keeps a persistent message and delivers new ones after the broker was stopped and started',
    () =>
      withBrokerLock(broker, async () => {
        const queue = await newQueue();
        await driver.publish('', queue, 'before restart', { persistent: true });
        await driver.restart();
        await driver.publish('', queue, 'after restart', { persistent: true });
        const subscription = await driver.subscribe(queue);
        expect((await subscription.next()).payload.toString()).toBe('before restart');
        expect((await subscription.next()).payload.toString()).toBe('after restart');
        await subscription.close();
      }),
    restartTimeoutMs,
  );
});
