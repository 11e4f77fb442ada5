// How a test gets a real broker. For each kind, the first of:
//   1. an address from the environment (TWINBRIDGE_TEST_MQTT_URL, TWINBRIDGE_TEST_KAFKA_BROKERS,
//      TWINBRIDGE_TEST_AMQP091_URL, TWINBRIDGE_TEST_AMQP10_URL, TWINBRIDGE_TEST_POSTGRES_URL);
//   2. a container started by test/global-setup.ts when a Docker engine is reachable;
//   3. the project's local brokers (scripts/brokers, `npm run brokers:up`), started here if needed.
// Tests never skip for want of a broker: if none can be had, getBroker rejects and the test fails.
//
// TLS listeners (getTlsBroker) follow the same order: the environment's (tlsEnvVariables), else the
// local brokers' (scripts/brokers: RabbitMQ 25671, Kafka 29094, test CA under .brokers/<server>/tls/).
// Their tests skip only where there is no TLS listener to be had: a broker from the environment without
// a TLS variable, or the Docker containers (they have none).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, inject } from 'vitest';
import { addresses, startServer, withLock, type LockMode } from '../../scripts/brokers/index.js';
import { tlsDir } from '../../scripts/brokers/config.js';
import { tlsVhost } from '../../scripts/brokers/rabbitmq.js';
import {
  brokerListOf,
  envVariables,
  fromEnvironment,
  localEndpoint,
  localServers,
  tlsEnvVariables,
  tlsFileVariables,
  type TlsEndpoint,
  type TlsKind,
} from './env.js';
import type { BrokerEndpoint, BrokerKind } from './types.js';

export { brokerKinds, type BrokerEndpoint, type BrokerKind, type BrokerSource } from './types.js';

export * from './env.js';

function fromDocker(kind: BrokerKind): BrokerEndpoint | undefined {
  return inject('twinbridgeDockerBrokers')?.[kind];
}

/**
 * The broker a test should use for `kind`. For a local broker this also makes sure it is running
 * (a handshake when it is; a start, and on a fresh machine an install, when it is not).
 */
export async function getBroker(kind: BrokerKind): Promise<BrokerEndpoint> {
  const given = fromEnvironment(kind) ?? fromDocker(kind);
  if (given) return given;
  const endpoint = localEndpoint(kind);
  await startServer(localServers[kind]);
  return endpoint;
}

/**
 * Runs `fn` holding the usage lock of the broker behind `endpoint`. A test that stops or restarts a
 * broker takes it `exclusive` (the default); a test that needs the broker to stay up meanwhile may
 * take it `shared`. Both AMQP kinds share one lock, as they share one RabbitMQ.
 */
export function withBrokerLock<T>(
  endpoint: BrokerEndpoint,
  fn: () => Promise<T>,
  mode: LockMode = 'exclusive',
): Promise<T> {
  const name =
    endpoint.source === 'local'
      ? localServers[endpoint.kind]
      : `${endpoint.source}-${endpoint.url.replace(/[^a-zA-Z0-9]+/g, '_')}`;
  return withLock(`use-${name}`, fn, { mode });
}

/**
 * Takes the usage lock of the broker behind `endpoint` and keeps it until the returned function is called
 * (for beforeEach/afterEach pairs, where withBrokerLock's callback shape does not fit).
 */
export async function holdBrokerLock(
  endpoint: BrokerEndpoint,
  mode: LockMode = 'exclusive',
): Promise<() => void> {
  let unlock!: () => void;
  const done = new Promise<void>((r) => (unlock = r));
  await new Promise<void>((acquired, failed) => {
    withBrokerLock(endpoint, () => (acquired(), done), mode).catch(failed);
  });
  return unlock;
}

/**
 * Keeps the given brokers up for the whole test file: a shared usage lock taken before the file's tests
 * and released after its cleanup, so a fault test elsewhere never restarts a broker under them. Call it
 * before the file's own hooks: after-hooks run in reverse order (vitest's default `stack`), so the release
 * comes after the file's own cleanup.
 */
export function keepBrokersUp(...kinds: BrokerKind[]): void {
  const releases: (() => void)[] = [];
  beforeAll(async () => {
    for (const kind of kinds) releases.push(await holdBrokerLock(await getBroker(kind), 'shared'));
  });
  afterAll(() => {
    for (const release of releases.splice(0)) release();
  });
}

/**
 * Why the TLS tests of `kind` cannot run in this set-up, or undefined when getTlsBroker will give them a
 * listener. Known before any broker is started, so that tests can `describe.skipIf` on it.
 */
export function tlsSkipReason(kind: TlsKind): string | undefined {
  if (process.env[tlsEnvVariables[kind]]?.trim()) return undefined;
  if (fromEnvironment(kind))
    return `${envVariables[kind]} names a broker without a TLS endpoint; set ${tlsEnvVariables[kind]} and ${Object.values(tlsFileVariables).join(', ')} to test TLS`;
  if (fromDocker(kind))
    return `the Docker test containers have no TLS listener; set ${tlsEnvVariables[kind]} (and ${Object.values(tlsFileVariables).join(', ')}) or run with TWINBRIDGE_TEST_DOCKER=0 to use the local brokers' TLS listeners`;
  return undefined;
}

function pemFile(variable: string): string {
  const file = process.env[variable]?.trim();
  if (!file)
    throw new Error(`${variable} must name a PEM file when a TLS broker is given by the environment`);
  return readFileSync(file, 'utf8');
}

/**
 * The TLS listener for `kind` (see the module comment); rejects when tlsSkipReason(kind) gives a reason.
 * A local broker is started (or restarted once, when it predates its TLS listener) first.
 */
export async function getTlsBroker(kind: TlsKind): Promise<TlsEndpoint> {
  const reason = tlsSkipReason(kind);
  if (reason) throw new Error(reason);
  const given = process.env[tlsEnvVariables[kind]]?.trim();
  if (given) {
    const brokers = brokerListOf(kind, given);
    return {
      kind,
      source: 'env',
      url: given,
      brokers,
      ca: pemFile(tlsFileVariables.ca),
      clientCert: pemFile(tlsFileVariables.clientCert),
      clientKey: pemFile(tlsFileVariables.clientKey),
    };
  }
  const server = localServers[kind];
  await startServer(server);
  const pem = (name: string) => readFileSync(`${tlsDir(server)}/${name}`, 'utf8');
  const url = kind === 'kafka' ? addresses.kafkaTls : addresses.amqpTls;
  return {
    kind,
    source: 'local',
    url,
    brokers: kind === 'kafka' ? [url] : [],
    ca: pem('ca.pem'),
    clientCert: pem('client.pem'),
    clientKey: pem('client.key'),
    ...(kind === 'kafka' ? {} : { certificateVhost: tlsVhost }),
  };
}
