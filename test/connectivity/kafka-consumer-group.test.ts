/**
 * Consumer groups on the outbound side (§11.4, §11.6): Twinbridge publishes the events of 300 things to a
 * 6-partition topic keyed by thing ID (`topic/{{ thing:id }}`); three kafkajs consumers of one group share
 * the topic. Each of the 3,000 events arrives exactly once across the group, every member gets a fair share,
 * and the events of each thing arrive in revision order (one key, one partition).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createKafkaDriver, type KafkaDriver } from '../drivers/kafka.js';
import { createOpenConnection, modifyCommand, uniquePrefix, waitFor } from './helpers.js';

const THINGS = 300;
const EVENTS_PER_THING = 10;
const PARTITIONS = 6;
const MEMBERS = 3;

let endpoint: BrokerEndpoint;
let driver: KafkaDriver;
let service: TestService;
let unlock: (() => void) | undefined;
const consumers: Consumer[] = [];
let producer: Producer | undefined;

beforeAll(async () => {
  endpoint = await getBroker('kafka');
  // The broker must stay up meanwhile (a restart test elsewhere takes the lock exclusively).
  await new Promise<void>((acquired, failed) => {
    withBrokerLock(
      endpoint,
      () => new Promise<void>((done) => ((unlock = done), acquired())),
      'shared',
    ).catch(failed);
  });
  driver = createKafkaDriver(endpoint);
  service = await startTestService();
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect()));
  await producer?.disconnect();
  await service?.close();
  await driver?.close();
  unlock?.();
});

interface Received {
  member: number;
  key: string;
  revision: number;
  value: number;
}

it('publishes 3,000 events exactly once across a consumer group of three, each member getting 20–47 %', async () => {
  const prefix = uniquePrefix('kgrp');
  const source = `${prefix}.telemetry`;
  const target = `${prefix}.events`;
  await driver.createTopic(source, { partitions: 3 });
  await driver.createTopic(target, { partitions: PARTITIONS });
  const thingIds = Array.from({ length: THINGS }, (_, k) => `kgrp.test:${prefix}-${k}`);
  for (const thingId of thingIds) {
    expect(
      (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
  }

  // Three members of one group; wait until the group is stable with every partition assigned.
  const kafka = new Kafka({
    clientId: 'twinbridge-test-group',
    brokers: endpoint.brokers,
    logLevel: logLevel.NOTHING,
  });
  const groupId = `twinbridge-test-${randomUUID()}`;
  const assignments: number[][] = Array.from({ length: MEMBERS }, () => []);
  const received: Received[] = [];
  for (let member = 0; member < MEMBERS; member++) {
    const consumer = kafka.consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000 });
    consumers.push(consumer);
    consumer.on(
      consumer.events.GROUP_JOIN,
      (e) => (assignments[member] = e.payload.memberAssignment[target] ?? []),
    );
    await consumer.connect();
    await consumer.subscribe({ topic: target, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(message.value!.toString()) as { revision: number; value: number };
        received.push({ member, key: message.key!.toString(), revision: event.revision, value: event.value });
      },
    });
  }
  await waitFor(
    () => assignments.every((a) => a.length > 0) && assignments.flat().length === PARTITIONS,
    'a stable group of three',
    30_000,
  );

  await createOpenConnection(service.request, {
    name: `test ${prefix}`,
    connectionType: 'kafka',
    connectionStatus: 'open',
    uri: `tcp://${endpoint.brokers[0]}`,
    specificConfig: { bootstrapServers: endpoint.brokers.join(','), consumerOffsetReset: 'earliest' },
    sources: [{ addresses: [source], qos: 1, authorizationContext: ['nginx:ditto'] }],
    targets: [
      {
        address: `${target}/{{ thing:id }}`,
        topics: ['_/_/things/twin/events'],
        authorizationContext: ['nginx:ditto'],
      },
    ],
  });

  // A device sends 10 commands per thing, keyed by thing so that each thing's commands stay in order.
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const messages = [];
  for (let round = 1; round <= EVENTS_PER_THING; round++) {
    for (const thingId of thingIds)
      messages.push({ key: thingId, value: modifyCommand(thingId, '/attributes/counter', round) });
  }
  for (let i = 0; i < messages.length; i += 500)
    await producer.send({ topic: source, acks: -1, messages: messages.slice(i, i + 500) });

  const total = THINGS * EVENTS_PER_THING;
  await waitFor(() => received.length >= total, `${total} events`, 60_000, 100);
  // Anything beyond would be a duplicate: give stragglers a moment to show up.
  await new Promise((r) => setTimeout(r, 1000));

  expect(received).toHaveLength(total);
  const unique = new Set(received.map((r) => `${r.key}#${r.revision}`));
  expect(unique.size).toBe(total);
  for (let member = 0; member < MEMBERS; member++) {
    const share = received.filter((r) => r.member === member).length / total;
    expect(share, `member ${member} share`).toBeGreaterThanOrEqual(0.2);
    expect(share, `member ${member} share`).toBeLessThanOrEqual(0.47);
  }
  // Per thing: one partition, hence one member and revision order.
  for (const thingId of thingIds) {
    const events = received.filter((r) => r.key === thingId);
    expect(new Set(events.map((e) => e.member)).size).toBe(1);
    expect(events.map((e) => e.value)).toEqual(Array.from({ length: EVENTS_PER_THING }, (_, i) => i + 1));
  }
}, 120_000);
