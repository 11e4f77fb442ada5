/** The Kafka connector's configuration, validation, address parsing and commit bookkeeping (§11.6). */
import { describe, expect, it } from 'vitest';
import { parseKafkaConfig, parseRecordAddress } from '../../connectors/kafka/config.js';
import { kafka } from '../../connectors/kafka/index.js';
import { PartitionOffsets } from '../../connectors/kafka/offsets.js';
import { isExpired } from '../../connectors/kafka/source.js';
import { validateConnection } from '../../src/connectivity/validate.js';

const validate = (json: Record<string, unknown>) =>
  validateConnection(
    {
      id: 'k1',
      connectionType: 'kafka',
      connectionStatus: 'closed',
      uri: 'tcp://localhost:9092',
      specificConfig: { bootstrapServers: 'localhost:9092' },
      sources: [{ addresses: ['telemetry'], qos: 1, authorizationContext: ['nginx:ditto'] }],
      targets: [
        {
          address: 'events/{{ thing:id }}',
          topics: ['_/_/things/twin/events'],
          authorizationContext: ['nginx:ditto'],
        },
      ],
      ...json,
    },
    { connectors: new Map([['kafka', kafka]]) },
  );

describe('kafka connection validation', () => {
  it('accepts a connection with defaults: group = connection ID, offset reset latest, no SASL or TLS', () => {
    const config = parseKafkaConfig(validate({}));
    expect(config).toEqual({ brokers: ['localhost:9092'], groupId: 'k1', offsetReset: 'latest' });
  });

  it('takes SASL credentials from the URI user info and enables TLS for ssl:// or a CA', () => {
    const config = parseKafkaConfig(
      validate({
        uri: 'ssl://alice:s%40cret@broker:9093',
        validateCertificates: false,
        specificConfig: {
          bootstrapServers: 'b1:9093, b2:9093',
          saslMechanism: 'scram-sha-512',
          groupId: 'g.1',
        },
      }),
    );
    expect(config).toEqual({
      brokers: ['b1:9093', 'b2:9093'],
      groupId: 'g.1',
      offsetReset: 'latest',
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 's@cret' },
      tls: { rejectUnauthorized: false },
    });
    const withCa = parseKafkaConfig(
      validate({ ca: 'PEM', credentials: { type: 'client-cert', cert: 'CERT', key: 'KEY' } }),
    );
    expect(withCa.tls).toEqual({ rejectUnauthorized: true, ca: 'PEM', cert: 'CERT', key: 'KEY' });
  });

  it.each([
    [{ specificConfig: {} }, /bootstrapServers' is missing/],
    [{ specificConfig: { bootstrapServers: 'no-port' } }, /bootstrapServers/],
    [{ specificConfig: { bootstrapServers: 'h:1', groupId: 'a b' } }, /groupId/],
    [{ specificConfig: { bootstrapServers: 'h:1', consumerOffsetReset: 'newest' } }, /consumerOffsetReset/],
    [
      { specificConfig: { bootstrapServers: 'h:1', saslMechanism: 'plain' } },
      /saslMechanism' needs credentials/,
    ],
    [{ uri: 'amqp://localhost:9092' }, /scheme tcp or ssl/],
    [{ sources: [{ addresses: ['telemetry'], qos: 2, authorizationContext: ['s'] }] }, /qos' must be 0 or 1/],
    [
      { sources: [{ addresses: ['bad/topic'], qos: 1, authorizationContext: ['s'] }] },
      /must be a Kafka topic name/,
    ],
    [{ sources: [{ addresses: ['t'], consumerCount: 17, authorizationContext: ['s'] }] }, /consumerCount/],
    [
      {
        targets: [
          { address: 'bad topic/key', topics: ['_/_/things/twin/events'], authorizationContext: ['s'] },
        ],
      },
      /must start with a Kafka topic name/,
    ],
    [
      {
        targets: [
          { address: 'events#first', topics: ['_/_/things/twin/events'], authorizationContext: ['s'] },
        ],
      },
      /partition after '#' must be a number/,
    ],
  ])('rejects %j', (json, message) => {
    expect(() => validate(json)).toThrow(message);
  });

  it('accepts placeholders in target addresses and {{ connection:id }} in source addresses', () => {
    const c = validate({
      sources: [{ addresses: ['{{ connection:id }}.in'], qos: 0, authorizationContext: ['s'] }],
      targets: [
        {
          address: '{{ thing:namespace }}-events#{{ header:partition }}',
          topics: ['_/_/things/twin/events'],
          authorizationContext: ['s'],
        },
      ],
    });
    expect(c.sources[0].addresses).toEqual(['k1.in']);
  });
});

describe('kafka record addresses', () => {
  it.each([
    ['events', {}, { topic: 'events' }],
    ['events/org.example:thing-1', {}, { topic: 'events', key: 'org.example:thing-1' }],
    ['events/a/b', {}, { topic: 'events', key: 'a/b' }],
    ['events#3', {}, { topic: 'events', partition: 3 }],
    ['events/k', { 'kafka.topic': 'other', 'kafka.key': 'k2' }, { topic: 'other', key: 'k2' }],
  ])('parses %s', (address, headers, expected) => {
    expect(parseRecordAddress(address, headers)).toEqual(expected);
  });

  it('rejects an invalid topic or partition without retry', () => {
    expect(() => parseRecordAddress('has space', {})).toThrow(/not a valid Kafka topic/);
    expect(() => parseRecordAddress('t#x', {})).toThrow(expect.objectContaining({ retriable: false }));
  });
});

describe('kafka commit bookkeeping', () => {
  it('commits the highest contiguous settled offset, across offset gaps', () => {
    const p = new PartitionOffsets(10n);
    const [a, b, c] = [p.deliver(10n, false), p.deliver(12n, false), p.deliver(15n, false)];
    p.ack(b);
    expect(p.commitable()).toBeUndefined();
    p.ack(a);
    expect(p.commitable()).toBe(13n);
    p.committed = 13n;
    p.ack(c);
    expect(p.commitable()).toBe(16n);
  });

  it('rewinds to a nacked delivery and ignores settlements of what was discarded', () => {
    const p = new PartitionOffsets(0n);
    const d = [0n, 1n, 2n, 3n].map((o) => p.deliver(o, false));
    p.ack(d[0]);
    expect(p.rewind(d[2])).toBe(true);
    expect(p.position).toBe(2n);
    expect(p.ack(d[3])).toBe(false);
    expect(p.rewind(d[3])).toBe(false);
    p.ack(d[1]);
    expect(p.commitable()).toBe(2n);
  });

  it('treats qos 0 and expired deliveries as settled', () => {
    const p = new PartitionOffsets(0n);
    p.deliver(0n, true);
    p.deliver(1n, true);
    expect(p.commitable()).toBe(2n);
    expect(p.pending).toBe(0);
  });

  it('expires by creation-time + ttl', () => {
    expect(isExpired({ 'creation-time': '1000', ttl: '500' }, 2000)).toBe(true);
    expect(isExpired({ 'creation-time': '1000', ttl: '5000' }, 2000)).toBe(false);
    expect(isExpired({ ttl: '1' }, 2000)).toBe(false);
  });
});
