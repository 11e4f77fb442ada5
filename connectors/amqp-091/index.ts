/**
 * The AMQP 0.9.1 connector `amqp-091` (ditto-interfaces.md §11.6), over amqplib: queue sources (the queues
 * must exist), `exchange/routingKey` targets, publisher confirms, prefetch as back-pressure, competing
 * consumers when several clients or consumers read one queue.
 */
import { defineConnector } from '../../src/connectivity/index.js';
import type { Connection } from '../../src/connectivity/model.js';
import { connectionConfigurationInvalid } from '../../src/errors/connectivity.js';
import { literalSlashes } from './address.js';
import { Amqp091ConnectorClient } from './client.js';
import { amqp091ConfigSchema, parseAmqp091Config, type Amqp091Config } from './config.js';

const SCHEMES = ['amqp:', 'amqps:'];
const invalid = (detail: string) => connectionConfigurationInvalid({ detail });

function validate(connection: Connection): void {
  if (!SCHEMES.includes(connection.uri.protocol))
    throw invalid(`the field '/uri' must use the scheme amqp or amqps for AMQP 0.9.1`);
  for (const source of connection.sources) {
    for (const [i, address] of source.addresses.entries()) {
      if (address.length === 0 || address.length > 255)
        throw invalid(
          `the field '/sources/${source.index}/addresses/${i}' must be a queue name of 1 to 255 characters`,
        );
    }
  }
  for (const target of connection.targets) {
    // ditto: §14.13 the target address is `exchange/routingKey` with exactly one `/`.
    if (literalSlashes(target.address) !== 1) {
      throw invalid(
        `the field '/targets/${target.index}/address' must be of the form 'exchange/routingKey' with exactly one '/' ('/routingKey' for the default exchange)`,
      );
    }
  }
}

export const amqp091 = defineConnector<Amqp091Config>({
  type: 'amqp-091',
  configSchema: amqp091ConfigSchema as unknown as Record<string, unknown>,
  capabilities: {
    sources: true,
    targets: true,
    maxClientCount: 16,
    maxConsumerCount: 16,
    // Competing consumers: the broker hands each message of a queue to one consumer.
    consumerGroups: true,
    applicationHeaders: true,
    redeliveryOnNack: true,
    brokerRestart: true,
    binaryPayloadAsText: false,
  },
  inboundPayload: [
    'Mapping scripts get the body as `bytePayload` and, unless its content type starts with',
    '`application/octet-stream`, also as `textPayload`, decoded with the `charset` of the content type (default',
    'UTF-8). A body without a content type, or with any other one (`image/png`, `application/cbor` …), arrives',
    'in both forms. This is what Ditto does (`RabbitMQConsumerActor`: only `application/octet-stream` is bytes',
    'only).',
  ].join('\n'),
  tls: [
    'ditto: §11.1 `amqps://user:password@host:port[/vhost]` connects over TLS (default port 5671). `ca` (PEM,',
    'several concatenated) is trusted instead of the public CAs; `validateCertificates: false` skips the check of',
    'the broker certificate; `credentials` `{"type": "client-cert", "cert": PEM, "key": PKCS#8 PEM}` presents a',
    'client certificate. ★ With a client certificate and no user in the URI the client logs in with SASL EXTERNAL:',
    'the broker takes the identity from the certificate (RabbitMQ: plugin `rabbitmq_auth_mechanism_ssl`, e.g.',
    'the CN with `ssl_cert_login_from = common_name`); without a certificate, no user means guest/guest as in',
    'Ditto. An untrusted or expired broker certificate, a client certificate the broker refuses, or a vhost the',
    'user may not use shows the connection `misconfigured` (no retries). Tested against the TLS listener of the',
    'local test RabbitMQ, `127.0.0.1:25671`, whose vhost `twinbridge-tls` only the test client certificate may',
    'use (test/connectivity/tls-brokers.test.ts).',
  ].join('\n'),
  validate,
  parseConfig: (connection) => parseAmqp091Config(connection.specificConfig),
  createClient: (context) => new Amqp091ConnectorClient(context),
});
