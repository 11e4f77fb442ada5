/**
 * The connector conformance suite against the local RabbitMQ, for `amqp-091`.
 *
 * Adaptations the suite's driver interface needs (it has no asynchronous "prepare" step):
 *  - source queues must exist before a connection opens (§11.6), and `connection()` is synchronous, so the
 *    driver declares the prefix's queues and exchange in a short child process (execFileSync);
 *  - an AMQP 0.9.1 target address has exactly one `/` (§14.13): the suite's `<prefix>/events/a/b/c`
 *    becomes exchange `<prefix>` and routing key `events~a~b~c`, and the consumer maps `~` back to `/`.
 * The broker is shared: every case holds its shared usage lock; the restart case trades it for the exclusive
 * one while the broker is down.
 */
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterEach, beforeEach, vi } from 'vitest';
import { amqp091 } from '../../connectors/amqp-091/index.js';
import { getBroker, holdBrokerLock, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import {
  connectorSuite,
  type ConnectorSuiteDriver,
  type ReceivedMessage,
} from '../conformance/connector.suite.js';
import { brokerControl } from '../drivers/control.js';
import { declareConformanceTopology as declare } from './rabbitmq.js';

// A RabbitMQ stop and start takes several seconds on a busy machine.
vi.setConfig({ testTimeout: 90_000 });

let endpoint: BrokerEndpoint;
let release: (() => void) | undefined;

beforeEach(async () => {
  endpoint ??= await getBroker('amqp091');
  // The restart case trades it for the exclusive lock in stopBroker.
  release = await holdBrokerLock(endpoint, 'shared');
});
afterEach(() => {
  release?.();
  release = undefined;
});

const SUBJECT = 'nginx:ditto';

function amqp091Driver(): ConnectorSuiteDriver {
  let url = '';
  const declared = new Set<string>();
  let device: { model: ChannelModel; channel: ConfirmChannel } | undefined;
  let unlockRestart: (() => void) | undefined;

  const deviceChannel = async () => {
    if (!device) {
      const model = await amqplib.connect(url);
      model.on('error', () => undefined);
      const channel = await model.createConfirmChannel();
      device = { model, channel };
      model.on('close', () => (device = undefined));
    }
    return device.channel;
  };

  return {
    name: 'amqp-091 (RabbitMQ)',
    connector: amqp091,
    // start and stop run in the suite's beforeAll/afterAll, outside the per-test lock: they take their own.
    async start() {
      endpoint ??= await getBroker('amqp091');
      url = endpoint.url;
      await withBrokerLock(endpoint, deviceChannel, 'shared');
      return { uri: url };
    },
    stop: () =>
      withBrokerLock(
        endpoint,
        async () => {
          await device?.model.close().catch(() => undefined);
          if (declared.size === 0) return;
          const model = await amqplib.connect(url);
          const channel = await model.createChannel();
          for (const prefix of declared) {
            await channel.deleteQueue(`${prefix}.telemetry`);
            await channel.deleteQueue(`${prefix}.events`);
            await channel.deleteExchange(prefix);
          }
          await model.close();
        },
        'shared',
      ),
    connection(prefix, uri, overrides = {}) {
      if (!declared.has(prefix)) {
        declare(url, prefix);
        declared.add(prefix);
      }
      const target = { ...overrides.target };
      if (typeof target.address === 'string') {
        const [exchange, ...rest] = target.address.split('/');
        target.address = `${exchange}/${rest.join('~')}`;
      }
      return {
        name: `test ${prefix}`,
        connectionType: 'amqp-091',
        connectionStatus: 'open',
        uri,
        sources: [
          { addresses: [`${prefix}.telemetry`], authorizationContext: [SUBJECT], ...overrides.source },
        ],
        targets: [
          {
            address: `${prefix}/events~{{ thing:id }}`,
            topics: ['_/_/things/twin/events'],
            authorizationContext: [SUBJECT],
            ...target,
          },
        ],
        ...overrides.extra,
      };
    },
    sourceAddress: (prefix) => `${prefix}.telemetry`,
    async publish(address, payload, headers = {}) {
      // Synchronous up to channel.publish when the channel is open, so concurrent calls keep their order.
      const channel = device?.channel ?? (await deviceChannel());
      const { 'correlation-id': correlationId, 'content-type': contentType, ...table } = headers;
      await new Promise<void>((resolve, reject) =>
        channel.publish(
          '',
          address,
          Buffer.from(payload),
          { persistent: true, headers: table, correlationId, contentType },
          (err: unknown) => (err ? reject(err as Error) : resolve()),
        ),
      );
    },
    async consume(prefix) {
      const model = await amqplib.connect(url);
      model.on('error', () => undefined);
      const channel = await model.createChannel();
      const buffer: ReceivedMessage[] = [];
      const waiters: Array<(m: ReceivedMessage) => void> = [];
      await channel.consume(`${prefix}.events`, (msg) => {
        if (!msg) return;
        channel.ack(msg);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries((msg.properties.headers ?? {}) as Record<string, unknown>))
          headers[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
        if (msg.properties.contentType) headers['content-type'] = String(msg.properties.contentType);
        if (msg.properties.correlationId) headers['correlation-id'] = String(msg.properties.correlationId);
        const m = {
          address: `${msg.fields.exchange}/${msg.fields.routingKey.split('~').join('/')}`,
          payload: msg.content,
          headers,
        };
        const w = waiters.shift();
        if (w) w(m);
        else buffer.push(m);
      });
      return {
        next: (timeoutMs = 10_000) =>
          buffer.length > 0
            ? Promise.resolve(buffer.shift()!)
            : new Promise<ReceivedMessage>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error('no message on the target')), timeoutMs);
                waiters.push((m) => {
                  clearTimeout(timer);
                  resolve(m);
                });
              }),
        close: () => model.close(),
      };
    },
    async stopBroker() {
      release?.();
      release = undefined;
      unlockRestart = await holdBrokerLock(endpoint, 'exclusive');
      await device?.model.close().catch(() => undefined);
      device = undefined;
      await brokerControl(endpoint).stop();
    },
    async startBroker() {
      try {
        await brokerControl(endpoint).start();
      } finally {
        unlockRestart?.();
        unlockRestart = undefined;
      }
    },
  };
}

connectorSuite(amqp091Driver());
