/**
 * Kafka, AMQP 0.9.1 and AMQP 1.0 connections over TLS (ditto-interfaces.md §11.1 `ssl://`/`amqps://`,
 * `ca`, `validateCertificates`, `client-cert` credentials), through the service's REST API against real TLS
 * listeners: the local brokers' (RabbitMQ 25671, Kafka 29094; test CA, server and client certificates made
 * at broker set-up under .brokers/<server>/tls/) or those named by TWINBRIDGE_TEST_*_TLS_* (test/brokers).
 *
 * Per connector: with the test CA the connection opens and applies a message from its source; without it
 * the broker certificate is refused with a message naming the certificate problem; with validateCertificates
 * false it connects without the CA; a client certificate the test CA signed is presented and accepted, one
 * of another CA refused. For RabbitMQ a client certificate is also the only way into the vhost
 * `twinbridge-tls` (SASL EXTERNAL, user = the certificate's CN), so a connection there shows it is used.
 * Passwords and keys never show in status or logs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import rhea, { type Connection } from 'rhea';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTestPki, type TestPki } from '../../scripts/brokers/tls.js';
import {
  getTlsBroker,
  keepBrokersUp,
  tlsSkipReason,
  type TlsEndpoint,
  type TlsKind,
} from '../brokers/index.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { DEVOPS, createOpenConnection, modifyCommand, uniquePrefix, waitFor } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const SUBJECT = 'nginx:ditto';

/** What differs between the three connectors: connection JSON and how a test message reaches a source. */
interface Kit {
  kind: TlsKind;
  connectionType: string;
  /** The connection URI for `url` (an amqps:// URL or Kafka bootstrap list), optionally another vhost. */
  uri(endpoint: TlsEndpoint, options?: { vhost?: string; withoutUser?: boolean; password?: string }): string;
  specificConfig(endpoint: TlsEndpoint): Record<string, string>;
  /** The source address of a queue or topic named `name`. */
  sourceAddress(name: string): string;
  /** Makes the queue or topic `name` and returns a sender of one message to it; `close` removes it. */
  prepare(
    endpoint: TlsEndpoint,
    name: string,
    vhost?: string,
  ): Promise<{ send(payload: string): Promise<void>; close(): Promise<void> }>;
}

function amqpUri(
  endpoint: TlsEndpoint,
  vhostPath: (vhost: string) => string,
  options: { vhost?: string; withoutUser?: boolean; password?: string } = {},
): string {
  const url = new URL(endpoint.url);
  if (options.withoutUser) url.username = url.password = '';
  if (options.password !== undefined) url.password = encodeURIComponent(options.password);
  url.pathname = options.vhost ? `/${vhostPath(options.vhost)}` : '';
  return url.href;
}

/** An amqplib connection over TLS: as the URL's user, or with the client certificate (SASL EXTERNAL) in `vhost`. */
async function amqplibConnect(endpoint: TlsEndpoint, vhost?: string): Promise<amqplib.ChannelModel> {
  const url = new URL(endpoint.url);
  if (!vhost) return amqplib.connect(url.href, { ca: endpoint.ca });
  return amqplib.connect(
    { protocol: 'amqps', hostname: url.hostname, port: Number(url.port), vhost },
    {
      ca: endpoint.ca,
      cert: endpoint.clientCert,
      key: endpoint.clientKey,
      credentials: amqplib.credentials.external(),
    },
  );
}

/** A queue declared over AMQP 0.9.1 (RabbitMQ serves both AMQP versions on its TLS listener). */
async function declareQueue(endpoint: TlsEndpoint, name: string, vhost?: string) {
  const model = await amqplibConnect(endpoint, vhost);
  const channel = await model.createConfirmChannel();
  await channel.assertQueue(name, { durable: true });
  return {
    model,
    channel,
    async close() {
      await channel.deleteQueue(name);
      await model.close();
    },
  };
}

