// Test driver for a Kafka cluster, through kafkajs: create and delete topics, produce, consume.
// Each call connects its own client, so calls after a broker restart need no reconnect handling.
import { Kafka, logLevel, type IHeaders, type Admin } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { BrokerEndpoint } from '../brokers/index.js';
import { brokerControl, type BrokerControl } from './control.js';
import { createSubscription, type Subscription } from './subscription.js';

export interface KafkaRecord {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: IHeaders;
  partition?: number;
}

export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface KafkaSubscribeOptions {
  /** Consumer group (default: a fresh one per subscription). */
  groupId?: string;
  /** Read the topic from its start rather than from new records only (default true). */
  fromBeginning?: boolean;
}

export interface KafkaDriver extends BrokerControl {
  /** Creates a topic (no-op when it exists) and waits until its partitions have leaders. */
  createTopic(topic: string, options?: { partitions?: number }): Promise<void>;
  deleteTopic(topic: string): Promise<void>;
  /** Produces records with acks=all; resolves once the broker acknowledged them. */
  publish(topic: string, records: KafkaRecord | KafkaRecord[]): Promise<void>;
  /** Joins a consumer group on `topic`; resolves once partitions are assigned. */
  subscribe(topic: string, options?: KafkaSubscribeOptions): Promise<Subscription<KafkaMessage>>;
  /** Closes every subscription this driver opened. */
  close(): Promise<void>;
}

export function createKafkaDriver(endpoint: BrokerEndpoint): KafkaDriver {
  const kafka = new Kafka({
    clientId: 'twinbridge-test',
    brokers: endpoint.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 200 },
  });
  const open = new Set<Subscription<KafkaMessage>>();

  async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * After a (re)start the broker answers before it can coordinate consumer groups (it first loads its
   * offsets partitions): wait until a group coordinator answers, so a consumer joining right after does
   * not fail with NOT_COORDINATOR.
   */
  async function awaitGroupCoordinator(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await withAdmin((admin) => admin.describeGroups(['twinbridge-coordinator-probe']));
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error('Kafka has no group coordinator after its start', { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  const control = brokerControl(endpoint);
  return {
    ...control,
    async start() {
      await control.start();
      await awaitGroupCoordinator();
    },
    async restart() {
      await control.stop();
      await this.start();
    },

    createTopic: (topic, options = {}) =>
      withAdmin(async (admin) => {
        await admin.createTopics({
          topics: [{ topic, numPartitions: options.partitions ?? 1 }],
          waitForLeaders: true,
        });
      }),

    deleteTopic: (topic) => withAdmin((admin) => admin.deleteTopics({ topics: [topic] })),

    async publish(topic, records) {
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: Array.isArray(records) ? records : [records] });
      } finally {
        await producer.disconnect();
      }
    },

    async subscribe(topic, options = {}) {
      const consumer = kafka.consumer({
        groupId: options.groupId ?? `twinbridge-test-${randomUUID()}`,
        retry: { retries: 0 },
      });
      const sink = createSubscription<KafkaMessage>(async () => {
        open.delete(sink.subscription);
        await consumer.disconnect();
      });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      // A retriable error (e.g. "coordinator is loading" right after a broker restart) makes kafkajs restart
      // the consumer by itself (`restart: true`); only a crash it gives up on fails the subscription.
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) sink.fail(event.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
      await consumer.run({
        eachMessage: async ({ topic: from, partition, message }) => {
          sink.push({
            topic: from,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
          });
        },
      });
      await joined;
      open.add(sink.subscription);
      return sink.subscription;
    },

    async close() {
      await Promise.all([...open].map((subscription) => subscription.close()));
    },
  };
}
