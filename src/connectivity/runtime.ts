/**
 * One connection at run time: its mapper registry, an inbound pipeline per source, an outbound pipeline per
 * target subscribed to the streaming registry, an in-flight window per target and one for replies, and
 * `clientCount` client state machines. Knows no broker protocol: the connector does (STYLE lesson 1); no
 * `switch` on the connection type here or anywhere else.
 */
import type { AuthContext } from '../auth/context.js';
import type { ThingCommand, ThingCommandResponse } from '../model/signals.js';
import type { BackoffOptions } from './backoff.js';
import { ClientRunner, REPLY_TARGET } from './client-runner.js';
import type { AnyConnector, TargetHandle } from './connector.js';
import type { ConnectivityEvents } from './events.js';
import { InboundPipeline } from './inbound.js';
import type {
  AckPort,
  LivePort,
  MapperRegistry,
  MappingPort,
  StreamingPort,
  SubscriberPort,
} from './mapping-port.js';
import type { Connection, Target } from './model.js';
import { secretFields, secretValues } from './secrets.js';
import { OutboundPipeline } from './outbound.js';
import { OutboundWindow } from './window.js';
import { connectionResolver, resolveTemplate, timeResolver } from '../placeholders/index.js';
import { fromConnectionAnnouncement, renderProtocolMessage } from '../protocol/index.js';
import { payloadOf } from './external.js';

export interface RuntimeDeps {
  execute: (command: ThingCommand, auth: AuthContext) => Promise<ThingCommandResponse>;
  /** Where targets take their signals: the streaming registry of WebSocket and SSE. */
  subscribers: SubscriberPort;
  mapping: MappingPort;
  acks?: AckPort;
  /** Live responses and requests from sources, endpoints' answers to live messages (§10); optional. */
  live?: LivePort;
  /** History streams requested through sources (streaming subscription protocol); optional. */
  streaming?: StreamingPort;
  events: ConnectivityEvents;
  backoff: BackoffOptions;
  maxInFlight: number;
  maxPayloadBytes: number;
  /** Signals and unconfirmed writes per target (and for a connection's replies) before signals are dropped. */
  outboundWindow: number;
  /** Other instances of a cluster run the same connections (their clients share the sources). */
  clustered?: boolean;
  log: (level: 'warn' | 'error', msg: string, err?: unknown) => void;
}

export class ConnectionRuntime {
  private runners: ClientRunner[] = [];
  private registry: MapperRegistry | undefined;
  /** Pipelines that declared acknowledgement labels or subscribed to signals (undone on close). */
  private pipelines: { inbound: InboundPipeline[]; outbound: OutboundPipeline[] } = {
    inbound: [],
    outbound: [],
  };
  /** The in-flight window of each target (in the order of `connection.targets`). */
  private windows: OutboundWindow[] = [];
  private readonly secrets: string[];

  constructor(
    readonly connection: Connection,
    private readonly connector: AnyConnector,
    private readonly deps: RuntimeDeps,
  ) {
    this.secrets = secretValues(connection.json, secretFields(connector.configSchema));
  }

  /** Removes every credential of the connection from a text (status details, logs, errors). */
  redact = (text: string): string => {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  };

  get isOpen(): boolean {
    return this.runners.length > 0;
  }

