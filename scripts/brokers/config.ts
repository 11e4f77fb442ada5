// Where the local test brokers live and which loopback ports they use.
//
// Every port is off the standard ones (1883, 5672, 25672, 4369, 9092, 5432, 15672), so these
// brokers never collide with a system broker on the same machine. Logs, data and pid files all live
// under one git-ignored folder, `.brokers/` at the repo root.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const brokersDir = path.join(repoRoot, '.brokers');

export const host = '127.0.0.1';

export const ports = {
  mqtt: 21883,
  /** Reserved for the MQTT TLS listener (not configured yet). */
  mqttTls: 21884,
  /** AMQP 0.9.1 and AMQP 1.0 on one RabbitMQ listener (the server detects the protocol header). */
  amqp: 25673,
  /** RabbitMQ's Erlang distribution port (a system RabbitMQ uses 25672). */
  rabbitDist: 25674,
  /** Our own epmd (a system one listens on 4369). */
  epmd: 24369,
  kafka: 29092,
  /** The KRaft controller listener of the combined broker+controller node. */
  kafkaController: 29093,
  postgres: 25432,
} as const;

/** The servers this folder manages. RabbitMQ serves both AMQP 0.9.1 and AMQP 1.0. */
export const serverNames = ['mosquitto', 'rabbitmq', 'kafka', 'postgres'] as const;
export type ServerName = (typeof serverNames)[number];

export const postgresUser = 'twinbridge';
export const postgresPassword = 'twinbridge';
export const postgresDatabase = 'twinbridge';

/** The addresses clients use, one per protocol. */
export const addresses = {
  mqtt: `mqtt://${host}:${ports.mqtt}`,
  amqp091: `amqp://guest:guest@${host}:${ports.amqp}`,
  amqp10: `amqp://guest:guest@${host}:${ports.amqp}`,
  kafka: `${host}:${ports.kafka}`,
  postgres: `postgres://${postgresUser}:${postgresPassword}@${host}:${ports.postgres}/${postgresDatabase}`,
} as const;

export function serverDir(name: ServerName): string {
  return path.join(brokersDir, name);
}
