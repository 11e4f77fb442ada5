/**
 * The AMQP 1.0 connector `amqp-10` (ditto-interfaces.md §11.6), over rhea: source links (addresses are
 * link/queue names), targets `name` | `queue://name` | `topic://name`, standard properties ↔ headers,
 * credit as back-pressure, settlement accepted / modified[delivery-failed] / rejected.
 */
import { defineConnector } from '../../src/connectivity/index.js';
import type { Connection } from '../../src/connectivity/model.js';
import { connectionConfigurationInvalid } from '../../src/errors/connectivity.js';
import { Amqp10ConnectorClient } from './client.js';

const SCHEMES = ['amqp:', 'amqps:'];
const invalid = (detail: string) => connectionConfigurationInvalid({ detail });

/**
 * ditto: §11.6 specificConfig holds Qpid JMS URI options, which configure a Java client. The prefetch options
 * set this client's link credit; the others are accepted (string values) and have no effect here.
 */
export const amqp10ConfigSchema = {
  type: 'object',
  additionalProperties: { type: 'string' },
  properties: {
    'jms.prefetchPolicy.all': {
      type: 'string',
      pattern: '^[1-9]\\d{0,5}$',
      description: 'Link credit of each source link (unsettled messages); default 500.',
    },
    'jms.prefetchPolicy.queuePrefetch': {
      type: 'string',
      pattern: '^[1-9]\\d{0,5}$',
      description: 'Like jms.prefetchPolicy.all, and wins over it.',
    },
  },
} as const;

function validate(connection: Connection): void {
  if (!SCHEMES.includes(connection.uri.protocol))
    throw invalid(`the field '/uri' must use the scheme amqp or amqps for AMQP 1.0`);
  for (const target of connection.targets) {
    const literal = target.address.replace(/\{\{[^}]*\}\}/g, 'x');
    if (/^(queue|topic):\/\/$/.test(literal))
      throw invalid(`the field '/targets/${target.index}/address' names no node after '${literal}'`);
  }
}

export const amqp10 = defineConnector<Record<string, string>>({
  type: 'amqp-10',
  configSchema: amqp10ConfigSchema as unknown as Record<string, unknown>,
  capabilities: {
    sources: true,
    targets: true,
    maxClientCount: 16,
    maxConsumerCount: 16,
    // Several receivers on one queue are competing consumers.
    consumerGroups: true,
    applicationHeaders: true,
    redeliveryOnNack: true,
    brokerRestart: true,
    binaryPayloadAsText: false,
  },
  inboundPayload: [
    'Mapping scripts get the body in the forms Ditto gives them; Ditto reads AMQP 1.0 through Qpid JMS, which',
    'makes a text or a bytes message, and hands a text message over as `textPayload` and `bytePayload`, a bytes',
    "message as `bytePayload` only (`AmqpConsumerActor`, Qpid's `AmqpJmsMessageBuilder`):",
    '',
    '- an `amqp-value` string: both (the bytes are its UTF-8);',
    '- `data` sections: `bytePayload` only without a content type, with `application/octet-stream` or another',
    '  non-textual one; with a textual content type (`text/*`, `application/json`, `application/xml`,',
    '  `application/javascript`, `application/ecmascript`, `application/xml-dtd`, `*+json`, `*+xml`) both: the',
    '  text decoded with its `charset` (default UTF-8), and as bytes that text in UTF-8, as Ditto encodes it again;',
    '- an `amqp-value` binary: `bytePayload` only;',
    '- the message annotation `x-opt-jms-msg-type` 5 (text) or 3 (bytes) decides over the body, as in Qpid JMS;',
    '- ★ any other body (an `amqp-value` map, list or number, `amqp-sequence`), which Ditto hands over without',
    '  payload, arrives as its JSON in both forms.',
  ].join('\n'),
  tls: [
    'ditto: §11.1 `amqps://user:password@host:port` connects over TLS (default port 5671); the URI path is the',
    "open frame's hostname (RabbitMQ 3.x: `/vhost:<name>` selects a vhost). `ca` (PEM, several concatenated) is",
    'trusted instead of the public CAs; `validateCertificates: false` skips the check of the broker certificate;',
    '`credentials` `{"type": "client-cert", "cert": PEM, "key": PKCS#8 PEM}` presents a client certificate. With',
    'a client certificate and no user in the URI the client logs in with SASL EXTERNAL (the broker takes the',
    'identity from the certificate; RabbitMQ: plugin `rabbitmq_auth_mechanism_ssl`); with a user, SASL PLAIN. An',
    'untrusted or expired broker certificate, or a client certificate the broker refuses, shows the connection',
    '`misconfigured` (no retries). Tested against the TLS listener of the local test RabbitMQ, `127.0.0.1:25671`',
    '(test/connectivity/tls-brokers.test.ts).',
  ].join('\n'),
  validate,
  parseConfig: (connection) => connection.specificConfig,
  createClient: (context) => new Amqp10ConnectorClient(context),
});
