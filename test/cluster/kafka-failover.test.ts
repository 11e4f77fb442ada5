/**
 * An instance failure (docs/scale-out.md "Connections"): a Kafka source whose consumer group (the
 * connection ID) is served by three instances; one instance is killed with SIGKILL mid-stream. The group
 * rebalances its partitions to the two others, which continue from the committed offsets — the connector
 * commits only offsets whose twin writes were durable, so the killed instance's in-flight records are
 * redelivered — and every record ends up in the twins: each thing's counter ends at its last sequence number.
 * And the hand-over itself (connectors/kafka/source.ts, revocation): a member gives a partition up only
 * after the records it delivered were settled, so the next owner never replays under a write still going on.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { getBroker, withBrokerLock } from '../brokers/index.js';
import { createKafkaDriver } from '../drivers/kafka.js';
import { DEVOPS, modifyCommand, uniquePrefix } from '../connectivity/helpers.js';
import { eventually, startClusterKit, type ClusterKit } from './cluster-kit.js';
import { KafkaSource } from '../../connectors/kafka/source.js';
import type { InboundMessage } from '../../src/connectivity/connector.js';

const MESSAGES = 6000;
const THINGS = 60;
const BATCH = 200;

let kit: ClusterKit | undefined;
let producer: Producer | undefined;
afterAll(async () => {
  await producer?.disconnect();
  await kit?.stop();
});

it('applies every record although one of three instances in the consumer group is killed mid-stream', async () => {
  const postgres = await getBroker('postgres');
  const endpoint = await getBroker('kafka');
  await withBrokerLock(
    endpoint,
    async () => {
      const driver = createKafkaDriver(endpoint);
      const prefix = uniquePrefix('cluster-kafka');
      const topic = `${prefix}.telemetry`;
      await driver.createTopic(topic, { partitions: 6 });
      kit = await startClusterKit(postgres.url, 3);
      const k = kit;
      const thingIds = Array.from({ length: THINGS }, (_, i) => `cluster.kafka:${prefix}-${i}`);
      for (const [i, thingId] of thingIds.entries()) {
        expect(
          (
            await k.request(i % 3, 'PUT', `/api/2/things/${thingId}`, {
              body: { attributes: { counter: 0 } },
            })
          ).status,
        ).toBe(201);
      }
      const created = await k.request(0, 'POST', '/api/2/connections', {
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
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const id = created.json.id as string;
      const openOn = async (node: number) =>
        (await k.request(node, 'GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json
          ?.liveStatus === 'open'
          ? true
          : undefined;
      for (const node of [0, 1, 2])
        await eventually(() => openOn(node), 30_000, `connection open on node ${node + 1}`);

      producer = new Kafka({
        clientId: `${prefix}-device`,
        brokers: endpoint.brokers,
        logLevel: logLevel.NOTHING,
      }).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      let killedAt = -1;
      let killing: Promise<void> | undefined;
      for (let i = 1; i <= MESSAGES; i += BATCH) {
        const messages = [];
        for (let seq = i; seq < i + BATCH && seq <= MESSAGES; seq++) {
          const thingId = thingIds[seq % THINGS];
          messages.push({ key: thingId, value: modifyCommand(thingId, '/attributes/counter', seq) });
        }
        await producer.send({ topic, acks: -1, messages });
        const published = Math.min(MESSAGES, i + BATCH - 1);
        if (killing === undefined && published >= MESSAGES / 3) {
          killedAt = published;
          // The victim really is a working member of the group: it has consumed records of its partitions.
          const consumed = async () =>
            ((await k.request(2, 'GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json
              .connectionMetrics.inbound.consumed.success.PT1H as number) || undefined;
          await eventually(consumed, 10_000, 'node 3 consuming');
          killing = k.instances[2].stop('SIGKILL');
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await killing;
      expect(killedAt).toBeGreaterThan(0);

      const lastOf = (t: number) => MESSAGES - ((MESSAGES - t) % THINGS);
      const pending = async () => {
        let behind = 0;
        for (const [t, thingId] of thingIds.entries()) {
          const res = await k.request(t % 2, 'GET', `/api/2/things/${thingId}/attributes/counter`);
          if (res.json !== lastOf(t)) behind++;
        }
        return behind === 0 ? true : undefined;
      };
      try {
        await eventually(pending, 90_000, 'every thing holds its last sequence number');
      } catch (err) {
        // Tell a lost record from a late write of an older one: was the last value ever journaled?
        const detail = [];
        for (const [t, thingId] of thingIds.entries()) {
          const values = (
            await k.query<{ v: string }>(
              `select event->'event'->>'value' as v from journal where kind = 'thing' and id = $1 order by seq`,
              [thingId],
            )
          ).map((r) => Number(r.v));
          if (values.at(-1) !== lastOf(t))
            detail.push(
              `${thingId}: last ${lastOf(t)} ${values.includes(lastOf(t)) ? `was applied, then overwritten by ${values.at(-1)} (a late write of an older record)` : `never applied (lost); ends at ${values.at(-1)}`}`,
            );
        }
        throw new Error(`${(err as Error).message}:\n${detail.join('\n')}`, { cause: err });
      }
      for (const [t, thingId] of thingIds.entries()) {
        const res = await k.request(0, 'GET', `/api/2/things/${thingId}?fields=attributes/counter,_revision`);
        expect(res.json.attributes.counter, thingId).toBe(lastOf(t));
        // Every record of the thing was applied at least once (redelivered ones twice): none was lost.
        expect(res.json._revision, thingId).toBeGreaterThanOrEqual(1 + MESSAGES / THINGS);
      }
      // The two survivors shared the work after the kill: both have consumed.
      for (const node of [0, 1]) {
        const metrics = (await k.request(node, 'GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS }))
          .json;
        expect(metrics.connectionMetrics.inbound.consumed.success.PT1H, `node ${node + 1}`).toBeGreaterThan(
          0,
        );
      }
      await driver.close();
    },
    'shared',
  );
}, 240_000);

it('hands a partition to a joining member only after the old member settled what it had delivered', async () => {
  const endpoint = await getBroker('kafka');
  await withBrokerLock(
    endpoint,
    async () => {
      const driver = createKafkaDriver(endpoint);
      const prefix = uniquePrefix('kafka-handoff');
      const topic = `${prefix}.telemetry`;
      const groupId = `${prefix}-group`;
      await driver.createTopic(topic, { partitions: 2 });
      const publish = (round: string) =>
        driver.publish(
          topic,
          [0, 1].flatMap((partition) =>
            Array.from({ length: 10 }, (_, i) => ({ partition, value: `${round}-${partition}-${i}` })),
          ),
        );
      const kafka = new Kafka({
        clientId: `${prefix}-test`,
        brokers: endpoint.brokers,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      const sources: KafkaSource[] = [];
      try {
        // Member A holds every delivery unsettled (a twin write under way); member B settles at once.
        const heldByA: InboundMessage[] = [];
        const failures: Error[] = [];
        const seen: Array<{ member: 'A' | 'B'; value: string; at: number }> = [];
        const source = (member: 'A' | 'B') =>
          new KafkaSource({
            kafka,
            admin,
            topic,
            groupId,
            offsetReset: 'earliest',
            qos: 1,
            deliver: (m) => {
              seen.push({ member, value: m.payload.toString(), at: Date.now() });
              if (member === 'A') heldByA.push(m);
              else m.ack();
            },
            onFailure: (e) => failures.push(e),
          });
        await publish('first');
        const a = source('A');
        sources.push(a);
        await a.start();
        await eventually(
          async () => (heldByA.length === 20 ? true : undefined),
          10_000,
          'member A received the first round',
        );
        // B joins: the rebalance moves one partition to B while A's deliveries are still in flight.
        const b = source('B');
        sources.push(b);
        const bJoined = b.start();
        await new Promise((r) => setTimeout(r, 1_500));
        const settledAt = Date.now();
        for (const m of heldByA.splice(0)) m.ack();
        await bJoined;
        await publish('second');
        await eventually(
          async () => (seen.filter((s) => s.value.startsWith('second-')).length >= 20 ? true : undefined),
          15_000,
          'the second round delivered',
        );
        const fromB = seen.filter((s) => s.member === 'B');
        expect(fromB.length, 'B took over a partition').toBeGreaterThan(0);
        // B starts after A's last settlement, from the offsets A committed: nothing A settled comes again.
        for (const s of fromB) expect(s.at, s.value).toBeGreaterThanOrEqual(settledAt);
        expect(fromB.filter((s) => s.value.startsWith('first-')).map((s) => s.value)).toEqual([]);
        const values = seen.map((s) => s.value);
        expect(new Set(values).size).toBe(values.length);
        expect(failures).toEqual([]);
      } finally {
        await Promise.all(sources.map((s) => s.close()));
        await admin.disconnect();
        await driver.close();
      }
    },
    'shared',
  );
}, 60_000);
