// Shared bits of the smoke tests.
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { fromEnvironment, type BrokerKind } from '../brokers/index.js';

/**
 * Whether the broker for `kind` will be a local one that the drivers can stop and start. Known at
 * collection time, so restart cases can declare it (brokers from the environment or from Docker
 * are not ours to restart).
 */
export function restartable(kind: BrokerKind): boolean {
  return !fromEnvironment(kind) && !inject('twinbridgeDockerBrokers')?.[kind];
}

/** A name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Restarting a broker (stop, start, readiness) can take a while on a shared 2-core machine. */
export const restartTimeoutMs = 180_000;
