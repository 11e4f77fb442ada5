/** The identity of one instance of a cluster (TWINBRIDGE_INSTANCE_ID, docs/scale-out.md). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * `<hostname>-<pid>-<random>`: unique per process even when containers share a hostname pattern and pid 1.
 * Only `[A-Za-z0-9._-]` so it can suffix broker client identifiers.
 */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
