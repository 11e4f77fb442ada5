/**
 * At least once through a crash (§9, §11.6 qos 1): a device produces 20,000 records, each setting a counter
 * to its sequence number on one of 100 things (keyed by thing, 3 partitions), while Twinbridge (its own
 * process) is killed with SIGKILL and restarted on the same data. Offsets are committed only up to records
 * whose twin write was durable, so the restarted consumer continues from there and nothing is lost;
 * afterwards every thing holds its last sequence number.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { request } from '../helpers/app.js';
import { getBroker, withBrokerLock } from '../brokers/index.js';
import { createKafkaDriver } from '../drivers/kafka.js';
import {
  createCounterThings,
  crashOnce,
  expectNoneLost,
  startCrashingService,
  type CrashingService,
} from './at-least-once.js';
import { DEVOPS, modifyCommand, uniquePrefix, waitFor } from './helpers.js';

const MESSAGES = 20_000;
const THINGS = 100;
const BATCH = 500;

let service: CrashingService | undefined;
let producer: Producer | undefined;
afterAll(async () => {
  await service?.stop();
  await producer?.disconnect();
});

it('applies every record of a device although Twinbridge is killed with SIGKILL mid-stream', async () => {
  const endpoint = await getBroker('kafka');
  await withBrokerLock(
    endpoint,
    async () => {
      const driver = createKafkaDriver(endpoint);
      const prefix = uniquePrefix('kalo');
      const topic = `${prefix}.telemetry`;
      await driver.createTopic(topic, { partitions: 3 });
      service = await startCrashingService();
      const thingIds = await createCounterThings(service.url, 'kalo.test', prefix, THINGS);
      const created = await request(service.url, 'POST', '/api/2/connections', {
        auth: DEVOPS,
        body: {
          name: `test ${prefix}`,
          connectionType: 'kafka',
          connectionStatus: 'open',
          uri: `tcp://${endpoint.brokers[0]}`,
          specificConfig: { bootstrapServers: endpoint.brokers.join(','), consumerOffsetReset: 'earliest' },
          sources: [{ addresses: [topic], qos: 1, authorizationContext: ['nginx:ditto'] }],
          targets: [],
        },
      });
      expect(created.status, created.text).toBe(201);
      const id = created.json.id;
      const isOpen = service.isOpen(id);
      await waitFor(isOpen, 'connection open', 20_000);

      producer = new Kafka({
        clientId: `${prefix}-device`,
        brokers: endpoint.brokers,
        logLevel: logLevel.NOTHING,
      }).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const crash = crashOnce(MESSAGES, service);
      for (let i = 1; i <= MESSAGES; i += BATCH) {
        const messages = [];
        for (let seq = i; seq < i + BATCH && seq <= MESSAGES; seq++) {
          const thingId = thingIds[seq % THINGS];
          messages.push({ key: thingId, value: modifyCommand(thingId, '/attributes/counter', seq) });
        }
        await producer.send({ topic, acks: -1, messages });
        crash.published(Math.min(MESSAGES, i + BATCH - 1));
        // Pace the device a little so the kill lands while Twinbridge is busy consuming.
        await new Promise((r) => setTimeout(r, 10));
      }
      await crash.done();

      // The restarted process reopens the stored connection and continues from the committed offsets.
      await waitFor(isOpen, 'connection reopened', 30_000);
      await expectNoneLost(service.url, thingIds, MESSAGES, 90_000);
      await driver.close();
    },
    'shared',
  );
}, 240_000);
