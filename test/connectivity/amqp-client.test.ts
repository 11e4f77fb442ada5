/**
 * The AMQP connector clients directly against the local RabbitMQ (what the conformance suite does not
 * reach): settlement (§11.6: 0.9.1 basic.nack requeue true/false; 1.0 modified[delivery-failed] / rejected),
 * back-pressure by pause/resume (0.9.1 prefetch + cancel/consume, 1.0 link credit), publisher confirms and
 * broker refusals, property ↔ header mapping, credentials that are refused and never echoed, and save-time
 * validation of addresses.
 */
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqp091 } from '../../connectors/amqp-091/index.js';
import { amqp10 } from '../../connectors/amqp-10/index.js';
import type { AnyConnector, ConnectorClient, InboundMessage } from '../../src/connectivity/index.js';
import { validateConnection } from '../../src/connectivity/index.js';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { uniquePrefix, waitFor } from './helpers.js';

let endpoint: BrokerEndpoint;
let admin: amqplib.ChannelModel;
let channel: amqplib.Channel;
const queues: string[] = [];
let unlock: () => void;

beforeAll(async () => {
  endpoint = await getBroker('amqp091');
  // Shared usage of the broker for the whole file (nobody restarts it meanwhile).
  await new Promise<void>((acquired, failed) => {
    withBrokerLock(endpoint, () => (acquired(), new Promise<void>((r) => (unlock = r))), 'shared').catch(
      failed,
    );
  });
  admin = await amqplib.connect(endpoint.url);
  channel = await admin.createChannel();
});
afterAll(async () => {
  for (const q of queues) await channel.deleteQueue(q);
  await admin?.close();
  unlock?.();
});

async function queue(): Promise<string> {
  const name = uniquePrefix('client');
  await channel.assertQueue(name, { durable: true });
  queues.push(name);
  return name;
}

function connectionOf(connector: AnyConnector, overrides: Record<string, unknown>) {
  const json = {
    id: uniquePrefix('c'),
    connectionType: connector.type,
    connectionStatus: 'open',
    uri: endpoint.url,
    sources: [],
    targets: [],
    ...overrides,
  };
  return validateConnection(json, { connectors: new Map([[connector.type, connector]]) });
}

async function client(
  connector: AnyConnector,
  overrides: Record<string, unknown> = {},
): Promise<ConnectorClient> {
  const c = connector.createClient({
    connection: connectionOf(connector, overrides),
    clientIndex: 0,
    shared: false,
    onDisconnect: () => undefined,
  });
  await c.connect();
  return c;
}

const SOURCE = {
  index: 0,
  addresses: [],
  consumerCount: 1,
  qos: 0,
  authorizationContext: [],
  acknowledgementRequests: { includes: [] },
  declaredAcks: [],
  headerMapping: [],
  payloadMapping: [],
};
const TARGET = {
  index: 0,
  address: 'x',
  addressTemplate: { parts: [], placeholders: [] } as never,
  topics: [],
  authorizationContext: [],
  headerMapping: [],
  payloadMapping: [],
  qos: 0,
};

/** Collects deliveries; `next()` waits for the next one. */
function inbox() {
  const got: InboundMessage[] = [];
  let index = 0;
  return {
    deliver: (m: InboundMessage) => got.push(m),
    got,
    next: () =>
      waitFor(
        () => (got.length > index ? got[index++] : undefined),
        'a delivery',
        10_000,
        10,
      ) as Promise<InboundMessage>,
  };
}

const publish = (q: string, body: string) => channel.sendToQueue(q, Buffer.from(body), { persistent: true });
const depth = async (q: string) => (await channel.checkQueue(q)).messageCount;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const variants = [
  {
    connector: amqp091 as AnyConnector,
    address: (q: string) => q,
    target: (q: string) => `/${q}`,
    prefetch: { prefetchCount: '2' },
  },
  {
    connector: amqp10 as AnyConnector,
    address: (q: string) => `/amq/queue/${q}`,
    target: (q: string) => `/amq/queue/${q}`,
    prefetch: { 'jms.prefetchPolicy.all': '2' },
  },
];

