/**
 * The Kafka connector client against the local Kafka, below the runtime (§11.6): what is committed when
 * messages settle out of order, redelivery after a nack and after a reconnect, back-pressure, qos 0,
 * inbound headers and expiry, and target addresses (`topic#partition`, `topic/key`, header overrides).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaConnectorClient } from '../../connectors/kafka/client.js';
import { kafka } from '../../connectors/kafka/index.js';
import type { InboundMessage, SourceHandle } from '../../src/connectivity/index.js';
import { validateConnection } from '../../src/connectivity/validate.js';
import type { Connection } from '../../src/connectivity/model.js';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createKafkaDriver, type KafkaDriver } from '../drivers/kafka.js';
import { uniquePrefix, waitFor } from './helpers.js';

let endpoint: BrokerEndpoint;
let driver: KafkaDriver;
let unlock: (() => void) | undefined;
const clients: KafkaConnectorClient[] = [];

beforeAll(async () => {
  endpoint = await getBroker('kafka');
  await new Promise<void>((acquired, failed) => {
    withBrokerLock(
      endpoint,
      () => new Promise<void>((done) => ((unlock = done), acquired())),
      'shared',
    ).catch(failed);
  });
  driver = createKafkaDriver(endpoint);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await driver?.close();
  unlock?.();
});

function connection(
  id: string,
  source: Record<string, unknown> | null,
  extra: Record<string, unknown> = {},
): Connection {
  return validateConnection(
    {
      id,
      connectionType: 'kafka',
      connectionStatus: 'open',
      uri: `tcp://${endpoint.brokers[0]}`,
      specificConfig: { bootstrapServers: endpoint.brokers.join(','), consumerOffsetReset: 'earliest' },
      sources: source
        ? [{ addresses: ['placeholder'], qos: 1, authorizationContext: ['nginx:ditto'], ...source }]
        : [],
      targets: [
        { address: 'placeholder', topics: ['_/_/things/twin/events'], authorizationContext: ['nginx:ditto'] },
      ],
      ...extra,
    },
    { connectors: new Map([['kafka', kafka]]) },
  );
}

interface Opened {
  client: KafkaConnectorClient;
  handle: SourceHandle;
  received: InboundMessage[];
}

async function open(
  conn: Connection,
  topic: string,
  onMessage?: (m: InboundMessage, handle: () => SourceHandle) => void,
): Promise<Opened> {
  const client = new KafkaConnectorClient({
    connection: conn,
    clientIndex: 0,
    shared: false,
    onDisconnect: () => undefined,
  });
  clients.push(client);
  await client.connect();
  const received: InboundMessage[] = [];
  // The callback reads the handle once createSource has returned.
  const ref: { handle?: SourceHandle } = {};
  ref.handle = await client.createSource(conn.sources[0], topic, 0, (m) => {
    received.push(m);
    onMessage?.(m, () => ref.handle!);
  });
  return { client, handle: ref.handle, received };
}

const payloads = (ms: InboundMessage[]) => ms.map((m) => m.payload.toString());

async function topicWith(name: string, values: string[], partitions = 1): Promise<string> {
  const topic = uniquePrefix(name);
  await driver.createTopic(topic, { partitions });
  if (values.length > 0)
    await driver.publish(
      topic,
      values.map((value) => ({ value, partition: 0 })),
    );
  return topic;
}

describe('kafka source', () => {
  it('commits only up to the first unacknowledged message; a new client continues there', async () => {
    const topic = await topicWith('commit', ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    const conn = connection(uniquePrefix('c'), {});
    const first = await open(conn, topic);
    await waitFor(() => first.received.length === 6, 'six delivered');
    for (const i of [0, 1, 2, 4, 5]) first.received[i].ack();
    await new Promise((r) => setTimeout(r, 400));
    await first.client.close();

    const second = await open(conn, topic);
    await waitFor(() => second.received.length === 3, 'redelivered from m3');
    expect(payloads(second.received)).toEqual(['m3', 'm4', 'm5']);
  });

  it('redelivers a nacked message (and what followed it) after a back-off, in order', async () => {
    const topic = await topicWith('nack', ['a', 'b', 'c']);
    const { received } = await open(connection(uniquePrefix('c'), {}), topic);
    await waitFor(() => received.length === 3, 'three delivered');
    received[0].ack();
    received[1].nack(true);
    received[2].ack(); // discarded: redelivered after b anyway
    await waitFor(() => received.length === 5, 'b and c again');
    expect(payloads(received)).toEqual(['a', 'b', 'c', 'b', 'c']);
  });

  it('stops delivering while paused and continues where it stopped on resume', async () => {
    const values = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const topic = await topicWith('pause', values);
    const { received, handle } = await open(connection(uniquePrefix('c'), {}), topic, (m, h) => {
      m.ack();
      if (m.payload.toString() === 'p9') h().pause();
    });
    await waitFor(() => received.length === 10, 'ten delivered');
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toHaveLength(10);
    handle.resume();
    await waitFor(() => received.length === 50, 'the rest');
    expect(payloads(received)).toEqual(values);
  });

  it('commits qos 0 messages on consumption (no redelivery without acks)', async () => {
    const topic = await topicWith('qos0', ['x', 'y']);
    const conn = connection(uniquePrefix('c'), { qos: 0 });
    const first = await open(conn, topic);
    await waitFor(() => first.received.length === 2, 'two delivered');
    await new Promise((r) => setTimeout(r, 300));
    await first.client.close();
    await driver.publish(topic, { value: 'z' });
    const second = await open(conn, topic);
    await waitFor(() => second.received.length >= 1, 'the new one');
    await new Promise((r) => setTimeout(r, 300));
    expect(payloads(second.received)).toEqual(['z']);
  });

  it('starts a new group at the end with consumerOffsetReset=latest and keeps that position while closed', async () => {
    const topic = await topicWith('latest', ['old']);
    const conn = connection(
      uniquePrefix('c'),
      {},
      { specificConfig: { bootstrapServers: endpoint.brokers.join(','), consumerOffsetReset: 'latest' } },
    );
    const first = await open(conn, topic);
    await new Promise((r) => setTimeout(r, 300));
    expect(first.received).toHaveLength(0);
    await first.client.close();
    await driver.publish(topic, { value: 'while closed' });
    const second = await open(conn, topic);
    await waitFor(() => second.received.length === 1, 'the message published while closed');
    expect(payloads(second.received)).toEqual(['while closed']);
  });

  it('maps kafka.topic, kafka.key, kafka.timestamp and record headers; drops expired messages', async () => {
    const topic = await topicWith('hdr', []);
    await driver.publish(topic, [
      { value: 'expired', headers: { 'creation-time': String(Date.now() - 10_000), ttl: '1000' } },
      {
        key: 'device-1',
        value: 'fresh',
        headers: { 'Device-Id': 'd1', 'creation-time': String(Date.now()), ttl: '60000' },
      },
    ]);
    const { received } = await open(connection(uniquePrefix('c'), {}), topic);
    await waitFor(() => received.length === 1, 'the fresh one');
    await new Promise((r) => setTimeout(r, 300));
    expect(payloads(received)).toEqual(['fresh']);
    const h = received[0].headers;
    expect(h).toMatchObject({ 'kafka.topic': topic, 'kafka.key': 'device-1', 'device-id': 'd1' });
    expect(Math.abs(Number(h['kafka.timestamp']) - Date.now())).toBeLessThan(60_000);
    expect(received[0].address).toBe(topic);
  });
});

describe('kafka target', () => {
  it('publishes to topic#partition, topic/key and the kafka.topic/kafka.key overrides, with record headers', async () => {
    const topic = await topicWith('out', [], 3);
    const other = await topicWith('other', [], 1);
    const conn = connection(uniquePrefix('c'), null);
    const client = new KafkaConnectorClient({
      connection: conn,
      clientIndex: 0,
      shared: false,
      onDisconnect: () => undefined,
    });
    clients.push(client);
    await client.connect();
    const target = await client.createTarget(conn.targets[0]);
    const sub = await driver.subscribe(topic);
    const subOther = await driver.subscribe(other);
    await target.write({
      address: `${topic}#2`,
      headers: { 'correlation-id': 'c1' },
      payload: Buffer.from('to-partition-2'),
      contentType: 'application/json',
    });
    await target.write({ address: `${topic}/thing:1`, headers: {}, payload: Buffer.from('keyed') });
    await target.write({
      address: topic,
      headers: { 'kafka.topic': other, 'kafka.key': 'k9' },
      payload: Buffer.from('redirected'),
    });
    // Records of different partitions come in any order.
    const both = [await sub.next(), await sub.next()];
    const [a, b] = both[0].value?.toString() === 'to-partition-2' ? both : both.reverse();
    const c = await subOther.next();
    expect({
      partition: a.partition,
      value: a.value?.toString(),
      cid: a.headers['correlation-id']?.toString(),
      ct: a.headers['content-type']?.toString(),
    }).toEqual({ partition: 2, value: 'to-partition-2', cid: 'c1', ct: 'application/json' });
    expect({ key: b.key?.toString(), value: b.value?.toString() }).toEqual({
      key: 'thing:1',
      value: 'keyed',
    });
    expect({ key: c.key?.toString(), value: c.value?.toString(), headers: Object.keys(c.headers) }).toEqual({
      key: 'k9',
      value: 'redirected',
      headers: [],
    });
    await expect(
      target.write({ address: 'not a topic!', headers: {}, payload: Buffer.from('x') }),
    ).rejects.toThrow(/not a valid Kafka topic/);
  });
});
