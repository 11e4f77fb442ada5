// Endpoints from the environment and the local brokers; no vitest import, so the global setup can
// use this module too.
import { addresses, envVariables, localServers } from '../../scripts/brokers/index.js';
import type { BrokerEndpoint, BrokerKind } from './types.js';

export { envVariables, localServers };

/** The endpoint given by the environment, if its variable is set (Kafka: comma-separated host:port). */
export function fromEnvironment(kind: BrokerKind): BrokerEndpoint | undefined {
  const value = process.env[envVariables[kind]]?.trim();
  if (!value) return undefined;
  return { kind, url: value, brokers: brokerListOf(kind, value), source: 'env', restartable: false };
}

/** Kafka's bootstrap servers from a comma-separated `host:port` list; other kinds have none. */
export function brokerListOf(kind: BrokerKind | TlsKind, value: string): string[] {
  return kind === 'kafka'
    ? value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean)
    : [];
}

/** The address of the local broker for `kind` (scripts/brokers); it may not be running. */
export function localEndpoint(kind: BrokerKind): BrokerEndpoint {
  const url = addresses[kind];
  return {
    kind,
    url,
    brokers: kind === 'kafka' ? [url] : [],
    source: 'local',
    restartable: true,
    server: localServers[kind],
  };
}

/** The kinds whose connectors speak TLS to a broker listener of the test brokers. */
export type TlsKind = 'kafka' | 'amqp091' | 'amqp10';

/**
 * TLS endpoints from the environment, for a broker given by its plain variable above (which has no TLS
 * endpoint of its own): an `amqps://user:pass@host:port` URL, or for Kafka `host:port,…` of SSL listeners.
 * With one of them set, the three files of `tlsFileVariables` must be set too.
 */
export const tlsEnvVariables: Record<TlsKind, string> = {
  kafka: 'TWINBRIDGE_TEST_KAFKA_TLS_BROKERS',
  amqp091: 'TWINBRIDGE_TEST_AMQP091_TLS_URL',
  amqp10: 'TWINBRIDGE_TEST_AMQP10_TLS_URL',
};

/**
 * PEM files for the TLS endpoints of the environment: the CA that signed the brokers' certificates (for
 * host 127.0.0.1 or the host of the URL), and a client certificate and PKCS#8 key signed by a CA the
 * brokers trust (they should ask for client certificates and refuse untrusted ones).
 */
export const tlsFileVariables = {
  ca: 'TWINBRIDGE_TEST_TLS_CA',
  clientCert: 'TWINBRIDGE_TEST_TLS_CLIENT_CERT',
  clientKey: 'TWINBRIDGE_TEST_TLS_CLIENT_KEY',
} as const;

/** A TLS listener of a test broker and what a client needs to trust it and to present a certificate. */
export interface TlsEndpoint {
  kind: TlsKind;
  source: 'env' | 'local';
  /** `amqps://user:pass@host:port`; for Kafka the comma-separated SSL bootstrap list. */
  url: string;
  /** Kafka SSL bootstrap servers; empty for the other kinds. */
  brokers: string[];
  /** PEM of the CA that signed the broker's certificate. */
  ca: string;
  /** A client certificate (PEM) and its PKCS#8 key, signed by a CA the broker trusts. */
  clientCert: string;
  clientKey: string;
  /**
   * AMQP only, local RabbitMQ only: a vhost only the client certificate's user may use, logging in with
   * SASL EXTERNAL (scripts/brokers/rabbitmq.ts).
   */
  certificateVhost?: string;
}
