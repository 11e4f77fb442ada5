// Stopping and starting the broker behind an endpoint, for fault tests (restart mid-stream).
// Only local brokers (scripts/brokers) can be controlled; for the others these reject.
//
// Callers that stop or restart a broker should hold its exclusive usage lock (withBrokerLock in
// test/brokers) so that tests in other workers that use the same broker are not disturbed.
import { startServer, stopServer } from '../../scripts/brokers/index.js';
import type { BrokerEndpoint } from '../brokers/index.js';

export interface BrokerControl {
  readonly endpoint: BrokerEndpoint;
  /** Stops the broker process gracefully; resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts the broker process; resolves once it accepts a client handshake again. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
}

function serverOf(endpoint: BrokerEndpoint) {
  if (!endpoint.restartable || !endpoint.server) {
    throw new Error(
      `the ${endpoint.kind} broker at ${endpoint.url} (${endpoint.source}) cannot be stopped or started by the tests`,
    );
  }
  return endpoint.server;
}

export function brokerControl(endpoint: BrokerEndpoint): BrokerControl {
  return {
    endpoint,
    stop: async () => stopServer(serverOf(endpoint)),
    start: async () => {
      await startServer(serverOf(endpoint));
    },
    async restart() {
      await this.stop();
      await this.start();
    },
  };
}
