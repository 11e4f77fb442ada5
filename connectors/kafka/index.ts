/**
 * The Kafka connector (ditto-interfaces.md §11.6), over kafkajs. Source addresses are topic names (qos 0:
 * commit after consume; qos 1: commit after the twin write is durable); target addresses are `topic`,
 * `topic/key` or `topic#partition` (placeholders allowed). All clients and consumers of a connection form
 * one consumer group (`groupId`, default the connection ID) and share the partitions of each source topic.
 * Topics are never created by the connector.
 */
import { defineConnector } from '../../src/connectivity/index.js';
import type { Connection } from '../../src/connectivity/model.js';
import { connectionConfigurationInvalid } from '../../src/errors/connectivity.js';
import { KafkaConnectorClient } from './client.js';
import { kafkaConfigSchema, parseKafkaConfig, TOPIC, type KafkaConfig } from './config.js';

const SCHEMES = ['tcp:', 'ssl:'];

const invalid = (detail: string) => connectionConfigurationInvalid({ detail });

function validate(connection: Connection): void {
  if (!SCHEMES.includes(connection.uri.protocol))
    throw invalid(`the field '/uri' must use the scheme tcp or ssl for Kafka`);
  if (connection.specificConfig.saslMechanism !== undefined && !connection.uri.username) {
    throw invalid(`the field '/specificConfig/saslMechanism' needs credentials in the user info of '/uri'`);
  }
  for (const source of connection.sources) {
    const raw = connection.json.sources?.[source.index] ?? {};
    if (raw.qos !== undefined && raw.qos !== 0 && raw.qos !== 1)
      throw invalid(`the field '/sources/${source.index}/qos' must be 0 or 1 for Kafka`);
    for (const [i, address] of source.addresses.entries()) {
      if (!TOPIC.test(address))
        throw invalid(
          `the field '/sources/${source.index}/addresses/${i}' must be a Kafka topic name ([a-zA-Z0-9._-])`,
        );
    }
  }
  for (const target of connection.targets) {
    // Check the literal parts; placeholders are replaced by a harmless stand-in.
    const literal = target.address.replace(/\{\{[^}]*\}\}/g, 'x');
    const slash = literal.indexOf('/');
    const hash = literal.indexOf('#');
    const topic = slash >= 0 ? literal.slice(0, slash) : hash >= 0 ? literal.slice(0, hash) : literal;
    if (!TOPIC.test(topic))
      throw invalid(
        `the field '/targets/${target.index}/address' must start with a Kafka topic name ([a-zA-Z0-9._-]): 'topic', 'topic/key' or 'topic#partition'`,
      );
    if (slash < 0 && hash >= 0 && !/^(\d+|x)$/.test(literal.slice(hash + 1)))
      throw invalid(`the field '/targets/${target.index}/address': the partition after '#' must be a number`);
  }
}

export const kafka = defineConnector<KafkaConfig>({
  type: 'kafka',
  configSchema: kafkaConfigSchema as unknown as Record<string, unknown>,
  capabilities: {
    sources: true,
    targets: true,
    maxClientCount: 16,
    maxConsumerCount: 16,
    consumerGroups: true,
    applicationHeaders: true,
    // A nack rewinds the partition to the failed record (§11.6 qos 1).
    redeliveryOnNack: true,
    brokerRestart: true,
    binaryPayloadAsText: true,
  },
  inboundPayload: [
    'Mapping scripts get every record value in both forms, whatever its content type: `bytePayload`, and',
    '`textPayload` decoded with the `charset` of the `content-type` header (default UTF-8), so a binary value',
    'arrives as text too, with U+FFFD for what does not decode. This is what Ditto does',
    '(`KafkaMessageTransformer`: text and bytes for every record).',
  ].join('\n'),
  tls: [
    'ditto: §11.1 `ssl://host:port` (or a `ca` or client certificate with `tcp://`) connects over TLS; the brokers of',
    '`bootstrapServers` must then be SSL (or SASL_SSL, with user info in the URI) listeners. `ca` (PEM, several',
    'concatenated) is trusted instead of the public CAs; `validateCertificates: false` skips the check of the',
    'broker certificate; `credentials` `{"type": "client-cert", "cert": PEM, "key": PKCS#8 PEM}` presents a client',
    'certificate. An untrusted or expired broker certificate, or a client certificate the broker refuses, shows',
    'the connection `misconfigured` with the TLS error (no retries). Tested against the SSL listener of the local',
    'test Kafka, `127.0.0.1:29094` (test/connectivity/tls-brokers.test.ts).',
  ].join('\n'),
  validate,
  parseConfig: parseKafkaConfig,
  createClient: (context) => new KafkaConnectorClient(context),
});
