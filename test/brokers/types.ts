import type { BrokerKind, ServerName } from '../../scripts/brokers/index.js';

export type { BrokerKind };
export const brokerKinds: readonly BrokerKind[] = ['mqtt', 'kafka', 'amqp091', 'amqp10', 'postgres'];

/** Where an address came from: the environment, a throw-away container, or `npm run brokers:up`. */
export type BrokerSource = 'env' | 'docker' | 'local';

export interface BrokerEndpoint {
  kind: BrokerKind;
  /** mqtt://…, amqp://user:pass@host:port, postgres://…; for Kafka the comma-separated bootstrap list. */
  url: string;
  /** Kafka bootstrap servers (`host:port`); empty for the other kinds. */
  brokers: string[];
  source: BrokerSource;
  /** True when test/drivers can stop and start the broker process (local brokers only). */
  restartable: boolean;
  /** The local server behind the address (RabbitMQ serves both AMQP kinds); local brokers only. */
  server?: ServerName;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by test/global-setup.ts when it started containers; empty otherwise. */
    twinbridgeDockerBrokers: Partial<Record<BrokerKind, BrokerEndpoint>>;
  }
}