  /**
   * Starts the clients. With `failover` (normal open) it resolves at once and clients retry in the
   * background; without it rejects with the first client's error. A `dryRun` (connection test) only
   * connects: it declares no acknowledgement labels and takes no signals.
   */
  async open(failover: boolean, dryRun = false): Promise<void> {
    if (this.runners.length > 0) return;
    const { connection, deps } = this;
    this.registry = await deps.mapping.createMapperRegistry(connection.mappingDefinitions, {
      connectionId: connection.id,
    });
    const registry = this.registry;
    const log = (msg: string, err?: unknown) => deps.log('warn', `connection ${connection.id}: ${msg}`, err);
    this.runners = Array.from({ length: connection.clientCount }, (_, clientIndex) => {
      const runner: ClientRunner = new ClientRunner({
        connector: this.connector,
        connection,
        clientIndex,
        clustered: deps.clustered,
        events: deps.events,
        backoff: deps.backoff,
        redact: this.redact,
        log,
        deliverTo: (sourceIndex) => inbound[sourceIndex],
        onOpen: (r) =>
          void this.announce(r, 'opened').catch((err: unknown) => log('announcement failed', err)),
      });
      return runner;
    });
    const replyPublisher = () => this.runners.find((r) => r.state === 'open')?.targets.get(REPLY_TARGET);
    const replies = new OutboundWindow(deps.outboundWindow);
    const inbound = connection.sources.map(
      (source) =>
        new InboundPipeline({
          connectionId: connection.id,
          source,
          registry,
          execute: deps.execute,
          events: deps.events,
          maxInFlight: deps.maxInFlight,
          maxPayloadBytes: deps.maxPayloadBytes,
          replyPublisher,
          replies,
          acks: deps.acks,
          live: deps.live,
          streaming: deps.streaming,
          log,
        }),
    );
    // §9 labels a source declares (`declaredAcks`): devices issue them through the source (owner: its
    // pipeline). The registry issues no weak acks for them: the source does not receive signals.
    for (const [i, source] of connection.sources.entries()) {
      if (dryRun || !deps.acks || source.declaredAcks.length === 0) continue;
      try {
        deps.acks.declare(source.declaredAcks, inbound[i], []);
      } catch (err) {
        log(
          `acknowledgement labels ${source.declaredAcks.join(', ')} of source ${i} are declared elsewhere; acknowledgements with them are dropped`,
          err,
        );
      }
    }
    this.pipelines.inbound = inbound;
    this.windows = connection.targets.map(() => new OutboundWindow(deps.outboundWindow));
    const outbound = connection.targets.map(
      (target, i) =>
        new OutboundPipeline({
          connectionId: connection.id,
          target,
          registry,
          events: deps.events,
          publisher: (entityId) => this.publisherFor(entityId, target),
          window: this.windows[i],
          subscribers: deps.subscribers,
          acks: deps.acks,
          live: deps.live,
          log,
        }),
    );
    this.pipelines.outbound = outbound;
    if (!dryRun) for (const o of outbound) o.start();
    try {
      await Promise.all(this.runners.map((r) => r.open(failover)));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** §11.4 scaling: each signal is published by one client, chosen consistently per entity. */
  private publisherFor(entityId: string, target: Target): TargetHandle | undefined {
    const n = this.runners.length;
    if (n === 1) return this.runners[0].targets.get(target.index);
    const start = hash(entityId) % n;
    for (let i = 0; i < n; i++) {
      const handle = this.runners[(start + i) % n].targets.get(target.index);
      if (handle) return handle;
    }
    return undefined;
  }

  /**
   * §4.7, §11.10 connection announcements to targets subscribed to `_/_/connections/announcements`:
   * `opened` when a client connected, `closed` before a graceful close.
   */
  private async announce(runner: ClientRunner, name: 'opened' | 'closed'): Promise<void> {
    const { connection, registry } = this;
    const targets = connection.targets.filter((t) =>
      t.topics.some((topic) => topic.kind === 'connection.announcements'),
    );
    if (targets.length === 0 || !registry) return;
    const json = renderProtocolMessage(
      fromConnectionAnnouncement({
        connectionId: connection.id,
        name,
        at: new Date().toISOString(),
        headers: {},
      }),
    ) as unknown as Record<string, unknown>;
    const resolvers = { connection: connectionResolver(connection.id), time: timeResolver() };
    await Promise.all(
      targets.map(async (target) => {
        const handle = runner.targets.get(target.index);
        const address = resolveTemplate(target.addressTemplate, resolvers);
        if (!handle || address.kind !== 'resolved') return;
        for (const r of await registry.mapOutgoing(
          target.payloadMapping.length > 0 ? target.payloadMapping : undefined,
          json,
        )) {
          if ('error' in r) continue;
          for (const ext of r.result) {
            await handle
              .write({
                address: address.values[0],
                headers: ext.headers,
                payload: payloadOf(ext),
                contentType: ext.contentType,
              })
              .then(
                () =>
                  this.deps.events.emit('message', {
                    connectionId: connection.id,
                    address: target.address,
                    direction: 'outbound',
                    type: 'published',
                    success: true,
                    message: `Published the '${name}' announcement.`,
                    at: Date.now(),
                  }),
                (err: unknown) =>
                  this.deps.log('warn', `connection ${connection.id}: announcement failed`, err),
              );
          }
        }
      }),
    );
  }

  /** Signals and unconfirmed writes in flight per target (the outbound windows). */
  outboundInFlight(): Array<{ address: string; inFlight: number }> {
    return this.connection.targets.map((t, i) => ({
      address: t.address,
      inFlight: this.windows[i]?.inFlight ?? 0,
    }));
  }

  async close(): Promise<void> {
    for (const o of this.pipelines.outbound) o.stop();
    // Bounded: a broker that does not answer must not hold the close up.
    const announced = Promise.all(
      this.runners.filter((r) => r.state === 'open').map((r) => this.announce(r, 'closed')),
    ).catch((err: unknown) =>
      this.deps.log('warn', `connection ${this.connection.id}: announcement failed`, err),
    );
    await Promise.race([announced, new Promise((r) => setTimeout(r, 2000).unref())]);
    const runners = this.runners;
    this.runners = [];
    await Promise.all(runners.map((r) => r.close()));
    const registry = this.registry;
    this.registry = undefined;
    for (const i of this.pipelines.inbound) {
      this.deps.acks?.release(i);
      i.close();
    }
    this.pipelines = { inbound: [], outbound: [] };
    await registry?.close();
  }

  /** §11.7 status JSON. */
  status(): Record<string, unknown> {
    const { connection } = this;
    const clients = this.runners;
    const liveStatus =
      clients.length === 0
        ? 'closed'
        : clients.every((c) => c.state === 'open')
          ? 'open'
          : clients.some((c) => c.state === 'misconfigured')
            ? 'misconfigured'
            : clients.some((c) => c.state === 'failed')
              ? 'failed'
              : clients[0].state === 'connecting'
                ? 'unknown'
                : 'closed';
    const connectedSince = clients
      .map((c) => c.connectedSince)
      .filter((s): s is string => s !== undefined)
      .sort()[0];
    const sourceStatus: unknown[] = [];
    const targetStatus: unknown[] = [];
    for (const c of clients) {
      for (const source of connection.sources) {
        for (const address of source.addresses) {
          for (let consumer = 0; consumer < source.consumerCount; consumer++) {
            const s = c.sourceStates.get(`${source.index}|${address}|${consumer}`);
            sourceStatus.push({
              type: 'source',
              client: c.name,
              address,
              status: s?.status ?? (c.state === 'open' ? 'unknown' : stateToStatus(c.state)),
              statusDetails: s?.statusDetails ?? c.details,
              inStateSince: s?.inStateSince ?? c.since,
            });
          }
        }
      }
      for (const target of connection.targets) {
        const s = c.targetStates.get(target.index);
        targetStatus.push({
          type: 'target',
          client: c.name,
          address: target.address,
          status: s?.status ?? stateToStatus(c.state),
          statusDetails: s?.statusDetails ?? c.details,
          inStateSince: s?.inStateSince ?? c.since,
        });
      }
    }
    const json: Record<string, unknown> = {
      connectionId: connection.id,
      connectionStatus: connection.desired,
      liveStatus,
    };
    if (connectedSince) json.connectedSince = connectedSince;
    json.clientStatus = clients.map((c) => ({
      type: 'client',
      client: c.name,
      status: stateToStatus(c.state),
      statusDetails: this.redact(c.details),
      inStateSince: c.since,
    }));
    json.sourceStatus = sourceStatus;
    json.targetStatus = targetStatus;
    json.sshTunnelStatus = [];
    return json;
  }
}

function stateToStatus(state: string): string {
  return state === 'connecting' ? 'unknown' : state;
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h >>> 0;
}
