/**
 * Composition of the services from a validated configuration, shared by main.ts and the tests so both run
 * the same wiring. Adding a service: construct it here, add it to Services, close it in close().
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseKey, SecretKeyRing } from './util/secret-box.js';
import type { Logger } from 'pino';
import { SignalBus } from './bus/signal-bus.js';
import type { Config } from './config/config.js';
import { StorePolicyDirectory } from './policies/directory.js';
import { PoliciesService } from './policies/service.js';
import { SubjectAnnouncer } from './policies/announcements.js';
import type { Policy } from './policies/model.js';
import { JwtAuthenticator } from './auth/jwt.js';
import { JournalStore, SECRETS_KEY_FILE } from './store/embedded/journal-store.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import type { Store } from './store/port.js';
import { ThingsService } from './things/service.js';
import { createConditionEvaluator } from './search/condition.js';
import { CursorCodec } from './search/cursor.js';
import { SearchService } from './search/service.js';
import { SubscriberRegistry } from './streaming/registry.js';
import { AckRouter } from './acks/router.js';
import { LiveRouter } from './live/router.js';
import { ConnectionManager, type AnyConnector } from './connectivity/index.js';
import { createMapperRegistry, validateMappingDefinitions } from './mapping/registry.js';
import { jsonLimits } from './util/json-parse.js';
import { defaultInstanceId, GroupMembership, startCluster, type Cluster } from './cluster/index.js';
import { persistedEventSubscriptions, type HistoryEventDeps } from './history/events.js';
import { historyOf, type History } from './history/history.js';
import { HistoryCompactor, retentionOf } from './history/retention.js';

export interface Services {
  config: Config;
  logger: Logger;
  store: Store;
  bus: SignalBus;
  policies: StorePolicyDirectory;
  things: ThingsService;
  /** Policy commands (§2.8); `policies` is the directory both it and the things service share. */
  policyService: PoliciesService;
  /** Bearer-token authentication (§8); undefined when no OpenID Connect issuer is configured. */
  jwt: JwtAuthenticator | undefined;
  search: SearchService;
  /** Subscribers of events, messages and live signals: WebSocket, SSE, connection targets (§5, §6). */
  registry: SubscriberRegistry;
  /** Requested acknowledgements and who may issue which label (§9). */
  acks: AckRouter;
  /** Live messages and live commands with their responses (§2.6, §10). */
  live: LiveRouter;
  /** Connections (§11): managed over REST, opened on start when their desired status is open. */
  connections: ConnectionManager;
  /** History (ditto: basic-history): retention, the headers kept with changes, historical reads. */
  history: History;
  /** What the streams of persisted events need (SSE, WebSocket and connections: src/history/events.ts). */
  historyEvents: HistoryEventDeps;
  /** This instance's identity (TWINBRIDGE_INSTANCE_ID). */
  instanceId: string;
  /** Scale-out on PostgreSQL (docs/scale-out.md); undefined with the embedded store. */
  cluster: Cluster | undefined;
  /** Listens to the time each durable store write (one batch) took, in seconds; returns the unsubscribe. */
  onStoreWrite(listener: (seconds: number) => void): () => void;
  /** Stops everything started here, in reverse order; the store last so pending writes become durable. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** The connectors this instance can run; only main.ts (and tests) pass connectors/index.ts. */
  connectors?: readonly AnyConnector[];
}

/**
 * The keys that seal connection secrets: TWINBRIDGE_SECRETS_KEY (then TWINBRIDGE_SECRETS_OLD_KEYS), or
 * with the embedded store and no key configured the store's generated `secrets` key (never PostgreSQL's:
 * a key kept in the database it protects protects nothing; config validation requires one there). A
 * generated key stays readable after a key is configured, so its secrets are sealed again with that one.
 */
async function secretKeyRing(config: Config, journal: JournalStore | undefined): Promise<SecretKeyRing> {
  const old = config.secretsOldKeys.map(parseKey);
  if (config.secretsKey === undefined) return new SecretKeyRing(await journal!.sharedKey('secrets'), old);
  if (journal && existsSync(path.join(path.resolve(config.dataDir), SECRETS_KEY_FILE)))
    old.push(await journal.sharedKey('secrets'));
  return new SecretKeyRing(parseKey(config.secretsKey), old);
}

