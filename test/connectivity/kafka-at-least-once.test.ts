/**
 * At least once through a crash (§9, §11.6 qos 1): a device produces 20,000 records, each setting a counter
 * to its sequence number on one of 100 things (keyed by thing, 3 partitions), while Twinbridge (its own
 * process) is killed with SIGKILL and restarted on the same data. Offsets are committed only up to records
 * whose twin write was durable, so the restarted consumer continues from there and nothing is lost;
 * afterwards every thing holds its last sequence number.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { request } from '../helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { getBroker, withBrokerLock } from '../brokers/index.js';
import { createKafkaDriver } from '../drivers/kafka.js';
import { createCounterThings, crashOnce, expectNoneLost } from './at-least-once.js';
import { DEVOPS, modifyCommand, uniquePrefix, waitFor } from './helpers.js';

const MESSAGES = 20_000;
const THINGS = 100;
const BATCH = 500;

let running: ServiceProcess | undefined;
let producer: Producer | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  await running?.stop('SIGKILL');
  await producer?.disconnect();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
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
      dataDir = await mkdtemp(path.join(tmpdir(), 'tb-kalo-'));
      const env = { TWINBRIDGE_DATA_DIR: dataDir };
      running = await startServiceProcess(env);
      const thingIds = await createCounterThings(running.url, 'kalo.test', prefix, THINGS);
      const created = await request(running.url, 'POST', '/api/2/connections', {
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
      const isOpen = async () => running !== undefined && (await request(running.url, 'GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json?.liveStatus === 'open';
      await waitFor(isOpen, 'connection open', 20_000);

      producer = new Kafka({ clientId: `${prefix}-device`, brokers: endpoint.brokers, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const crash = crashOnce(MESSAGES, async () => {
        const old = running!;
        running = undefined;
        await old.stop('SIGKILL');
        running = await startServiceProcess(env);
      });
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
      const killedAt = await crash.done();
      expect(killedAt).toBeGreaterThan(0);
      expect(killedAt).toBeLessThan(MESSAGES);

      // The restarted process reopens the stored connection and continues from the committed offsets.
      await waitFor(isOpen, 'connection reopened', 30_000);
      await expectNoneLost(running!.url, thingIds, MESSAGES, 90_000);
      await driver.close();
    },
    'shared',
  );
}, 240_000);
