/**
 * `specificConfig` of Kafka connections (ditto-interfaces.md §11.6) as a JSON schema (STYLE lesson 3: one
 * schema drives API validation, lint messages and generated docs), the typed config, and the parsing of
 * target addresses. All specificConfig values are strings (§11.1).
 */
import { AddressInvalidError } from '../../src/connectivity/errors.js';
import type { Connection } from '../../src/connectivity/model.js';

export const kafkaConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bootstrapServers'],
  properties: {
    bootstrapServers: {
      type: 'string',
      pattern: '^\\s*[^\\s,:]+:\\d+\\s*(,\\s*[^\\s,:]+:\\d+\\s*)*$',
      description: 'Comma-separated list of `host:port` of Kafka brokers to bootstrap from (required).',
    },
    groupId: {
      type: 'string',
      pattern: '^[a-zA-Z0-9._-]+$',
      description:
        'Consumer group of the sources; default: the connection ID. All clients and consumers of the connection share it.',
    },
    consumerOffsetReset: {
      enum: ['earliest', 'latest'],
      description:
        'Where a consumer group without a committed offset starts: `earliest` or `latest` (default). The start position is committed at once, so messages published while the connection is closed later are not skipped.',
    },
    saslMechanism: {
      enum: ['plain', 'scram-sha-256', 'scram-sha-512'],
      description:
        'SASL mechanism; credentials are the user info of the URI (`tcp://user:password@host:9092`). Default `plain` when the URI has user info.',
    },
    debugEnabled: {
      enum: ['true', 'false'],
      description:
        'Accepted for compatibility with Ditto; has no effect (issued acknowledgements carry no record metadata).',
    },
  },
} as const;

export type OffsetReset = 'earliest' | 'latest';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaConfig {
  brokers: string[];
  groupId: string;
  offsetReset: OffsetReset;
  /** SASL when the URI carries user info; the password is a secret (never logged, redacted by the runtime). */
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** TLS for `ssl://` URIs or when a CA or client certificate is configured. */
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
}

/** ditto: §11.6 topic names `[a-zA-Z0-9._-]` (Kafka allows at most 249 characters). */
export const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export function parseKafkaConfig(connection: Connection): KafkaConfig {
  const c = connection.specificConfig;
  const { uri } = connection;
  const config: KafkaConfig = {
    brokers: (c.bootstrapServers ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    groupId: c.groupId ?? connection.id,
    offsetReset: c.consumerOffsetReset === 'earliest' ? 'earliest' : 'latest',
  };
  if (uri.username) {
    config.sasl = {
      mechanism: (c.saslMechanism as SaslMechanism | undefined) ?? 'plain',
      username: decodeURIComponent(uri.username),
      password: decodeURIComponent(uri.password),
    };
  }
  const creds = connection.credentials;
  const clientCert =
    creds?.type === 'client-cert'
      ? { cert: stringOrUndefined(creds.cert), key: stringOrUndefined(creds.key) }
      : {};
  if (uri.protocol === 'ssl:' || connection.ca !== undefined || clientCert.cert !== undefined) {
    config.tls = { rejectUnauthorized: connection.validateCertificates, ...clientCert };
    if (connection.ca !== undefined) config.tls.ca = connection.ca;
  }
  return config;
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Where one outbound record goes. */
export interface RecordAddress {
  topic: string;
  key?: string;
  partition?: number;
}

/**
 * ditto: §11.6 target addresses `topic` (default partitioner), `topic/key` (record key) and
 * `topic#partition`; the runtime has resolved the placeholders already. The headers `kafka.topic` and
 * `kafka.key` override the address. Throws AddressInvalidError for an unusable address.
 */
export function parseRecordAddress(address: string, headers: Record<string, string>): RecordAddress {
  let out: RecordAddress;
  const slash = address.indexOf('/');
  const hash = address.indexOf('#');
  if (slash >= 0) out = { topic: address.slice(0, slash), key: address.slice(slash + 1) };
  else if (hash >= 0) {
    const text = address.slice(hash + 1);
    if (!/^\d+$/.test(text))
      throw new AddressInvalidError(`the partition of the target address '${address}' is not a number`);
    out = { topic: address.slice(0, hash), partition: Number(text) };
  } else out = { topic: address };
  if (headers['kafka.topic'] !== undefined) out.topic = headers['kafka.topic'];
  if (headers['kafka.key'] !== undefined) out.key = headers['kafka.key'];
  if (!TOPIC.test(out.topic)) throw new AddressInvalidError(`'${out.topic}' is not a valid Kafka topic name`);
  return out;
}
