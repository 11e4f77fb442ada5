// Test driver for an AMQP 1.0 broker, through rhea. Addresses follow RabbitMQ 3.x's AMQP 1.0
// plugin: `/queue/<name>` declares the queue when a link attaches (durable only if the terminus is
// durable, and a mismatch with an existing queue is an error), `/amq/queue/<name>` names an existing
// queue without declaring it, `/exchange/<x>/<key>` is an exchange with a routing key.
// Each call opens its own connection, so calls after a broker restart need no reconnect handling.
import rhea, { type Connection, type ConnectionOptions, type Message } from 'rhea';
import type { BrokerEndpoint } from '../brokers/index.js';
import { brokerControl, type BrokerControl } from './control.js';
import { createSubscription, type Subscription } from './subscription.js';

export interface Amqp10Message {
  address: string;
  payload: Buffer;
  applicationProperties: Record<string, unknown>;
  /** The message as rhea decoded it (properties, annotations, body). */
  raw: Message;
}

export interface Amqp10SendOptions {
  applicationProperties?: Record<string, unknown>;
  contentType?: string;
  durable?: boolean;
}

export interface Amqp10Driver extends BrokerControl {
  /** The AMQP 1.0 address of an existing queue (RabbitMQ 3.x: `/amq/queue/<name>`). */
  queueAddress(queue: string): string;
  /** Declares a durable queue by attaching a link with a durable target to its address. */
  createQueue(queue: string): Promise<void>;
  /** Sends one message (a data section) and resolves when the broker accepted it. */
  send(address: string, payload: string | Buffer, options?: Amqp10SendOptions): Promise<void>;
  /** Attaches a receiver with `credit` link credit; each message is accepted when handed over. */
  subscribe(address: string, options?: { credit?: number }): Promise<Subscription<Amqp10Message>>;
  /** Closes every subscription this driver opened. */
  close(): Promise<void>;
}

function connectionOptions(url: string): ConnectionOptions {
  const { hostname, port, username, password } = new URL(url);
  return {
    host: hostname,
    port: Number(port || 5672),
    username: decodeURIComponent(username) || undefined,
    password: decodeURIComponent(password) || undefined,
    reconnect: false,
  };
}

/** Opens a connection; resolves once the peer's open frame arrived. */
function openConnection(url: string): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const connection = rhea.create_container().connect(connectionOptions(url));
    // rhea throws an 'error' event nobody listens to; callers add their own handlers for link and
    // session errors, so this one only keeps such an error from crashing the test process.
    connection.on('error', (error: unknown) =>
      reject(error instanceof Error ? error : new Error(String(error))),
    );
    connection.once('connection_open', () => resolve(connection));
    connection.once('connection_error', (context) =>
      reject(context.connection.error ?? new Error('AMQP 1.0 connection refused')),
    );
    connection.once('disconnected', (context) => reject(context.error ?? new Error('AMQP 1.0 disconnected')));
  });
}

function closeConnection(connection: Connection): Promise<void> {
  if (!connection.is_open()) return Promise.resolve();
  return new Promise((resolve) => {
    connection.once('connection_close', () => resolve());
    connection.once('disconnected', () => resolve());
    connection.close();
  });
}

function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  // A data section arrives as { typecode: 0x75, content: Buffer }.
  if (
    body &&
    typeof body === 'object' &&
    'content' in body &&
    Buffer.isBuffer((body as { content: unknown }).content)
  ) {
    return (body as { content: Buffer }).content;
  }
  return Buffer.from(JSON.stringify(body ?? null));
}

export function createAmqp10Driver(endpoint: BrokerEndpoint): Amqp10Driver {
  const open = new Set<Subscription<Amqp10Message>>();

  /** Attaches a sender to `address`, sends `message` (if any) and waits for its outcome. */
  async function sendOnce(
    address: string,
    message: Message | undefined,
    durableTarget = false,
  ): Promise<void> {
    const connection = await openConnection(endpoint.url);
    try {
      await new Promise<void>((resolve, reject) => {
        // Terminus durability 2 (unsettled-state) makes RabbitMQ 3.x declare the queue durable;
        // without it the plugin declares a transient queue that a restart loses.
        const sender = connection.open_sender({
          target: durableTarget ? { address, durable: 2 } : { address },
        });
        sender.once('sender_error', (context) =>
          reject(context.sender?.error ?? new Error(`sender to ${address} refused`)),
        );
        connection.once('disconnected', (context) =>
          reject(context.error ?? new Error('AMQP 1.0 disconnected')),
        );
        connection.once('session_error', (context) =>
          reject(context.session?.error ?? new Error(`session to ${address} ended`)),
        );
        if (!message) {
          sender.once('sender_open', () => resolve());
          return;
        }
        sender.once('sendable', () => sender.send(message));
        sender.once('accepted', () => resolve());
        sender.once('rejected', (context) =>
          reject(
            new Error(`message to ${address} rejected: ${JSON.stringify(context.delivery?.remote_state)}`),
          ),
        );
        sender.once('released', () => reject(new Error(`message to ${address} released`)));
        sender.once('modified', () => reject(new Error(`message to ${address} modified (not delivered)`)));
      });
    } finally {
      await closeConnection(connection);
    }
  }

  return {
    ...brokerControl(endpoint),

    queueAddress: (queue) => `/amq/queue/${queue}`,

    createQueue: (queue) => sendOnce(`/queue/${queue}`, undefined, true),

    send(address, payload, options = {}) {
      return sendOnce(address, {
        body: rhea.message.data_section(typeof payload === 'string' ? Buffer.from(payload) : payload),
        durable: options.durable ?? true,
        content_type: options.contentType,
        application_properties: options.applicationProperties,
      });
    },

    async subscribe(address, options = {}) {
      const connection = await openConnection(endpoint.url);
      const sink = createSubscription<Amqp10Message>(async () => {
        open.delete(sink.subscription);
        await closeConnection(connection);
      });
      connection.on('disconnected', (context) =>
        sink.fail(context.error ?? new Error('AMQP 1.0 disconnected')),
      );
      connection.on('connection_error', (context) =>
        sink.fail(context.connection.error ?? new Error('AMQP 1.0 connection error')),
      );
      connection.on('session_error', (context) =>
        sink.fail(context.session?.error ?? new Error('AMQP 1.0 session ended')),
      );
      await new Promise<void>((resolve, reject) => {
        connection.once('session_error', (context) =>
          reject(context.session?.error ?? new Error(`session for ${address} ended`)),
        );
        const receiver = connection.open_receiver({
          source: { address },
          credit_window: options.credit ?? 10,
          autoaccept: true,
        });
        receiver.once('receiver_open', () => resolve());
        receiver.once('receiver_error', (context) =>
          reject(context.receiver?.error ?? new Error(`receiver from ${address} refused`)),
        );
        receiver.on('message', (context) => {
          const message = context.message;
          if (!message) return;
          sink.push({
            address,
            payload: bodyBytes(message.body),
            applicationProperties: message.application_properties ?? {},
            raw: message,
          });
        });
      });
      open.add(sink.subscription);
      return sink.subscription;
    },

    async close() {
      await Promise.all([...open].map((subscription) => subscription.close()));
    },
  };
}
