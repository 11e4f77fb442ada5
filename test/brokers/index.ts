// How a test gets a real broker. For each kind, the first of:
//   1. an address from the environment (TWINBRIDGE_TEST_MQTT_URL, TWINBRIDGE_TEST_KAFKA_BROKERS,
//      TWINBRIDGE_TEST_AMQP091_URL, TWINBRIDGE_TEST_AMQP10_URL, TWINBRIDGE_TEST_POSTGRES_URL);
//   2. a container started by test/global-setup.ts when a Docker engine is reachable;
//   3. the project's local brokers (scripts/brokers, `npm run brokers:up`), started here if needed.
// Tests never skip for want of a broker: if none can be had, getBroker rejects and the test fails.
import { afterAll, beforeAll, inject } from 'vitest';
import { startServer, withLock, type LockMode } from '../../scripts/brokers/index.js';
import { fromEnvironment, localEndpoint, localServers } from './env.js';
import type { BrokerEndpoint, BrokerKind } from './types.js';

export { brokerKinds, type BrokerEndpoint, type BrokerKind, type BrokerSource } from './types.js';

export { envVariables, fromEnvironment, localEndpoint, localServers } from './env.js';

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
