/**
 * The life of one connection client as a small explicit state machine (STYLE lessons 2 and 11):
 *
 *   closed ──open()──▶ connecting ──ok──▶ open ──lost──▶ failed ──back-off──▶ connecting …
 *                          │                                 ▲
 *                          └──error (retriable)──────────────┘   error with retriable === false ⇒ misconfigured
 *                                                                (src/connectivity/errors.ts)
 *   any ──close()──▶ closed
 *
 * The runner is the only owner of reconnection; connectors turn their library's auto-reconnect off and
 * report a lost connection through `onDisconnect`. Status per client, source address × consumer and target.
 */
import type {
  AnyConnector,
  ConnectorClient,
  InboundMessage,
  SourceHandle,
  TargetHandle,
} from './connector.js';
import { isRetriable } from '../errors/base.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { ConnectivityEvents } from './events.js';
import type { Connection, ResourceStatus, Target } from './model.js';

/** Where a source's messages go (the inbound pipeline); `register` returns the function that unregisters. */
export interface SourceSink {
  /** `client` names the client that consumed it (status and logs). */
  deliver(message: InboundMessage, client: string): void;
  register(handle: SourceHandle): () => void;
}

/** The synthetic target index under which a client keeps its publisher for reply targets. */
export const REPLY_TARGET = -1;

export type ClientState = 'closed' | 'connecting' | 'open' | 'failed' | 'misconfigured';

export interface ResourceState {
  status: ResourceStatus;
  statusDetails: string;
  inStateSince: string;
}

export interface ClientRunnerOptions {
  connector: AnyConnector;
  connection: Connection;
  clientIndex: number;
  /** Other instances of a cluster run the same connection (ClientContext.shared). */
  clustered?: boolean;
  events: ConnectivityEvents;
  backoff: BackoffOptions;
  /** Message handler of a source (the inbound pipeline); it receives the source's pause/resume handle. */
  deliverTo: (sourceIndex: number) => SourceSink;
  /** Called each time the client became open (connection announcements). */
  onOpen?: (runner: ClientRunner) => void;
  /** Credentials never reach error texts: connectors' messages pass through this. */
  redact: (text: string) => string;
  /** Failures that change no status (closing a client that is gone anyway). */
  log: (msg: string, err?: unknown) => void;
}

