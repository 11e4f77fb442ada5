// Where the local test brokers live and which loopback ports they use.
//
// Every port is off the standard ones (1883, 5672, 25672, 4369, 9092, 5432, 15672), so these
// brokers never collide with a system broker on the same machine. Logs, data and pid files all live
// under one git-ignored folder, `.brokers/` at the repo root.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * Resolved when it is a symbolic link (git worktrees share the main checkout's), so that the paths written
 * into broker configuration files are the same from every checkout.
 */
export const brokersDir = resolved(path.join(repoRoot, '.brokers'));

function resolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir; // not made yet
  }
}

export const host = '127.0.0.1';

export const ports = {
  mqtt: 21883,
  /** Reserved for the MQTT TLS listener (not configured yet). */
  mqttTls: 21884,
  /** AMQP 0.9.1 and AMQP 1.0 on one RabbitMQ listener (the server detects the protocol header). */
  amqp: 25673,
  /** AMQP 0.9.1 and AMQP 1.0 over TLS on one RabbitMQ listener (certificates in .brokers/rabbitmq/tls/). */
  amqpTls: 25671,
  /** RabbitMQ's Erlang distribution port (a system RabbitMQ uses 25672). */
  rabbitDist: 25674,
  /** Our own epmd (a system one listens on 4369). */
  epmd: 24369,
  kafka: 29092,
  /** The KRaft controller listener of the combined broker+controller node. */
  kafkaController: 29093,
  /** The SSL listener of the Kafka broker (certificates in .brokers/kafka/tls/). */
  kafkaTls: 29094,
  postgres: 25432,
} as const;

/** The servers this folder manages. RabbitMQ serves both AMQP 0.9.1 and AMQP 1.0. */
export const serverNames = ['mosquitto', 'rabbitmq', 'kafka', 'postgres'] as const;
export type ServerName = (typeof serverNames)[number];

/**
 * The ports each server listens on; `brokers:up` checks that no other process holds one first. Not epmd's:
 * a RabbitMQ node reuses an epmd left running on its port.
 */
export const serverPorts: Record<ServerName, readonly number[]> = {
  mosquitto: [ports.mqtt],
  rabbitmq: [ports.amqp, ports.amqpTls, ports.rabbitDist],
  kafka: [ports.kafka, ports.kafkaController, ports.kafkaTls],
  postgres: [ports.postgres],
};

/** The protocols the tests need a broker for. */
export type BrokerKind = 'mqtt' | 'kafka' | 'amqp091' | 'amqp10' | 'postgres';

/** The local server that serves each kind (RabbitMQ serves both AMQP kinds). */
export const localServers: Record<BrokerKind, ServerName> = {
  mqtt: 'mosquitto',
  kafka: 'kafka',
  amqp091: 'rabbitmq',
  amqp10: 'rabbitmq',
  postgres: 'postgres',
};

/** The variables that point the tests at brokers of one's own instead of these (test/brokers/env.ts). */
export const envVariables: Record<BrokerKind, string> = {
  mqtt: 'TWINBRIDGE_TEST_MQTT_URL',
  kafka: 'TWINBRIDGE_TEST_KAFKA_BROKERS',
  amqp091: 'TWINBRIDGE_TEST_AMQP091_URL',
  amqp10: 'TWINBRIDGE_TEST_AMQP10_URL',
  postgres: 'TWINBRIDGE_TEST_POSTGRES_URL',
};

export const postgresUser = 'twinbridge';
export const postgresPassword = 'twinbridge';
export const postgresDatabase = 'twinbridge';

/** The addresses clients use, one per protocol. */
export const addresses = {
  mqtt: `mqtt://${host}:${ports.mqtt}`,
  amqp091: `amqp://guest:guest@${host}:${ports.amqp}`,
  amqp10: `amqp://guest:guest@${host}:${ports.amqp}`,
  kafka: `${host}:${ports.kafka}`,
  /** TLS: trust the CA in `tlsDir(server)`; for AMQP the vhost `twinbridge-tls` needs a client certificate. */
  amqpTls: `amqps://guest:guest@${host}:${ports.amqpTls}`,
  kafkaTls: `${host}:${ports.kafkaTls}`,
  postgres: `postgres://${postgresUser}:${postgresPassword}@${host}:${ports.postgres}/${postgresDatabase}`,
} as const;

export function serverDir(name: ServerName): string {
  return path.join(brokersDir, name);
}

/** Where a server's test CA, server and client certificates live (scripts/brokers/tls.ts). */
export function tlsDir(name: ServerName): string {
  return path.join(serverDir(name), 'tls');
}
