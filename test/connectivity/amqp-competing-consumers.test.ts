/**
 * Competing consumers on a target queue (§11.4 scaling, §11.6): 3,000 twin events published by an
 * `amqp-091` or `amqp-10` target to one queue are read by three competing consumers; each event arrives
 * exactly once across the group and each member gets between 20 % and 47 % of them.
 * The events come from 3,000 device commands on a source queue of the same connection.
 */
import amqplib from 'amqplib';
import rhea, { type Connection as RheaConnection, type EventContext } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { createOpenConnection, DEVOPS, modifyCommand, uniquePrefix, waitFor } from './helpers.js';

const EVENTS = 3000;
const THINGS = 20;
const CONSUMERS = 3;

let service: TestService;
let endpoint: BrokerEndpoint;

beforeAll(async () => {
  endpoint = await getBroker('amqp091');
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

/** A consumer that records the `thingId@revision` of each event it receives. */
interface Member {
  received: string[];
  close(): Promise<void>;
}

const keyOf = (payload: Buffer) => {
  const event = JSON.parse(payload.toString()) as { topic: string; revision: number };
  const [ns, name] = event.topic.split('/');
  return `${ns}:${name}@${event.revision}`;
};

async function amqp091Member(queue: string): Promise<Member> {
  const model = await amqplib.connect(endpoint.url);
  const channel = await model.createChannel();
  await channel.prefetch(10);
  const received: string[] = [];
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    received.push(keyOf(msg.content));
    channel.ack(msg);
  });
  return { received, close: () => model.close() };
}

async function amqp10Member(address: string): Promise<Member> {
  const { hostname, port, username, password } = new URL(endpoint.url);
  const connection: RheaConnection = rhea
    .create_container()
    .connect({ host: hostname, port: Number(port), username, password, reconnect: false });
  connection.on('error', () => undefined);
  connection.on('protocol_error', () => undefined);
  const received: string[] = [];
  const receiver = connection.open_receiver({ source: { address }, credit_window: 10, autoaccept: true });
  receiver.on('message', (ctx: EventContext) => {
    const body: unknown = ctx.message!.body;
    received.push(
      keyOf(
        typeof body === 'string'
          ? Buffer.from(body)
          : Buffer.isBuffer(body)
            ? body
            : (body as { content: Buffer }).content,
      ),
    );
  });
  await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
  return {
    received,
    close: async () => {
      connection.close();
    },
  };
}

interface Variant {
  type: 'amqp-091' | 'amqp-10';
  source: (queue: string) => string;
  target: (queue: string) => string;
  member: (queue: string) => Promise<Member>;
}

const variants: Variant[] = [
  { type: 'amqp-091', source: (q) => q, target: (q) => `/${q}`, member: amqp091Member },
  {
    type: 'amqp-10',
    source: (q) => `/amq/queue/${q}`,
    target: (q) => `/amq/queue/${q}`,
    member: (q) => amqp10Member(`/amq/queue/${q}`),
  },
];

describe.each(variants)('$type target with three competing consumers', (variant) => {
  it(
    `delivers each of ${EVENTS} twin events exactly once across the group, 20–47 % to each member`,
    () =>
      withBrokerLock(
        endpoint,
        async () => {
          const prefix = uniquePrefix('compete');
          const ns = prefix.replace(/-/g, '_');
          const commands = `${prefix}.commands`;
          const events = `${prefix}.events`;
          const admin = await amqplib.connect(endpoint.url);
          const channel = await admin.createConfirmChannel();
          await channel.assertQueue(commands, { durable: true });
          await channel.assertQueue(events, { durable: true });
          const things = Array.from({ length: THINGS }, (_, i) => `${ns}:t${i}`);
          for (const t of things)
            expect(
              (await service.request('PUT', `/api/2/things/${t}`, { body: { attributes: { counter: 0 } } }))
                .status,
            ).toBe(201);
          const members = await Promise.all(Array.from({ length: CONSUMERS }, () => variant.member(events)));
          const id = await createOpenConnection(service.request, {
            name: `competing ${prefix}`,
            connectionType: variant.type,
            connectionStatus: 'open',
            uri: endpoint.url,
            sources: [{ addresses: [variant.source(commands)], authorizationContext: ['nginx:ditto'] }],
            targets: [
              {
                address: variant.target(events),
                topics: [`_/_/things/twin/events?namespaces=${ns}`],
                authorizationContext: ['nginx:ditto'],
              },
            ],
          });
          try {
            for (let i = 0; i < EVENTS; i++) {
              const ok = channel.sendToQueue(
                commands,
                Buffer.from(modifyCommand(things[i % THINGS], '/attributes/counter', i + 1)),
                { persistent: true },
              );
              if (!ok) await new Promise((r) => channel.once('drain', r));
            }
            await channel.waitForConfirms();
            const total = () => members.reduce((n, m) => n + m.received.length, 0);
            await waitFor(() => total() >= EVENTS, `${EVENTS} events received (got ${total()})`, 60_000, 100);
            // Anything beyond EVENTS would be a duplicate; give it a moment to show up.
            await new Promise((r) => setTimeout(r, 500));
            const all = members.flatMap((m) => m.received);
            expect(all).toHaveLength(EVENTS);
            expect(new Set(all).size).toBe(EVENTS);
            for (const m of members) {
              const share = m.received.length / EVENTS;
              expect(share).toBeGreaterThanOrEqual(0.2);
              expect(share).toBeLessThanOrEqual(0.47);
            }
          } finally {
            await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
            await Promise.all(members.map((m) => m.close()));
            await channel.deleteQueue(commands);
            await channel.deleteQueue(events);
            await admin.close();
          }
        },
        'shared',
      ),
    120_000,
  );
});
