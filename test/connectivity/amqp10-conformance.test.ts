/**
 * The connector conformance suite against the local RabbitMQ's AMQP 1.0 plugin, for `amqp-10`.
 *
 * RabbitMQ 3.x addresses: sources read `/amq/queue/<name>` (an existing durable queue), targets write to
 * `/exchange/<prefix>/<routing key>`. Adaptations the suite's driver interface needs (it has no
 * asynchronous "prepare" step): the prefix's queues and exchange are declared in a short child process
 * (execFileSync) when `connection()` is called, and the suite's `<prefix>/events/a/b/c` target becomes
 * `/exchange/<prefix>/events~a~b~c`; the consumer reads the address from the message's `to` property
 * (set to the target address, as JMS producers do) and maps it back.
 * The broker is shared: every case holds its shared usage lock; the restart case trades it for the exclusive
 * one while the broker is down.
 */
import { execFileSync } from 'node:child_process';
import rhea, { type Connection, type EventContext, type Sender } from 'rhea';
import { afterEach, beforeEach, vi } from 'vitest';
import { amqp10 } from '../../connectors/amqp-10/index.js';
import { getBroker, holdBrokerLock, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import {
  connectorSuite,
  type ConnectorSuiteDriver,
  type ReceivedMessage,
} from '../conformance/connector.suite.js';
import { brokerControl } from '../drivers/control.js';
import { declareConformanceTopology as declare } from './rabbitmq.js';

vi.setConfig({ testTimeout: 90_000 });

let endpoint: BrokerEndpoint;
let release: (() => void) | undefined;

beforeEach(async () => {
  endpoint ??= await getBroker('amqp10');
  // The restart case trades it for the exclusive lock in stopBroker.
  release = await holdBrokerLock(endpoint, 'shared');
});
afterEach(() => {
  release?.();
  release = undefined;
});

const SUBJECT = 'nginx:ditto';

function open(url: string): Promise<Connection> {
  const { hostname, port, username, password } = new URL(url);
  return new Promise((resolve, reject) => {
    const connection = rhea.create_container().connect({
      host: hostname,
      port: Number(port),
      username: decodeURIComponent(username),
      password: decodeURIComponent(password),
      reconnect: false,
    });
    connection.on('error', () => undefined);
    connection.on('protocol_error', () => undefined);
    connection.once('connection_open', () => resolve(connection));
    connection.once('disconnected', (ctx: EventContext) => reject(ctx.error ?? new Error('disconnected')));
  });
}

function amqp10Driver(): ConnectorSuiteDriver {
  let url = '';
  const declared = new Set<string>();
  let device: Connection | undefined;
  const senders = new Map<string, { sender: Sender; queue: Array<() => void> }>();
  let unlockRestart: (() => void) | undefined;

  const deviceConnection = async () => {
    if (!device || !device.is_open()) {
      senders.clear();
      device = await open(url);
    }
    return device;
  };

  return {
    name: 'amqp-10 (RabbitMQ AMQP 1.0 plugin)',
    connector: amqp10,
    // start and stop run in the suite's beforeAll/afterAll, outside the per-test lock: they take their own.
    async start() {
      endpoint ??= await getBroker('amqp10');
      url = endpoint.url;
      await withBrokerLock(endpoint, deviceConnection, 'shared');
      return { uri: url };
    },
    stop: () =>
      withBrokerLock(
        endpoint,
        async () => {
          device?.close();
          if (declared.size === 0) return;
          const script = `const amqp=require('amqplib');const s=JSON.parse(require('fs').readFileSync(0,'utf8'));
(async()=>{const c=await amqp.connect(s.url);const ch=await c.createChannel();for(const p of s.prefixes){
await ch.deleteQueue(p+'.telemetry');await ch.deleteQueue(p+'.events');await ch.deleteExchange(p);}await c.close();})();`;
          execFileSync(process.execPath, ['-e', script], {
            input: JSON.stringify({ url, prefixes: [...declared] }),
            stdio: ['pipe', 'ignore', 'inherit'],
            timeout: 20_000,
          });
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
        target.address = `/exchange/${exchange}/${rest.join('~')}`;
      }
      return {
        name: `test ${prefix}`,
        connectionType: 'amqp-10',
        connectionStatus: 'open',
        uri,
        sources: [
          {
            addresses: [`/amq/queue/${prefix}.telemetry`],
            authorizationContext: [SUBJECT],
            ...overrides.source,
          },
        ],
        targets: [
          {
            address: `/exchange/${prefix}/events~{{ thing:id }}`,
            topics: ['_/_/things/twin/events'],
            authorizationContext: [SUBJECT],
            ...target,
          },
        ],
        ...overrides.extra,
      };
    },
    sourceAddress: (prefix) => `/amq/queue/${prefix}.telemetry`,
    async publish(address, payload, headers = {}) {
      // Sends in call order on one sender per address; resolves when the broker accepted the message.
      const connection = device?.is_open() ? device : await deviceConnection();
      let entry = senders.get(address);
      if (!entry) {
        const sender = connection.open_sender({ target: { address } });
        // One settlement listener per message in flight (removed when it settles): more than 10 is fine.
        sender.setMaxListeners(0);
        const created = { sender, queue: [] as Array<() => void> };
        sender.on('sendable', () => {
          while (created.queue.length > 0 && sender.sendable()) created.queue.shift()!();
        });
        senders.set(address, (entry = created));
      }
      const { sender, queue } = entry;
      const { 'correlation-id': correlationId, 'content-type': contentType, ...properties } = headers;
      await new Promise<void>((resolve, reject) => {
        const send = () => {
          const delivery = sender.send({
            durable: true,
            body: rhea.message.data_section(Buffer.from(payload)),
            correlation_id: correlationId,
            content_type: contentType,
            application_properties: properties,
          });
          const settled = (ctx: EventContext) => {
            if (ctx.delivery !== delivery) return;
            sender.removeListener('accepted', settled);
            sender.removeListener('rejected', settled);
            if (
              ctx.delivery.remote_state?.constructor?.name === 'Rejected' ||
              rhea.message.is_rejected(ctx.delivery.remote_state ?? {})
            )
              reject(new Error(`message to ${address} rejected`));
            else resolve();
          };
          sender.on('accepted', settled);
          sender.on('rejected', settled);
        };
        if (queue.length === 0 && sender.sendable()) send();
        else queue.push(send);
      });
    },
    async consume(prefix) {
      const connection = await open(url);
      const buffer: ReceivedMessage[] = [];
      const waiters: Array<(m: ReceivedMessage) => void> = [];
      const receiver = connection.open_receiver({
        source: { address: `/amq/queue/${prefix}.events` },
        credit_window: 100,
        autoaccept: true,
      });
      receiver.on('message', (ctx: EventContext) => {
        const message = ctx.message!;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(
          (message.application_properties ?? {}) as Record<string, unknown>,
        ))
          headers[k] = String(v);
        if (message.content_type) headers['content-type'] = String(message.content_type);
        if (message.correlation_id) headers['correlation-id'] = String(message.correlation_id);
        const body: unknown = message.body;
        const payload =
          typeof body === 'string'
            ? Buffer.from(body)
            : Buffer.isBuffer(body)
              ? body
              : (body as { content: Buffer }).content;
        const to = String(message.to ?? '');
        const m = /^\/exchange\/([^/]+)\/(.*)$/.exec(to);
        const address = m ? `${m[1]}/${m[2].split('~').join('/')}` : to;
        const item = { address, payload, headers };
        const w = waiters.shift();
        if (w) w(item);
        else buffer.push(item);
      });
      await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
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
        close: async () => {
          connection.close();
        },
      };
    },
    async stopBroker() {
      release?.();
      release = undefined;
      unlockRestart = await holdBrokerLock(endpoint, 'exclusive');
      device?.close();
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

connectorSuite(amqp10Driver());