export async function createServices(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Services> {
  jsonLimits.maxDepth = config.maxJsonDepth;
  const instanceId = config.instanceId ?? defaultInstanceId();
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(instanceId))
    throw new Error(
      `TWINBRIDGE_INSTANCE_ID must match [A-Za-z0-9._-]{1,100}, got ${JSON.stringify(instanceId)}`,
    );
  let cluster: (Cluster & { onCommitted(firstSeq: number, lastSeq: number): void }) | undefined;
  const storeWriteListeners = new Set<(seconds: number) => void>();
  // Called by the store inside its commit path: a failing listener is logged, never let through to the store.
  const onDurableWrite = (seconds: number) => {
    for (const listener of storeWriteListeners) {
      try {
        listener(seconds);
      } catch (err) {
        logger.error({ err }, 'a store write listener failed');
      }
    }
  };
  const pgStore =
    config.store === 'postgres'
      ? new PostgresStore({
          connectionString: config.postgresUrl!,
          schema: config.postgresSchema,
          poolSize: config.postgresPoolSize,
          onIdleError: (err) =>
            logger.warn({ err }, 'idle PostgreSQL connection failed; the pool replaces it'),
          instanceId,
          onCommitted: (firstSeq, lastSeq) => cluster?.onCommitted(firstSeq, lastSeq),
          onDurableWrite,
        })
      : undefined;
  const store: Store =
    pgStore ??
    new JournalStore({
      dir: path.resolve(config.dataDir),
      onSnapshotError: (err) =>
        logger.error({ err }, 'writing a journal snapshot failed; the journals are kept'),
      onDurableWrite,
    });
  await store.open();
  const openedAt = store.lastSeq();
  const clusterLog = (level: 'warn' | 'error' | 'info', msg: string, err?: unknown) =>
    logger[level]({ err, instanceId }, msg);
  const bus = new SignalBus((err) => logger.error({ err }, 'event subscriber failed'));
  const history = historyOf(store, {
    retention: retentionOf(config),
    headersToPersist: config.historicalHeadersToPersist.map((h) => h.toLowerCase()),
  });
  const compactor = new HistoryCompactor({
    store,
    retention: history.retention,
    intervalMs: config.historyCompactionInterval,
    log: (level, msg, err) => logger[level]({ err }, msg),
  });
  const policies = new StorePolicyDirectory({ store, maxPolicyBytes: config.maxPolicyBytes });
  const things = new ThingsService({
    store,
    bus,
    policies,
    maxThingBytes: config.maxThingBytes,
    evaluateCondition: createConditionEvaluator(),
    sharedStore: pgStore !== undefined,
    history,
  });
  // Cursors sealed with a key of the store, so a cursor of one instance opens on any other (and after a restart).
  const search = new SearchService({
    policies,
    cursors: new CursorCodec(await store.sharedKey('search-cursors')),
  });
  const policyService = new PoliciesService({
    store,
    directory: policies,
    maxPolicyBytes: config.maxPolicyBytes,
    history,
  });
  const jwt =
    Object.keys(config.oidcIssuers).length > 0
      ? new JwtAuthenticator(config.oidcIssuers, { cooldownMs: config.jwksCooldownMs })
      : undefined;
  await search.start(store, bus);
  // After the search index subscribed to the bus: `search-persisted` is issued after the index update.
  const membership = pgStore
    ? new GroupMembership({
        store: pgStore,
        instanceId,
        heartbeatMs: config.clusterHeartbeatMs,
        log: clusterLog,
      })
    : undefined;
  await membership?.start();
  const registry = new SubscriberRegistry({
    bus,
    policies,
    onError: (err) => logger.error({ err }, 'streaming subscriber failed'),
    cluster: membership,
  });
  const announcer = new SubjectAnnouncer({
    publish: (announcement) => registry.publishPolicyAnnouncement(announcement),
    removeSubjects: (policyId, subjects) => policyService.removeSubjects(policyId, subjects),
    log: (msg, err) => logger.warn({ err }, msg),
  });
  policyService.onChanged = (policyId, previous, next) => announcer.changed(policyId, previous, next);
  for await (const record of store.list('policy'))
    if (record.value) announcer.changed(record.id, undefined, record.value as Policy);
  const historyEvents: HistoryEventDeps = {
    history,
    enforcerFor: (policyId) => policies.enforcerFor(policyId),
  };
  const acks = new AckRouter({ bus, registry });
  const live = new LiveRouter({ registry, things, policies });
  const connections = new ConnectionManager({
    store,
    connectors: options.connectors ?? [],
    execute: (command, auth) => things.execute(command, auth),
    subscribers: registry,
    mapping: {
      createMapperRegistry,
      validateMappingDefinitions: (definitions, usedIds) =>
        validateMappingDefinitions(definitions, usedIds, config.mappingMaxDefinitions),
    },
    acks,
    live: {
      respond: (response) => live.respond(response),
      sendMessage: (message, auth, timeoutMs) => live.sendMessage(message, auth, timeoutMs),
      sendCommand: (command, auth, timeoutMs) => live.sendCommand(command, auth, timeoutMs),
      sendEvent: (event, auth) => live.sendEvent(event, auth),
    },
    backoff: { minMs: 250, maxMs: config.connectionBackoffMaxMs },
    maxInFlight: config.connectionMaxInFlight,
    outboundWindow: config.connectionOutboundWindow,
    maxPayloadBytes: config.connectionMaxPayloadBytes,
    streaming: {
      open: (send) =>
        persistedEventSubscriptions(historyEvents, send, (msg, err) => logger.error({ err }, msg)),
    },
    log: (level, msg, err) => logger[level]({ err }, msg),
    instanceId: pgStore ? instanceId : undefined,
    secrets: await secretKeyRing(config, pgStore ? undefined : (store as JournalStore)),
    history,
  });
  await connections.start();
  compactor.start();
  if (pgStore)
    cluster = await startCluster({
      instanceId,
      fromSeq: openedAt,
      store: pgStore,
      bus,
      things,
      policies,
      connections,
      log: clusterLog,
    });
  return {
    config,
    logger,
    store,
    bus,
    policies,
    things,
    policyService,
    jwt,
    search,
    registry,
    acks,
    live,
    connections,
    history,
    historyEvents,
    instanceId,
    cluster,
    onStoreWrite(listener) {
      storeWriteListeners.add(listener);
      return () => storeWriteListeners.delete(listener);
    },
    async close() {
      await compactor.stop();
      await cluster?.close();
      await membership?.close();
      await connections.close();
      acks.close();
      announcer.close();
      registry.close();
      search.stop();
      await store.close();
    },
  };
}
