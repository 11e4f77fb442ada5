// Readiness probes: each one performs a real client handshake with the broker and closes again.
// A probe resolves when the broker accepted the connection and rejects with the client's error.
import mqtt from 'mqtt';
import amqplib from 'amqplib';
import rhea from 'rhea';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { delay } from './process.js';

const probeTimeoutMs = 5_000;

/** MQTT CONNECT/CONNACK. */
export async function probeMqtt(url: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: probeTimeoutMs }, false);
  await client.endAsync();
}

/** Server certificate trust of a TLS probe: the PEM of the CA that signed the broker's certificate. */
export interface ProbeTls {
  ca: string;
}

/** AMQP 0.9.1 connection.open (includes SASL PLAIN); over TLS for an `amqps://` URL. */
export async function probeAmqp091(url: string, tls?: ProbeTls): Promise<void> {
  const connection = await amqplib.connect(url, { timeout: probeTimeoutMs, ...(tls ? { ca: tls.ca } : {}) });
  await connection.close();
}

/** AMQP 1.0 SASL + open/open-ok. */
export function probeAmqp10(url: string): Promise<void> {
  const { hostname, port, username, password } = new URL(url);
  return new Promise((resolve, reject) => {
    const container = rhea.create_container();
    const connection = container.connect({
      host: hostname,
      port: Number(port || 5672),
      username: decodeURIComponent(username) || undefined,
      password: decodeURIComponent(password) || undefined,
      reconnect: false,
      idle_time_out: probeTimeoutMs,
    });
    const timer = setTimeout(() => fail(new Error('AMQP 1.0 open timed out')), probeTimeoutMs);
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      connection.close();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    connection.on('connection_open', () => {
      clearTimeout(timer);
      connection.close();
      resolve();
    });
    connection.on('connection_error', (context) =>
      fail(context.connection.error ?? new Error('AMQP 1.0 connection error')),
    );
    connection.on('disconnected', (context) => fail(context.error ?? new Error('AMQP 1.0 disconnected')));
  });
}

/**
 * Kafka metadata round trip; succeeds only once the broker has a controller and serves requests. With `tls`
 * over SSL, trusting that CA.
 */
export async function probeKafka(brokers: readonly string[], tls?: ProbeTls): Promise<void> {
  const kafka = new Kafka({
    clientId: 'twinbridge-probe',
    brokers: [...brokers],
    ...(tls ? { ssl: { ca: tls.ca } } : {}),
    logLevel: logLevel.NOTHING,
    connectionTimeout: probeTimeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.describeCluster();
  } finally {
    await admin.disconnect();
  }
}

/** PostgreSQL startup + `select 1`. */
export async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: probeTimeoutMs });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}

export interface WaitOptions {
  timeoutMs: number;
  /** Called between attempts; throw from it to give up early (e.g. the server process died). */
  check?: () => Promise<void> | void;
}

/** Retries `probe` until it succeeds; rejects with its last error after `timeoutMs`. */
export async function waitUntilReady(
  what: string,
  probe: () => Promise<void>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what} not ready after ${options.timeoutMs} ms`, { cause: error });
    }
    await options.check?.();
    await delay(250);
  }
}