export class ClientRunner {
  readonly name: string;
  state: ClientState = 'closed';
  details = 'closed';
  since = new Date().toISOString();
  connectedSince: string | undefined;
  readonly sourceStates = new Map<string, ResourceState>();
  readonly targetStates = new Map<number, ResourceState>();
  readonly targets = new Map<number, TargetHandle>();
  private client: ConnectorClient | undefined;
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  /** Increases on every (re)connect and close, so stale callbacks of an old client are ignored. */
  private generation = 0;
  private unregister: Array<() => void> = [];
  private firstConnect: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly options: ClientRunnerOptions) {
    this.name = `client-${options.clientIndex + 1}`;
    this.backoff = new Backoff(options.backoff);
  }

  /**
   * Starts connecting. Resolves when open the first time; rejects with the first error when `failover` is
   * false (dry run), otherwise keeps retrying in the background and resolves immediately on failure.
   */
  open(failover: boolean): Promise<void> {
    if (this.state === 'open' || this.state === 'connecting') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.firstConnect = failover ? undefined : { resolve, reject };
      void this.connect(failover);
      if (failover) resolve();
    });
  }

  private setState(state: ClientState, details: string): void {
    this.state = state;
    this.details = details;
    this.since = new Date().toISOString();
  }

  private async connect(failover: boolean): Promise<void> {
    const generation = ++this.generation;
    const { connector, connection, clientIndex, events } = this.options;
    this.setState('connecting', 'Connecting.');
    const client = connector.createClient({
      connection,
      clientIndex,
      shared: connection.clientCount > 1 || (this.options.clustered ?? false),
      onDisconnect: (error) => {
        if (generation === this.generation && this.state === 'open') this.lost(error, failover);
      },
    });
    this.client = client;
    try {
      await client.connect();
      if (generation !== this.generation) {
        await client.close();
        return;
      }
      await this.startResources(client);
      if (generation !== this.generation) return;
      this.backoff.reset();
      this.connectedSince = new Date().toISOString();
      this.setState('open', `Connected at ${this.connectedSince}.`);
      events.emit('lifecycle', {
        connectionId: connection.id,
        client: this.name,
        kind: 'connected',
        message: this.details,
        at: Date.now(),
      });
      this.firstConnect?.resolve();
      this.firstConnect = undefined;
      this.options.onOpen?.(this);
    } catch (err) {
      if (generation !== this.generation) return;
      const detail = this.options.redact((err as Error).message);
      this.setState(isRetriable(err) ? 'failed' : 'misconfigured', `Failed to connect: ${detail}`);
      events.emit('lifecycle', {
        connectionId: connection.id,
        client: this.name,
        kind: 'failed',
        message: this.details,
        at: Date.now(),
      });
      this.client = undefined;
      this.release();
      this.targets.clear();
      await client
        .close()
        .catch((e: unknown) =>
          this.options.log(`${this.name}: closing the client that failed to connect failed`, e),
        );
      if (this.firstConnect) {
        this.firstConnect.reject(new Error(detail, { cause: err }));
        this.firstConnect = undefined;
        return;
      }
      if (failover) this.schedule(failover);
    }
  }

  private async startResources(client: ConnectorClient): Promise<void> {
    const { connection } = this.options;
    const at = () => new Date().toISOString();
    for (const source of connection.sources) {
      const sink = this.options.deliverTo(source.index);
      for (const address of source.addresses) {
        for (let consumer = 0; consumer < source.consumerCount; consumer++) {
          const key = `${source.index}|${address}|${consumer}`;
          const handle = await client.createSource(source, address, consumer, (message) =>
            sink.deliver(message, this.name),
          );
          this.unregister.push(sink.register(handle));
          this.sourceStates.set(key, {
            status: 'open',
            statusDetails: 'Consumer started.',
            inStateSince: at(),
          });
        }
      }
    }
    const replySource = connection.sources.find((s) => s.replyTarget);
    if (replySource) {
      // Replies are published to resolved addresses with the source's QoS (§11.2 replyTarget).
      const reply: Target = {
        index: REPLY_TARGET,
        address: '',
        addressTemplate: replySource.replyTarget!.address,
        topics: [],
        authorizationContext: [],
        headerMapping: [],
        payloadMapping: [],
        qos: Math.min(replySource.qos, 1),
      };
      this.targets.set(REPLY_TARGET, await client.createTarget(reply));
    }
    for (const target of connection.targets) {
      this.targets.set(target.index, await client.createTarget(target));
      this.targetStates.set(target.index, {
        status: 'open',
        statusDetails: 'Producer started.',
        inStateSince: at(),
      });
    }
  }

  /** The open connection dropped: mark everything failed and reconnect with back-off. */
  private lost(error: Error, failover: boolean): void {
    const { connection, events } = this.options;
    const detail = this.options.redact(error.message);
    this.setState('failed', `Connection lost at ${new Date().toISOString()}: ${detail}`);
    this.connectedSince = undefined;
    for (const s of [...this.sourceStates.values(), ...this.targetStates.values()]) {
      s.status = 'failed';
      s.statusDetails = `Connection lost: ${detail}`;
      s.inStateSince = this.since;
    }
    this.targets.clear();
    this.release();
    events.emit('lifecycle', {
      connectionId: connection.id,
      client: this.name,
      kind: 'disconnected',
      message: this.details,
      at: Date.now(),
    });
    const client = this.client;
    this.client = undefined;
    this.generation++;
    void client
      ?.close()
      .catch((e: unknown) =>
        this.options.log(`${this.name}: closing the client that lost its connection failed`, e),
      );
    if (failover && connection.failoverEnabled) this.schedule(failover);
  }

  private schedule(failover: boolean): void {
    clearTimeout(this.timer);
    const delay = this.backoff.next();
    this.timer = setTimeout(() => void this.connect(failover), delay);
    this.timer.unref();
  }

  private release(): void {
    for (const u of this.unregister) u();
    this.unregister = [];
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.generation++;
    const client = this.client;
    this.client = undefined;
    this.targets.clear();
    this.release();
    this.sourceStates.clear();
    this.targetStates.clear();
    const wasOpen = this.state === 'open';
    this.setState('closed', 'closed');
    this.connectedSince = undefined;
    if (this.firstConnect) {
      this.firstConnect.reject(new Error('closed before connecting'));
      this.firstConnect = undefined;
    }
    if (client) await client.close();
    if (wasOpen) {
      const { connection, events } = this.options;
      events.emit('lifecycle', {
        connectionId: connection.id,
        client: this.name,
        kind: 'closed',
        message: 'Connection closed.',
        at: Date.now(),
      });
    }
  }
}