describe.each(variants)('$connector.type client', ({ connector, address, target, prefetch }) => {
  it('redelivers a message nacked for redelivery and drops one nacked without', async () => {
    const q = await queue();
    const c = await client(connector);
    const box = inbox();
    await c.createSource(SOURCE, address(q), 0, box.deliver);
    publish(q, 'one');
    const first = await box.next();
    expect(first.payload.toString()).toBe('one');
    first.nack(true);
    const again = await box.next();
    expect(again.payload.toString()).toBe('one');
    again.ack();
    publish(q, 'two');
    const second = await box.next();
    second.nack(false);
    await sleep(300);
    expect(box.got.map((m) => m.payload.toString())).toEqual(['one', 'one', 'two']);
    await c.close();
    expect(await depth(q)).toBe(0);
  });

  it('holds unsettled messages to the prefetch, stops while paused and goes on after resume', async () => {
    const q = await queue();
    for (let i = 1; i <= 6; i++) publish(q, `m${i}`);
    const c = await client(connector, { specificConfig: prefetch });
    const box = inbox();
    const handle = await c.createSource(SOURCE, address(q), 0, box.deliver);
    await box.next();
    await box.next();
    await sleep(200);
    // Prefetch 2: nothing more until something is settled.
    expect(box.got).toHaveLength(2);
    handle.pause();
    for (const m of box.got) m.ack();
    await sleep(300);
    expect(box.got).toHaveLength(2);
    handle.resume();
    for (let i = 3; i <= 6; i++) (await box.next()).ack();
    expect(box.got.map((m) => m.payload.toString())).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await sleep(100);
    await c.close();
    expect(await depth(q)).toBe(0);
  });

  it('returns unsettled messages to the queue when the client closes', async () => {
    const q = await queue();
    publish(q, 'kept');
    const c = await client(connector);
    const box = inbox();
    await c.createSource(SOURCE, address(q), 0, box.deliver);
    await box.next();
    await c.close();
    await waitFor(async () => (await depth(q)) === 1, 'message back in the queue');
  });

  it('resolves a write once the broker took it and rejects a write the broker refuses, then writes again', async () => {
    const q = await queue();
    const c = await client(connector);
    const handle = await c.createTarget(TARGET);
    const missing = connector === amqp091 ? `no-such-exchange-${q}/rk` : `/exchange/no-such-exchange-${q}/rk`;
    await expect(
      handle.write({ address: missing, headers: {}, payload: Buffer.from('x') }),
    ).rejects.toThrow();
    await handle.write({
      address: target(q),
      headers: { 'correlation-id': 'c-1', 'x-custom': 'v' },
      payload: Buffer.from('{"a":1}'),
      contentType: 'application/json',
    });
    const got = await channel.get(q, { noAck: true });
    expect(got && got.content.toString()).toBe('{"a":1}');
    await c.close();
  });

  it('maps properties and headers both ways', async () => {
    const q = await queue();
    const c = await client(connector);
    const handle = await c.createTarget(TARGET);
    const headers: Record<string, string> =
      connector === amqp091
        ? {
            'correlation-id': 'c-7',
            'content-type': 'application/json',
            'reply-to': 'replies',
            'x-custom': 'v',
          }
        : {
            'correlation-id': 'c-7',
            'content-type': 'application/json',
            subject: 's',
            'reply-to': 'replies',
            'creation-time': '1700000000000',
            'x-custom': 'v',
            'amqp.application.property:subject': 'app-subject',
          };
    await handle.write({ address: target(q), headers, payload: Buffer.from('{"b":2}') });
    const box = inbox();
    await c.createSource(SOURCE, address(q), 0, box.deliver);
    const m = await box.next();
    m.ack();
    expect(m.payload.toString()).toBe('{"b":2}');
    if (connector === amqp091) {
      // reply-to is a header of the table outbound; inbound the property of that name would win.
      expect(m.headers).toMatchObject({
        'correlation-id': 'c-7',
        'content-type': 'application/json',
        'x-custom': 'v',
        'reply-to': 'replies',
      });
    } else {
      expect(m.headers).toMatchObject(headers);
      expect(m.headers.to).toBe(target(q));
    }
    await c.close();
  });

  it('fails to consume a queue that does not exist with a retriable error naming it', async () => {
    const missing = `${uniquePrefix('missing')}`;
    const c = await client(connector);
    const error = await c
      .createSource(SOURCE, address(missing), 0, () => undefined)
      .then(
        () => undefined,
        (e: unknown) => e as Error & { retriable?: boolean },
      );
    await c.close();
    expect(error?.message).toContain(missing);
    expect(error?.retriable).toBe(true);
  });

  it('refuses a wrong password as not retriable and never echoes it', async () => {
    const uri = new URL(endpoint.url);
    uri.password = 'Wr0ng-Secr3t';
    const c = connector.createClient({
      connection: connectionOf(connector, { uri: uri.href }),
      clientIndex: 0,
      shared: false,
      onDisconnect: () => undefined,
    });
    const error = await c.connect().then(
      () => undefined,
      (e: unknown) => e as Error & { retriable?: boolean },
    );
    await c.close();
    expect(error).toBeInstanceOf(Error);
    expect(error!.retriable).toBe(false);
    expect(`${error!.message} ${String(error!.stack)}`).not.toContain('Wr0ng-Secr3t');
  });
});

describe('address validation', () => {
  const target = (address: string) => ({
    address,
    topics: ['_/_/things/twin/events'],
    authorizationContext: ['nginx:ditto'],
  });
  it('accepts exactly one / in an AMQP 0.9.1 target address and refuses none or more', () => {
    expect(() => connectionOf(amqp091, { targets: [target('ex/{{ thing:id }}')] })).not.toThrow();
    expect(() => connectionOf(amqp091, { targets: [target('/queue')] })).not.toThrow();
    expect(() => connectionOf(amqp091, { targets: [target('queue')] })).toThrow(/exactly one/);
    expect(() => connectionOf(amqp091, { targets: [target('ex/a/b')] })).toThrow(/exactly one/);
  });
  it('accepts name, queue://name and topic://name AMQP 1.0 targets', () => {
    for (const a of ['events', 'queue://events', 'topic://events/{{ thing:id }}'])
      expect(() => connectionOf(amqp10, { targets: [target(a)] })).not.toThrow();
    expect(() => connectionOf(amqp10, { targets: [target('queue://')] })).toThrow(/names no node/);
  });
  it('refuses other URI schemes', () => {
    expect(() => connectionOf(amqp091, { uri: 'http://127.0.0.1:1' })).toThrow(/amqp or amqps/);
    expect(() => connectionOf(amqp10, { uri: 'tcp://127.0.0.1:1' })).toThrow(/amqp or amqps/);
  });
});