const kits: Kit[] = [
  {
    kind: 'kafka',
    connectionType: 'kafka',
    uri: (endpoint) => `ssl://${endpoint.brokers[0]}`,
    specificConfig: (endpoint) => ({
      bootstrapServers: endpoint.brokers.join(','),
      consumerOffsetReset: 'earliest',
    }),
    sourceAddress: (name) => name,
    async prepare(endpoint, topic) {
      const kafka = new Kafka({
        clientId: 'tls-test',
        brokers: endpoint.brokers,
        ssl: { ca: endpoint.ca },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      return {
        send: async (payload) =>
          void (await producer.send({
            topic,
            messages: [{ value: payload, headers: { 'content-type': 'application/json' } }],
          })),
        async close() {
          await producer.disconnect();
          await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
          await admin.disconnect();
        },
      };
    },
  },
  {
    kind: 'amqp091',
    connectionType: 'amqp-091',
    uri: (endpoint, options) => amqpUri(endpoint, encodeURIComponent, options),
    specificConfig: () => ({}),
    sourceAddress: (name) => name,
    async prepare(endpoint, name, vhost) {
      const queue = await declareQueue(endpoint, name, vhost);
      return {
        async send(payload) {
          queue.channel.sendToQueue(name, Buffer.from(payload), { contentType: 'application/json' });
          await queue.channel.waitForConfirms();
        },
        close: () => queue.close(),
      };
    },
  },
  {
    kind: 'amqp10',
    connectionType: 'amqp-10',
    // RabbitMQ 3.x's AMQP 1.0 plugin takes the vhost from the open frame's hostname `vhost:<name>`.
    uri: (endpoint, options) => amqpUri(endpoint, (vhost) => `vhost:${encodeURIComponent(vhost)}`, options),
    specificConfig: () => ({}),
    sourceAddress: (name) => `/amq/queue/${name}`,
    async prepare(endpoint, name, vhost) {
      const queue = await declareQueue(endpoint, name, vhost);
      return {
        send: (payload) => sendAmqp10(endpoint, `/amq/queue/${name}`, payload, vhost),
        close: () => queue.close(),
      };
    },
  },
];

/** Sends one message over AMQP 1.0 and TLS; resolves once the broker accepted it. */
function sendAmqp10(endpoint: TlsEndpoint, address: string, payload: string, vhost?: string): Promise<void> {
  const url = new URL(endpoint.url);
  const options: Record<string, unknown> = {
    host: url.hostname,
    port: Number(url.port),
    transport: 'tls',
    ca: endpoint.ca,
    reconnect: false,
  };
  if (vhost)
    Object.assign(options, {
      hostname: `vhost:${vhost}`,
      cert: endpoint.clientCert,
      key: endpoint.clientKey,
      enable_sasl_external: true,
    });
  else
    Object.assign(options, {
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    });
  return new Promise((resolve, reject) => {
    const connection: Connection = rhea.create_container().connect(options as never);
    const fail = (error: unknown) => {
      connection.close();
      reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
    };
    connection.on('error', fail);
    connection.on('connection_error', (ctx) => fail(ctx.connection.error));
    connection.on('disconnected', (ctx) => fail(ctx.error ?? new Error('disconnected')));
    const sender = connection.open_sender({ target: { address } });
    sender.once('sendable', () =>
      sender.send({
        body: rhea.message.data_section(Buffer.from(payload)),
        content_type: 'application/json',
      }),
    );
    sender.once('accepted', () => {
      connection.removeAllListeners('disconnected');
      connection.close();
      resolve();
    });
    sender.once('rejected', (ctx) => fail(ctx.delivery?.remote_state?.error ?? new Error('rejected')));
  });
}

let service: TestService;
/** A CA the brokers do not trust, with a client certificate it signed. */
let otherPki: TestPki;
let otherPkiDir: string;

keepBrokersUp(...kits.filter((kit) => !tlsSkipReason(kit.kind)).map((kit) => kit.kind));

beforeAll(async () => {
  otherPkiDir = await mkdtemp(path.join(tmpdir(), 'tb-other-ca-'));
  otherPki = await ensureTestPki(otherPkiDir, { caName: 'Untrusted Test CA' });
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
  if (otherPkiDir) await rm(otherPkiDir, { recursive: true, force: true });
});

const dryRun = (json: Record<string, unknown>) =>
  service.request('POST', '/api/2/connections?dry-run=true', { auth: DEVOPS, body: json });
const statusOf = async (id: string) =>
  (await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json;

/** Creates a connection that cannot log in and waits until its client shows `misconfigured`. */
async function createMisconfigured(
  body: Record<string, unknown>,
): Promise<{ id: string; statusDetails: string }> {
  const created = await service.request('POST', '/api/2/connections', { auth: DEVOPS, body });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  const status = await waitFor(
    async () => {
      const s = await statusOf(id);
      return s.clientStatus?.[0]?.status === 'misconfigured' ? s : undefined;
    },
    'status misconfigured',
    30_000,
  );
  return { id, statusDetails: status.clientStatus[0].statusDetails };
}

/** The REST texts where a secret must not show: the connection's status and its logs. */
async function shownTexts(id: string): Promise<string> {
  const status = await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS });
  const logs = await service.request('GET', `/api/2/connections/${id}/logs`, { auth: DEVOPS });
  return status.text + logs.text;
}

/** A long line from the middle of a PEM key (its header and footer are not secret). */
const keyLine = (pem: string) => pem.split('\n')[2]!;

for (const kit of kits) {
  const reason = tlsSkipReason(kit.kind);
  describe.skipIf(reason !== undefined)(
    `${kit.connectionType} over TLS${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
      let endpoint: TlsEndpoint;
      beforeAll(async () => {
        endpoint = await getTlsBroker(kit.kind);
      });

      const connection = (
        prefix: string,
        extra: Record<string, unknown>,
        uriOptions?: Parameters<Kit['uri']>[1],
      ) => ({
        name: `tls ${prefix}`,
        connectionType: kit.connectionType,
        connectionStatus: 'open',
        uri: kit.uri(endpoint, uriOptions),
        specificConfig: kit.specificConfig(endpoint),
        sources: [{ addresses: [kit.sourceAddress(prefix)], authorizationContext: [SUBJECT], qos: 1 }],
        targets: [],
        ...extra,
      });

      /**
       * Creates a thing, opens `json` over REST, sends a modify command to its source and waits for the twin;
       * the connection is still open then (removing the source's queue or topic afterwards ends that).
       */
      async function roundTrip(
        prefix: string,
        json: Record<string, unknown>,
        vhost?: string,
      ): Promise<string> {
        const thingId = `tls.test:${prefix}`;
        expect(
          (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
            .status,
        ).toBe(201);
        const source = await kit.prepare(endpoint, prefix, vhost);
        try {
          const id = await createOpenConnection(service.request, json);
          await source.send(modifyCommand(thingId, '/attributes/counter', 7));
          await waitFor(
            async () =>
              (await service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json === 7,
            'the twin updated over TLS',
            30_000,
          );
          expect((await statusOf(id)).liveStatus).toBe('open');
          return id;
        } finally {
          await source.close();
        }
      }

      it('opens with the test CA as `ca` and applies a message from its source', async () => {
        const prefix = uniquePrefix('tls');
        const id = await roundTrip(
          prefix,
          connection(prefix, { ca: endpoint.ca, validateCertificates: true }),
        );
        await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
      });

      it('refuses the broker certificate without the CA, naming the certificate problem', async () => {
        const prefix = uniquePrefix('tls-untrusted');
        const refused = await dryRun(connection(prefix, { validateCertificates: true }));
        expect(refused.status, refused.text).toBeGreaterThanOrEqual(400);
        expect(refused.json.message + refused.json.description).toMatch(/certificate/i);

        // A saved connection shows it as its status, and does not retry a certificate that cannot heal.
        const { id, statusDetails } = await createMisconfigured(
          connection(prefix, { validateCertificates: true }),
        );
        expect(statusDetails).toMatch(/certificate/i);
        await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
      });

      it('connects without the CA when validateCertificates is false', async () => {
        const prefix = uniquePrefix('tls-novalidate');
        const source = await kit.prepare(endpoint, prefix);
        try {
          const unchecked = await dryRun(connection(prefix, { validateCertificates: false }));
          expect(unchecked.status, unchecked.text).toBe(200);
        } finally {
          await source.close();
        }
      });

      it('presents a client certificate the test CA signed, and is refused with one of another CA', async () => {
        const prefix = uniquePrefix('tls-cc');
        const source = await kit.prepare(endpoint, prefix);
        try {
          const trusted = await dryRun(
            connection(prefix, {
              ca: endpoint.ca,
              credentials: { type: 'client-cert', cert: endpoint.clientCert, key: endpoint.clientKey },
            }),
          );
          expect(trusted.status, trusted.text).toBe(200);
          const untrusted = await dryRun(
            connection(prefix, {
              ca: endpoint.ca,
              credentials: { type: 'client-cert', cert: otherPki.clientCert, key: otherPki.clientKey },
            }),
          );
          expect(untrusted.status, untrusted.text).toBeGreaterThanOrEqual(400);
          // The broker's TLS alert: RabbitMQ (Erlang) sends unknown_ca, Kafka (Java) certificate_unknown.
          expect(untrusted.json.message).toMatch(/alert (unknown ca|certificate unknown|bad certificate)/i);
          expect(untrusted.text).not.toContain(keyLine(otherPki.clientKey));
        } finally {
          await source.close();
        }
      });

      if (kit.kind !== 'kafka') {
        it('logs in with the client certificate alone (SASL EXTERNAL) where only its user may go, never showing the key', async (context) => {
          if (!endpoint.certificateVhost)
            return context.skip(
              'needs the local RabbitMQ, whose vhost twinbridge-tls only the client certificate may use',
            );
          const vhost = endpoint.certificateVhost;
          const prefix = uniquePrefix('tls-external');
          const credentials = { type: 'client-cert', cert: endpoint.clientCert, key: endpoint.clientKey };
          const id = await roundTrip(
            prefix,
            connection(prefix, { ca: endpoint.ca, credentials }, { vhost, withoutUser: true }),
            vhost,
          );
          const shown = await shownTexts(id);
          expect(shown).not.toContain(keyLine(endpoint.clientKey));
          await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });

          // The same connection without the certificate logs in as guest, who may not use that vhost.
          const source = await kit.prepare(endpoint, prefix, vhost);
          try {
            const without = await dryRun(
              connection(prefix, { ca: endpoint.ca }, { vhost, withoutUser: true }),
            );
            expect(without.status, without.text).toBeGreaterThanOrEqual(400);
            expect(without.json.message + without.json.description).toMatch(
              /refused|unauthori[sz]ed|access/i,
            );
          } finally {
            await source.close();
          }
        });

        it('never shows the password of a refused login in status or logs', async () => {
          const prefix = uniquePrefix('tls-password');
          const password = `Wr0ng-${prefix}`;
          const { id, statusDetails } = await createMisconfigured(
            connection(prefix, { ca: endpoint.ca }, { password }),
          );
          expect(statusDetails).toMatch(/refused|auth/i);
          expect(await shownTexts(id)).not.toContain(password);
          await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
        });
      }
    },
  );
}
