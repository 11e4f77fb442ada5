/**
 * The connector conformance suite against the local Kafka (KRaft), for `kafka`.
 *
 * Adaptations the suite's driver interface needs:
 *  - the connector never creates topics and `connection()` is synchronous, so the driver creates the
 *    prefix's source topic `<prefix>.telemetry` (2 partitions) in a short child process (execFileSync);
 *    `consume(prefix)` creates the target topic `<prefix>` before it subscribes;
 *  - target addresses are `topic/key` (§11.6): the suite's `<prefix>/events/a/b/c` is topic `<prefix>` with
 *    key `events/a/b/c`, and the consumer reports `topic/key` as the address;
 *  - Kafka orders per partition only, so the device keys its records by thing ID as a real device would.
 * The broker is shared: every case holds its shared usage lock, the restart case takes it exclusively.
 */
import { execFileSync } from 'node:child_process';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterEach, beforeEach, inject, vi } from 'vitest';
import { kafka as kafkaConnector } from '../../connectors/kafka/index.js';
import { fromEnvironment, getBroker, holdBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import {
  connectorSuite,
  type ConnectorSuiteDriver,
  type ReceivedMessage,
} from '../conformance/connector.suite.js';
import { createKafkaDriver, type KafkaDriver } from '../drivers/kafka.js';

// A Kafka stop and start (controlled shutdown, log recovery) takes many seconds on a busy machine.
vi.setConfig({ testTimeout: 120_000 });

const SUBJECT = 'nginx:ditto';
const PARTITIONS = 2;

let endpoint: BrokerEndpoint;
let release: (() => void) | undefined;
/** Set while the restart case holds the broker stopped (exclusive lock). */
let restarting: { unlock: () => void; driver: KafkaDriver } | undefined;

beforeEach(async (ctx) => {
  endpoint ??= await getBroker('kafka');
  // The restart case takes the lock exclusively itself (stopBroker).
  if (!/broker restart/.test(ctx.task.name)) release = await holdBrokerLock(endpoint, 'shared');
});
afterEach(async () => {
  release?.();
  release = undefined;
  // A restart case that failed between stop and start: start the broker again for everyone else.
  if (restarting) {
    const { unlock, driver } = restarting;
    restarting = undefined;
    try {
      await driver.start();
    } finally {
      unlock();
    }
  }
});

/** Creates a topic synchronously (the suite's connection() is synchronous). */
function createTopicSync(brokers: string[], topic: string, partitions: number): void {
  const script = `const { Kafka, logLevel } = require('kafkajs'); const s = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => { const a = new Kafka({ brokers: s.brokers, logLevel: logLevel.NOTHING }).admin(); await a.connect();
await a.createTopics({ topics: [{ topic: s.topic, numPartitions: s.partitions }], waitForLeaders: true }); await a.disconnect(); })()
.catch((e) => { console.error(e.message); process.exit(1); });`;
  execFileSync(process.execPath, ['-e', script], {
    input: JSON.stringify({ brokers, topic, partitions }),
    cwd: process.cwd(),
    stdio: ['pipe', 'ignore', 'inherit'],
    timeout: 30_000,
  });
}

/** `ns:name` of the thing a Ditto Protocol command is about, if the payload is one. */
function thingOf(payload: string | Buffer): string | undefined {
  try {
    const topic = (JSON.parse(payload.toString()) as { topic?: string }).topic;
    const [ns, name] = topic?.split('/') ?? [];
    return name === undefined ? undefined : `${ns}:${name}`;
  } catch {
    return undefined; // not JSON (the bad-input case): no key
  }
}

function kafkaDriver(): ConnectorSuiteDriver {
  let driver: KafkaDriver;
  let producer: Producer | undefined;
  /** Publishes one after the other, so records of one key keep their order. */
  let chain: Promise<unknown> = Promise.resolve();
  const topics = new Set<string>();

  const ensureTopic = (topic: string, partitions: number) => {
    if (topics.has(topic)) return;
    createTopicSync(endpoint.brokers, topic, partitions);
    topics.add(topic);
  };

  return {
    name: 'kafka (Kafka 3.9 KRaft)',
    connector: kafkaConnector,
    async start() {
      endpoint ??= await getBroker('kafka');
      driver = createKafkaDriver(endpoint);
      producer = new Kafka({
        clientId: 'twinbridge-conformance-device',
        brokers: endpoint.brokers,
        logLevel: logLevel.NOTHING,
      }).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      return { uri: `tcp://${endpoint.brokers[0]}` };
    },
    async stop() {
      await chain.catch(() => undefined);
      await producer?.disconnect();
      await driver?.close();
    },
    connection(prefix, uri, overrides = {}) {
      ensureTopic(`${prefix}.telemetry`, PARTITIONS);
      return {
        name: `test ${prefix}`,
        connectionType: 'kafka',
        connectionStatus: 'open',
        uri,
        specificConfig: { bootstrapServers: endpoint.brokers.join(',') },
        sources: [
          {
            addresses: [`${prefix}.telemetry`],
            qos: 1,
            authorizationContext: [SUBJECT],
            ...overrides.source,
          },
        ],
        targets: [
          {
            address: `${prefix}/{{ thing:id }}`,
            topics: ['_/_/things/twin/events'],
            authorizationContext: [SUBJECT],
            ...overrides.target,
          },
        ],
        ...overrides.extra,
      };
    },
    sourceAddress: (prefix) => `${prefix}.telemetry`,
    publish(address, payload, headers = {}) {
      const record = { key: thingOf(payload) ?? null, value: payload, headers };
      const sent = chain.then(() => producer!.send({ topic: address, acks: -1, messages: [record] }));
      chain = sent.catch(() => undefined);
      return sent.then(() => undefined);
    },
    async consume(prefix) {
      await driver.createTopic(prefix, { partitions: PARTITIONS });
      topics.add(prefix);
      const subscription = await driver.subscribe(prefix, { fromBeginning: true });
      const toReceived = (m: Awaited<ReturnType<typeof subscription.next>>): ReceivedMessage => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers)) if (v !== undefined) headers[k] = v.toString();
        return {
          address: m.key ? `${m.topic}/${m.key.toString()}` : m.topic,
          payload: m.value ?? Buffer.alloc(0),
          headers,
        };
      };
      return {
        next: async (timeoutMs) => toReceived(await subscription.next(timeoutMs)),
        close: () => subscription.close(),
      };
    },
    // Only the local broker (scripts/brokers) can be stopped and started by the tests.
    ...(!fromEnvironment('kafka') && !inject('twinbridgeDockerBrokers')?.kafka
      ? {
          async stopBroker() {
            restarting = { unlock: await holdBrokerLock(endpoint, 'exclusive'), driver };
            await driver.stop();
          },
          async startBroker() {
            const held = restarting;
            restarting = undefined;
            try {
              await driver.start();
            } finally {
              held?.unlock();
            }
          },
        }
      : {}),
  };
}

connectorSuite(kafkaDriver());
