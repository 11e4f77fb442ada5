/**
 * At least once through a crash (§11.6) for `amqp-091` and `amqp-10`: a device sends 6,000 persistent
 * messages to a durable queue, each setting a counter to its sequence number on one of 60 things, while
 * Twinbridge (its own process) is killed with SIGKILL and restarted on the same data. A delivery is acked
 * (settled) only once its twin write was durable, so RabbitMQ redelivers whatever the killed process had
 * not acknowledged; afterwards every thing holds its last sequence number.
 */
import amqplib from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock } from '../brokers/index.js';
import { request } from '../helpers/app.js';
import {
  createCounterThings,
  crashOnce,
  expectNoneLost,
  startCrashingService,
  type CrashingService,
} from './at-least-once.js';
import { DEVOPS, modifyCommand, uniquePrefix, waitFor } from './helpers.js';

const MESSAGES = 6000;
const THINGS = 60;
const BATCH = 300;

const variants = [
  { type: 'amqp-091', source: (queue: string) => queue },
  { type: 'amqp-10', source: (queue: string) => `/amq/queue/${queue}` },
] as const;

let service: CrashingService | undefined;
afterAll(async () => {
  await service?.stop();
});

describe.each(variants)('$type source', (variant) => {
  it('applies every message of a device although Twinbridge is killed with SIGKILL mid-stream', async () => {
    const endpoint = await getBroker('amqp091');
    await withBrokerLock(
      endpoint,
      async () => {
        const prefix = uniquePrefix('aalo');
        const queue = `${prefix}.telemetry`;
        const ns = `aalo.${variant.type.replace('-', '')}`;
        const model = await amqplib.connect(endpoint.url);
        const channel = await model.createConfirmChannel();
        await channel.assertQueue(queue, { durable: true });
        service = await startCrashingService();
        try {
          const thingIds = await createCounterThings(service.url, ns, prefix, THINGS);
          const created = await request(service.url, 'POST', '/api/2/connections', {
            auth: DEVOPS,
            body: {
              name: `test ${prefix}`,
              connectionType: variant.type,
              connectionStatus: 'open',
              uri: endpoint.url,
              sources: [{ addresses: [variant.source(queue)], authorizationContext: ['nginx:ditto'] }],
              targets: [],
            },
          });
          expect(created.status, created.text).toBe(201);
          const id = created.json.id;
          const isOpen = service.isOpen(id);
          await waitFor(isOpen, 'connection open', 20_000);

          const crash = crashOnce(MESSAGES, service);
          for (let i = 1; i <= MESSAGES; i += BATCH) {
            for (let seq = i; seq < i + BATCH && seq <= MESSAGES; seq++) {
              const thingId = thingIds[seq % THINGS];
              channel.sendToQueue(queue, Buffer.from(modifyCommand(thingId, '/attributes/counter', seq)), {
                persistent: true,
                contentType: 'application/json',
              });
            }
            await channel.waitForConfirms();
            crash.published(Math.min(MESSAGES, i + BATCH - 1));
            // Pace the device a little so the kill lands while Twinbridge is busy consuming.
            await new Promise((r) => setTimeout(r, 10));
          }
          await crash.done();

          // The restarted process reopens the stored connection; RabbitMQ redelivers what was not acknowledged.
          await waitFor(isOpen, 'connection reopened', 30_000);
          await expectNoneLost(service.url, thingIds, MESSAGES, 90_000);
          await request(service.url, 'DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
        } finally {
          await service.stop();
          service = undefined;
          await channel.deleteQueue(queue).catch(() => undefined);
          await model.close();
        }
      },
      'shared',
    );
  }, 240_000);
});
