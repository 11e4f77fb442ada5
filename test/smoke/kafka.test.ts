import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createKafkaDriver, type KafkaDriver } from '../drivers/kafka.js';
import { restartable, restartTimeoutMs, uniqueName } from './helpers.js';

describe('Kafka broker', () => {
  let broker: BrokerEndpoint;
  let driver: KafkaDriver;
  const topics: string[] = [];

  beforeAll(async () => {
    broker = await getBroker('kafka');
    driver = createKafkaDriver(broker);
  });
  afterAll(() =>
    // Cleanup while no other file restarts the broker.
    withBrokerLock(
      broker,
      async () => {
        await driver?.close();
        for (const topic of topics) await driver.deleteTopic(topic);
      },
      'shared',
    ),
  );

  async function newTopic(): Promise<string> {
    const topic = uniqueName('smoke-kafka');
    await driver.createTopic(topic);
    topics.push(topic);
    return topic;
  }

  it(
    'delivers a produced record to a consumer',
    () =>
      withBrokerLock(
        broker,
        async () => {
          const topic = await newTopic();
          await driver.publish(topic, {
            key: 'thing-1',
            value: 'hello over Kafka',
            headers: { source: 'smoke' },
          });
          const subscription = await driver.subscribe(topic);
          const message = await subscription.next(20_000);
          expect(message.key?.toString()).toBe('thing-1');
          expect(message.value?.toString()).toBe('hello over Kafka');
          expect(message.headers.source?.toString()).toBe('smoke');
          await subscription.close();
        },
        'shared',
      ),
    60_000,
  );

  it.runIf(restartable('kafka'))(
    'keeps records and delivers new ones after the broker was stopped and started',
    () =>
      withBrokerLock(broker, async () => {
        const topic = await newTopic();
        await driver.publish(topic, { value: 'before restart' });
        await driver.restart();
        await driver.publish(topic, { value: 'after restart' });
        const subscription = await driver.subscribe(topic);
        expect((await subscription.next(30_000)).value?.toString()).toBe('before restart');
        expect((await subscription.next(30_000)).value?.toString()).toBe('after restart');
        await subscription.close();
      }),
    restartTimeoutMs,
  );
});
