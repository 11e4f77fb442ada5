// Test driver for an AMQP 0.9.1 broker (RabbitMQ), through amqplib: declare queues and exchanges,
// publish with publisher confirms, consume. Each call opens its own connection, so calls after a
// broker restart need no reconnect handling.
import amqplib, { type Options } from 'amqplib';
import type { BrokerEndpoint } from '../brokers/index.js';
import { brokerControl, type BrokerControl } from './control.js';
import { createSubscription, type Subscription } from './subscription.js';

export interface Amqp091Message {
  exchange: string;
  routingKey: string;
  payload: Buffer;
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
  redelivered: boolean;
}

export interface Amqp091Driver extends BrokerControl {
  /** Declares a queue (durable by default); no-op when it exists with the same settings. */
  createQueue(queue: string, options?: Options.AssertQueue): Promise<void>;
  deleteQueue(queue: string): Promise<void>;
  createExchange(
    exchange: string,
    type: 'direct' | 'topic' | 'fanout' | 'headers',
    options?: Options.AssertExchange,
  ): Promise<void>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void>;
  /** Publishes to an exchange ('' = the default exchange, routing key = queue name); resolves on the broker's confirm. */
  publish(
    exchange: string,
    routingKey: string,
    payload: string | Buffer,
    options?: Options.Publish,
  ): Promise<void>;
  /** Consumes from a queue; each message is acknowledged when it is handed to the subscription. */
  subscribe(queue: string, options?: { prefetch?: number }): Promise<Subscription<Amqp091Message>>;
  /** Closes every subscription this driver opened. */
  close(): Promise<void>;
}

export function createAmqp091Driver(endpoint: BrokerEndpoint): Amqp091Driver {
  const open = new Set<Subscription<Amqp091Message>>();

  async function withChannel<T>(fn: (channel: amqplib.ConfirmChannel) => Promise<T>): Promise<T> {
    const connection = await amqplib.connect(endpoint.url);
    // A reset (broker stopping, or the socket ending after the close handshake) is an 'error' event: kept
    // here and thrown by the operation, instead of an unhandled event that fails the whole test file.
    let failure: Error | undefined;
    connection.on('error', (error: Error) => {
      failure ??= error;
    });
    try {
      const channel = await connection.createConfirmChannel();
      const result = await fn(channel);
      if (failure) throw failure;
      return result;
    } finally {
      if (!failure) await connection.close();
    }
  }

  return {
    ...brokerControl(endpoint),

    createQueue: (queue, options = { durable: true }) =>
      withChannel(async (channel) => void (await channel.assertQueue(queue, options))),
    deleteQueue: (queue) => withChannel(async (channel) => void (await channel.deleteQueue(queue))),
    createExchange: (exchange, type, options = { durable: true }) =>
      withChannel(async (channel) => void (await channel.assertExchange(exchange, type, options))),
    bindQueue: (queue, exchange, routingKey) =>
      withChannel(async (channel) => void (await channel.bindQueue(queue, exchange, routingKey))),

    publish: (exchange, routingKey, payload, options = { persistent: true }) =>
      withChannel(async (channel) => {
        channel.publish(
          exchange,
          routingKey,
          typeof payload === 'string' ? Buffer.from(payload) : payload,
          options,
        );
        await channel.waitForConfirms();
      }),

    async subscribe(queue, options = {}) {
      const connection = await amqplib.connect(endpoint.url);
      const sink = createSubscription<Amqp091Message>(async () => {
        open.delete(sink.subscription);
        await connection.close().catch((error: Error) => {
          // Closing a connection the broker already closed is fine; anything else is not.
          if (!/closed/i.test(error.message)) throw error;
        });
      });
      // Without these listeners a broker shutdown would be an unhandled 'error' event.
      connection.on('error', (error: Error) => sink.fail(error));
      connection.on('close', () => sink.fail(new Error('AMQP 0.9.1 connection closed')));
      const channel = await connection.createChannel();
      await channel.prefetch(options.prefetch ?? 10);
      await channel.consume(queue, (message) => {
        if (!message) return sink.fail(new Error(`consumer of ${queue} cancelled by the broker`));
        sink.push({
          exchange: message.fields.exchange,
          routingKey: message.fields.routingKey,
          payload: message.content,
          headers: message.properties.headers ?? {},
          properties: { ...message.properties },
          redelivered: message.fields.redelivered,
        });
        channel.ack(message);
      });
      open.add(sink.subscription);
      return sink.subscription;
    },

    async close() {
      await Promise.all([...open].map((subscription) => subscription.close()));
    },
  };
}
