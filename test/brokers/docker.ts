// The Docker path: when a Docker engine is reachable, the vitest global setup starts the brokers of
// docker-compose.yml as throw-away containers (testcontainers) and hands their addresses to the
// test workers. Containers are removed at the end of the run (and by the testcontainers reaper if
// the run dies).
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { StartedTestContainer } from 'testcontainers';
type HealthCheck = Parameters<
  InstanceType<typeof import('testcontainers').GenericContainer>['withHealthCheck']
>[0];
import { dockerCredentials as creds, images } from './images.js';
import type { BrokerEndpoint, BrokerKind } from './types.js';

/**
 * True when a Docker engine answers. Cheap when there is obviously none (no DOCKER_HOST and no
 * socket), so the common local case never loads testcontainers. TWINBRIDGE_TEST_DOCKER=0 turns the
 * Docker path off.
 */
export async function dockerAvailable(): Promise<boolean> {
  if (process.env.TWINBRIDGE_TEST_DOCKER === '0') return false;
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
    return true;
  } catch (error) {
    console.warn(`brokers: no usable Docker engine (${(error as Error).message}); using local brokers`);
    return false;
  }
}

/** A free TCP port on the host, so Kafka can advertise the address clients will really use. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface DockerBrokers {
  endpoints: Partial<Record<BrokerKind, BrokerEndpoint>>;
  stop(): Promise<void>;
}

/** Starts the requested brokers as containers, each waited for by its health check. */
export async function startDockerBrokers(kinds: readonly BrokerKind[]): Promise<DockerBrokers> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started: StartedTestContainer[] = [];
  const endpoints: Partial<Record<BrokerKind, BrokerEndpoint>> = {};
  const endpoint = (kind: BrokerKind, url: string, brokers: string[] = []): BrokerEndpoint => ({
    kind,
    url,
    brokers,
    source: 'docker',
    restartable: false,
  });
  const health = (test: string[]): HealthCheck => ({
    test: ['CMD', ...test],
    interval: 2_000,
    timeout: 5_000,
    retries: 60,
    startPeriod: 2_000,
  });

  if (kinds.includes('mqtt')) {
    const c = await new GenericContainer(images.mqtt)
      .withCommand(['mosquitto', '-c', '/mosquitto-no-auth.conf'])
      .withExposedPorts(1883)
      .withHealthCheck(health(['mosquitto_pub', '-h', 'localhost', '-t', 'healthcheck', '-m', 'ping']))
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    started.push(c);
    endpoints.mqtt = endpoint('mqtt', `mqtt://${c.getHost()}:${c.getMappedPort(1883)}`);
  }
  if (kinds.includes('amqp091') || kinds.includes('amqp10')) {
    const c = await new GenericContainer(images.rabbitmq)
      .withCommand([
        'sh',
        '-c',
        'rabbitmq-plugins enable --offline rabbitmq_amqp1_0 && exec docker-entrypoint.sh rabbitmq-server',
      ])
      .withEnvironment({ RABBITMQ_DEFAULT_USER: creds.user, RABBITMQ_DEFAULT_PASS: creds.password })
      .withExposedPorts(5672)
      .withHealthCheck(health(['rabbitmq-diagnostics', '-q', 'check_port_connectivity']))
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    started.push(c);
    const url = `amqp://${creds.user}:${creds.password}@${c.getHost()}:${c.getMappedPort(5672)}`;
    endpoints.amqp091 = endpoint('amqp091', url);
    endpoints.amqp10 = endpoint('amqp10', url);
  }
  if (kinds.includes('kafka')) {
    // Kafka hands out the advertised address in its metadata, so it must be the host and port the
    // tests really use: a free port picked up front and mapped 1:1. INTERNAL serves the health check
    // from inside the container.
    const { getContainerRuntimeClient } = await import('testcontainers');
    const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
    const port = await freePort();
    const c = await new GenericContainer(images.kafka)
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'HOST://:9092,INTERNAL://:19092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: `HOST://${host}:${port},INTERNAL://localhost:19092`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,HOST:PLAINTEXT,INTERNAL:PLAINTEXT',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withExposedPorts({ container: 9092, host: port })
      .withHealthCheck(
        health(['/opt/kafka/bin/kafka-broker-api-versions.sh', '--bootstrap-server', 'localhost:19092']),
      )
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    started.push(c);
    endpoints.kafka = endpoint('kafka', `${host}:${port}`, [`${host}:${port}`]);
  }
  if (kinds.includes('postgres')) {
    const c = await new GenericContainer(images.postgres)
      .withEnvironment({
        POSTGRES_USER: creds.user,
        POSTGRES_PASSWORD: creds.password,
        POSTGRES_DB: creds.database,
      })
      .withExposedPorts(5432)
      .withHealthCheck(health(['pg_isready', '-U', creds.user, '-d', creds.database]))
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    started.push(c);
    endpoints.postgres = endpoint(
      'postgres',
      `postgres://${creds.user}:${creds.password}@${c.getHost()}:${c.getMappedPort(5432)}/${creds.database}`,
    );
  }
  return {
    endpoints,
    stop: async () => {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}
