// The container images the Docker path uses. docker-compose.yml names the same images (a test in
// test/smoke/docker-compose.test.ts keeps the two in step).
export const images = {
  mqtt: 'eclipse-mosquitto:2.0.20',
  kafka: 'apache/kafka:3.9.1',
  rabbitmq: 'rabbitmq:3.13-management',
  postgres: 'postgres:16-alpine',
} as const;

/** Credentials the containers are created with (guest is loopback-only in RabbitMQ). */
export const dockerCredentials = {
  user: 'twinbridge',
  password: 'twinbridge',
  database: 'twinbridge',
} as const;
