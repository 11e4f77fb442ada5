// Endpoints from the environment and the local brokers; no vitest import, so the global setup can
// use this module too.
import { addresses, type ServerName } from '../../scripts/brokers/index.js';
import type { BrokerEndpoint, BrokerKind } from './types.js';

export const envVariables: Record<BrokerKind, string> = {
  mqtt: 'TWINBRIDGE_TEST_MQTT_URL',
  kafka: 'TWINBRIDGE_TEST_KAFKA_BROKERS',
  amqp091: 'TWINBRIDGE_TEST_AMQP091_URL',
  amqp10: 'TWINBRIDGE_TEST_AMQP10_URL',
  postgres: 'TWINBRIDGE_TEST_POSTGRES_URL',
};

/** The local server that serves each kind (RabbitMQ serves both AMQP kinds). */
export const localServers: Record<BrokerKind, ServerName> = {
  mqtt: 'mosquitto',
  kafka: 'kafka',
  amqp091: 'rabbitmq',
  amqp10: 'rabbitmq',
  postgres: 'postgres',
};

/** The endpoint given by the environment, if its variable is set (Kafka: comma-separated host:port). */
export function fromEnvironment(kind: BrokerKind): BrokerEndpoint | undefined {
  const value = process.env[envVariables[kind]]?.trim();
  if (!value) return undefined;
  const brokers =
    kind === 'kafka'
      ? value
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean)
      : [];
  return { kind, url: value, brokers, source: 'env', restartable: false };
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
