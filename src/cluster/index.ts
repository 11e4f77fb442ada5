/**
 * Scale-out (docs/scale-out.md): several instances on one PostgreSQL store. Started by src/services.ts
 * only when the store is PostgreSQL; a single embedded instance runs none of this.
 *
 *   journal follower   remote changes in commit order → things head, policy head, connections, local bus
 *   group membership   WebSocket/SSE consumer groups spanning instances (constructed before the registry)
 */
import type { SignalBus } from '../bus/signal-bus.js';
import type { ConnectionManager } from '../connectivity/manager.js';
import type { StorePolicyDirectory } from '../policies/directory.js';
import type { PostgresStore } from '../store/postgres/postgres-store.js';
import type { ThingsService } from '../things/service.js';
import { JournalFollower } from './journal-follower.js';
import { RemoteChanges } from './remote-changes.js';

export { defaultInstanceId } from './instance.js';
export { GroupMembership } from './membership.js';
export { isRemoteEvent } from './remote.js';

export interface ClusterOptions {
  instanceId: string;
  /** The store's last seq when it opened (before this instance loaded any state). */
  fromSeq: number;
  store: PostgresStore;
  bus: SignalBus;
  things: ThingsService;
  policies: StorePolicyDirectory;
  connections: ConnectionManager;
  log: (level: 'warn' | 'error' | 'info', msg: string, err?: unknown) => void;
}

export interface Cluster {
  readonly follower: JournalFollower;
  close(): Promise<void>;
}

/**
 * Starts following the journal. Until then (and if it never starts) commits of this instance are simply
 * read back and skipped, so `store`'s onCommitted may forward to `cluster?.onCommitted`.
 */
export async function startCluster(
  o: ClusterOptions,
): Promise<Cluster & { onCommitted(firstSeq: number, lastSeq: number): void }> {
  const changes = new RemoteChanges(o);
  const follower = new JournalFollower({
    store: o.store,
    instanceId: o.instanceId,
    handler: changes,
    log: o.log,
  });
  o.things.orderPublicationsBy(() => follower.caughtUp());
  await follower.start(o.fromSeq);
  return {
    follower,
    onCommitted: (firstSeq, lastSeq) => follower.onCommitted(firstSeq, lastSeq),
    async close() {
      await follower.close();
      changes.close();
    },
  };
}
