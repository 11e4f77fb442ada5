/**
 * Connection management (§2.9, §11.10): create, modify, delete, open/close commands, status, metrics and
 * logs. Connections are stored durably on the Store port (`kind: 'connection'`, the JSON as saved with its
 * secrets sealed, src/connectivity/secrets.ts); on start every stored connection whose desired status is
 * `open` is opened again, and one whose secrets were in clear or sealed with an older key is stored again
 * sealed with the current key. Writes to one connection
 * are serialised. Commands on connections are devops-only (enforced by the HTTP layer).
 */
import { randomUUID } from 'node:crypto';
import type { AuthContext } from '../auth/context.js';
import {
  connectionCommandUnknown,
  connectionConfigurationInvalid,
  connectionFailed,
  connectionConflict,
  connectionHistoryNotFound,
  connectionIdNotSettable,
  connectionNotFound,
} from '../errors/connectivity.js';
import {
  entityAt,
  historicalHeadersOf,
  historicalPointOf,
  historyOf,
  persistedHeaders,
  type History,
} from '../history/history.js';
import type { DittoHeaders, ThingCommand, ThingCommandResponse } from '../model/signals.js';
import { ConcurrentModificationError, type Change, type EntityRecord, type Store } from '../store/port.js';
import { SecretOpenError, type SecretKeyRing } from '../util/secret-box.js';
import { jsonEqual } from '../util/merge-patch.js';
import type { BackoffOptions } from './backoff.js';
import type { AnyConnector } from './connector.js';
import { ConnectivityEvents } from './events.js';
import { ConnectionLogs } from './logs.js';
import type { AckPort, LivePort, MappingPort, StreamingPort, SubscriberPort } from './mapping-port.js';
import { ConnectionMetrics } from './metrics.js';
import type { Connection, ConnectionJson } from './model.js';
import { ConnectionRuntime } from './runtime.js';
import { validateConnection } from './validate.js';
import { openSecrets, sealSecrets, secretFields, type SecretField } from './secrets.js';
import { connectionForInstance } from '../cluster/connection-view.js';

export interface ConnectionManagerOptions {
  store: Store;
  connectors: readonly AnyConnector[];
  execute: (command: ThingCommand, auth: AuthContext) => Promise<ThingCommandResponse>;
  /** The streaming registry: targets take twin events, live signals and policy announcements from it. */
  subscribers: SubscriberPort;
  mapping: MappingPort;
  /** Acknowledgements (§9): issued labels of targets, requested labels of sources; optional. */
  acks?: AckPort;
  /** The live channel (§10): responses reach requesters, devices send live signals; optional. */
  live?: LivePort;
  /** History streams through sources (streaming subscription protocol); optional. */
  streaming?: StreamingPort;
  events?: ConnectivityEvents;
  backoff?: BackoffOptions;
  /** Messages in flight per source before consumption pauses. */
  maxInFlight?: number;
  maxPayloadBytes?: number;
  /** Signals and unconfirmed writes per target (and for a connection's replies) before signals are dropped. */
  outboundWindow?: number;
  log: (level: 'warn' | 'error' | 'info', msg: string, err?: unknown) => void;
  /** Scale-out: this instance's ID when several instances run the connections (src/cluster/connection-view.ts). */
  instanceId?: string;
  /** Seals the connections' secrets for the store and opens them again (TWINBRIDGE_SECRETS_KEY). */
  secrets: SecretKeyRing;
  /** Historical reads and the headers kept with each change (default: over `store`, keeping everything, no headers). */
  history?: History;
}

export const CONNECTION_COMMANDS = [
  'openConnection',
  'closeConnection',
  'resetConnectionMetrics',
  'enableConnectionLogs',
  'resetConnectionLogs',
] as const;

interface Entry {
  record: EntityRecord<ConnectionJson>;
  connection: Connection | undefined;
  /** Why the stored connection could not be loaded (e.g. its connector is not available). */
  invalid?: string;
  runtime: ConnectionRuntime | undefined;
  metrics: ConnectionMetrics;
  logs: ConnectionLogs;
}

export class ConnectionManager {
  readonly events: ConnectivityEvents;
  private readonly entries = new Map<string, Entry>();
  private readonly connectors: Map<string, AnyConnector>;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Secret fields by connection type. */
  private readonly fields = new Map<string, SecretField[]>();
  private closed = false;
  private readonly history: History;

  constructor(private readonly o: ConnectionManagerOptions) {
    this.history = o.history ?? historyOf(o.store);
    this.events =
      o.events ?? new ConnectivityEvents((err) => o.log('error', 'connectivity event listener failed', err));
    this.connectors = new Map(o.connectors.map((c) => [c.type, c]));
    this.events.on('message', (e) => {
      const entry = this.entries.get(e.connectionId);
      if (!entry) return;
      entry.metrics.record(e);
      entry.logs.recordMessage(e);
    });
    this.events.on('lifecycle', (e) => {
      this.entries.get(e.connectionId)?.logs.recordLifecycle(e);
      o.log(
        e.kind === 'failed' || e.kind === 'disconnected' ? 'warn' : 'info',
        `connection ${e.connectionId} ${e.client}: ${e.message}`,
      );
    });
  }

  /** The connection types this instance can run. */
  get types(): string[] {
    return [...this.connectors.keys()];
  }

  /**
   * Loads stored connections and opens those whose desired status is open. A connection whose secrets
   * were in clear or sealed with an older key is written again, sealed with the current key (with several
   * instances the first to start does it; the others see a revision conflict and adopt its write).
   */
  async start(): Promise<void> {
    const stale: Entry[] = [];
    for await (const stored of this.o.store.list('connection')) {
      if (!stored.value) continue;
      const entry = this.newEntry(stored as EntityRecord<ConnectionJson>);
      try {
        const { record, stale: resealable } = this.opened(stored);
        entry.record = record;
        if (resealable) stale.push(entry);
        entry.connection = this.validate(record.value);
      } catch (err) {
        entry.invalid = err instanceof Error ? err.message : String(err);
        this.o.log('error', `stored connection ${stored.id} cannot be loaded: ${entry.invalid}`);
      }
      this.entries.set(stored.id, entry);
      if (entry.connection?.desired === 'open') this.startRuntime(entry);
    }
    for (const entry of stale) await this.reseal(entry);
  }

  /** The stored record with its secrets opened; `stale` when they should be sealed again. */
  private opened(record: EntityRecord): { record: EntityRecord<ConnectionJson>; stale: boolean } {
    const json = record.value as ConnectionJson;
    try {
      const { json: value, stale } = openSecrets(
        json,
        this.secretFieldsOf(json.connectionType),
        this.o.secrets,
      );
      return { record: { ...record, value } as EntityRecord<ConnectionJson>, stale };
    } catch (err) {
      if (!(err instanceof SecretOpenError)) throw err;
      throw new Error(
        'its secrets do not open with TWINBRIDGE_SECRETS_KEY or TWINBRIDGE_SECRETS_OLD_KEYS (were they sealed with another key?)',
        { cause: err },
      );
    }
  }

  private async reseal(entry: Entry): Promise<void> {
    const { id } = entry.record;
    await this.serialise(id, async () => {
      if (this.entries.get(id) !== entry) return;
      try {
        entry.record = await this.write(
          id,
          entry.record.value!,
          entry.record.revision,
          {},
          entry.record.created,
          entry.record.modified,
        );
        this.o.log('info', `connection ${id}: secrets sealed again with the current key`);
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError))
          this.o.log(
            'warn',
            `connection ${id}: sealing its secrets with the current key failed; it stays as stored`,
            err,
          );
      }
    });
  }

  private secretFieldsOf(type: string): SecretField[] {
    let fields = this.fields.get(type);
    if (!fields) this.fields.set(type, (fields = secretFields(this.connectors.get(type)?.configSchema)));
    return fields;
  }

  private newEntry(record: EntityRecord<ConnectionJson>): Entry {
    const logs = new ConnectionLogs();
    return { record, connection: undefined, runtime: undefined, metrics: new ConnectionMetrics(), logs };
  }

  validate(json: unknown): Connection {
    return validateConnection(json, {
      connectors: this.connectors,
      validateMappings: this.o.mapping.validateMappingDefinitions,
    });
  }

  private runtimeFor(connection: Connection): ConnectionRuntime {
    const { o } = this;
    const connector = this.connectors.get(connection.type)!;
    const view =
      o.instanceId === undefined ? connection : connectionForInstance(connection, connector, o.instanceId);
    return new ConnectionRuntime(view, connector, {
      execute: o.execute,
      subscribers: o.subscribers,
      mapping: o.mapping,
      acks: o.acks,
      live: o.live,
      streaming: o.streaming,
      events: this.events,
      backoff: o.backoff ?? { minMs: 250, maxMs: 3000 },
      maxInFlight: o.maxInFlight ?? 1000,
      maxPayloadBytes: o.maxPayloadBytes ?? 256 * 1024,
      outboundWindow: o.outboundWindow ?? 100_000,
      clustered: o.instanceId !== undefined,
      log: o.log,
    });
  }

  /** Opens in the background: failures show in the status and the client retries with back-off. */
  private startRuntime(entry: Entry): void {
    if (!entry.connection || this.closed) return;
    entry.logs.enable();
    const runtime = this.runtimeFor(entry.connection);
    entry.runtime = runtime;
    runtime
      .open(true)
      .catch((err: unknown) =>
        this.o.log('error', `connection ${entry.connection!.id} could not be opened`, err),
      );
  }

  private async stopRuntime(entry: Entry): Promise<void> {
    const runtime = entry.runtime;
    entry.runtime = undefined;
    await runtime?.close();
  }

  private serialise<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry?.record.value) throw connectionNotFound({ connectionId: id });
    return entry;
  }

  list(): ConnectionJson[] {
    return [...this.entries.values()].filter((e) => e.record.value).map((e) => this.render(e.record));
  }

  get(id: string): ConnectionJson {
    return this.render(this.entry(id).record);
  }

  /**
   * GET of a connection, at `at-historical-revision` / `at-historical-timestamp` when `headers` ask for it
   * (ditto: basic-history), with the `historical-headers` of that revision.
   */
  async retrieve(
    id: string,
    headers: DittoHeaders,
  ): Promise<{ connection: ConnectionJson; historicalHeaders?: string }> {
    const entry = this.entry(id);
    const point = historicalPointOf(headers);
    if (point === undefined) return { connection: this.render(entry.record) };
    const historical = await entityAt(this.history, 'connection', entry.record, point, (at) =>
      connectionHistoryNotFound({ connectionId: id, at }),
    );
    if (!historical.record.value) throw connectionNotFound({ connectionId: id });
    return {
      connection: this.render(this.opened(historical.record).record),
      historicalHeaders: historicalHeadersOf(historical),
    };
  }

  /** §11.1 the stored JSON with the read-only `_revision`, `_created`, `_modified`. */
  private render(record: EntityRecord<ConnectionJson>): ConnectionJson {
    return {
      ...record.value!,
      _revision: record.revision,
      _created: record.created,
      _modified: record.modified,
    };
  }

  /**
   * POST: the ID is generated; `id` in the body is 400 (§2.9). The legacy piggyback `createConnection` names
   * its ID (`givenId`): 409 `connectivity:connection.conflict` when it is taken.
   */
  async create(body: unknown, givenId?: string, headers: DittoHeaders = {}): Promise<ConnectionJson> {
    if (givenId === undefined && isObject(body) && 'id' in body) throw connectionIdNotSettable();
    const id = givenId ?? randomUUID();
    const connection = this.validate({ ...(body as object), id });
    return this.serialise(id, async () => {
      // A named ID may have been used and deleted before: its tombstone holds the revision to continue from.
      const stored = givenId === undefined ? undefined : await this.o.store.get('connection', id);
      if (stored?.value) throw connectionConflict({ connectionId: id });
      const entry = this.newEntry(await this.write(id, connection.json, stored?.revision ?? 0, headers));
      entry.connection = connection;
      this.entries.set(id, entry);
      entry.logs.enable();
      if (connection.desired === 'open') this.startRuntime(entry);
      return this.render(entry.record);
    });
  }

  /** `?dry-run=true` (§11.10): validate, connect every client, disconnect; nothing is stored. */
  async test(body: unknown): Promise<void> {
    if (isObject(body) && 'id' in body) throw connectionIdNotSettable();
    const connection = this.validate({ ...(body as object), id: `dry-run-${randomUUID()}` });
    const runtime = this.runtimeFor(connection);
    try {
      await runtime.open(false, true);
    } catch (err) {
      throw connectionFailed(
        { connectionId: connection.id, detail: runtime.redact((err as Error).message) },
        { cause: err },
      );
    } finally {
      await runtime.close();
    }
  }

  /** PUT: only an existing connection (404 otherwise); reconnects with the new configuration. */
  async modify(id: string, body: unknown, headers: DittoHeaders = {}): Promise<void> {
    if (isObject(body) && body.id !== undefined && body.id !== id) {
      throw connectionConfigurationInvalid({
        detail: `the field '/id' ('${String(body.id)}') differs from the ID in the path ('${id}')`,
      });
    }
    const connection = this.validate({ ...(body as object), id });
    await this.serialise(id, async () => {
      const entry = this.entry(id);
      entry.record = await this.write(
        id,
        connection.json,
        entry.record.revision,
        headers,
        entry.record.created,
      );
      await this.stopRuntime(entry);
      entry.connection = connection;
      entry.invalid = undefined;
      if (connection.desired === 'open') this.startRuntime(entry);
    });
  }

  async delete(id: string, headers: DittoHeaders = {}): Promise<void> {
    await this.serialise(id, async () => {
      const entry = this.entry(id);
      await this.stopRuntime(entry);
      await this.write(id, null, entry.record.revision, headers, entry.record.created);
      this.entries.delete(id);
    });
  }

  /** `POST /connections/{id}/command` (§2.9). */
  async command(id: string, text: string, headers: DittoHeaders = {}): Promise<void> {
    const name = text.trim().replace(/^connectivity\.commands:/, '');
    if (
      !(CONNECTION_COMMANDS as readonly string[]).includes(name) ||
      !text.trim().startsWith('connectivity.commands:')
    ) {
      throw connectionCommandUnknown({ command: text.trim() });
    }
    await this.serialise(id, async () => {
      const entry = this.entry(id);
      switch (name as (typeof CONNECTION_COMMANDS)[number]) {
        case 'openConnection':
        case 'closeConnection': {
          const desired = name === 'openConnection' ? 'open' : 'closed';
          if (!entry.connection)
            throw connectionConfigurationInvalid({
              detail: entry.invalid ?? 'the stored connection is invalid',
            });
          if (entry.record.value!.connectionStatus !== desired) {
            const json = { ...entry.record.value!, connectionStatus: desired } as ConnectionJson;
            entry.record = await this.write(id, json, entry.record.revision, headers, entry.record.created);
            entry.connection = { ...entry.connection, json, desired };
          }
          if (desired === 'open') {
            if (!entry.runtime) {
              entry.logs.enable();
              const runtime = this.runtimeFor(entry.connection);
              entry.runtime = runtime;
              try {
                // ditto: openConnection answers only once connected; failures are 504 connection.failed.
                await runtime.open(false);
              } catch (err) {
                // keep trying in the background, as a stored open connection does
                await runtime.close();
                this.startRuntime(entry);
                throw connectionFailed(
                  { connectionId: id, detail: runtime.redact((err as Error).message) },
                  { cause: err },
                );
              }
            }
          } else await this.stopRuntime(entry);
          return;
        }
        case 'resetConnectionMetrics':
          entry.metrics.reset();
          return;
        case 'enableConnectionLogs':
          entry.logs.enable();
          return;
        case 'resetConnectionLogs':
          entry.logs.reset();
          return;
      }
    });
  }

  /** Every connection with its live status (Prometheus gauge). */
  liveStates(): Array<{ id: string; liveStatus: string }> {
    return [...this.entries.entries()]
      .filter(([, e]) => e.record.value)
      .map(([id]) => ({ id, liveStatus: String(this.status(id).liveStatus) }));
  }

  /** Signals and unconfirmed writes in flight per target of each open connection (src/connectivity/window.ts). */
  outboundInFlight(): Array<{ id: string; target: string; inFlight: number }> {
    const out: Array<{ id: string; target: string; inFlight: number }> = [];
    for (const [id, e] of this.entries)
      for (const t of e.runtime?.outboundInFlight() ?? [])
        out.push({ id, target: t.address, inFlight: t.inFlight });
    return out;
  }

  status(id: string): Record<string, unknown> {
    const entry = this.entry(id);
    if (entry.runtime) return entry.runtime.status();
    return {
      connectionId: id,
      connectionStatus: entry.record.value!.connectionStatus,
      liveStatus: entry.invalid ? 'misconfigured' : 'closed',
      clientStatus: [],
      sourceStatus: [],
      targetStatus: [],
      sshTunnelStatus: [],
      ...(entry.invalid ? { statusDetails: entry.invalid } : {}),
    };
  }

  metrics(id: string): Record<string, unknown> {
    const entry = this.entry(id);
    const c = entry.connection;
    return entry.metrics.toJSON(
      id,
      c ? c.sources.map((s) => s.addresses.join(',')) : [],
      c ? c.targets.map((t) => t.address) : [],
    );
  }

  logs(id: string): Record<string, unknown> {
    return this.entry(id).logs.toJSON(id);
  }

  /**
   * Writes the connection's next revision (`json` null: deleted) with its secrets sealed, and the request
   * headers history keeps; returns the record with the secrets in clear (what is kept here).
   */
  private async write(
    id: string,
    json: ConnectionJson | null,
    expectedRevision: number,
    headers: DittoHeaders,
    created?: string,
    modified?: string,
  ): Promise<EntityRecord<ConnectionJson>> {
    const now = new Date().toISOString();
    let value: ConnectionJson | null = null;
    if (json !== null) {
      const { _revision, _created, _modified, ...rest } = json;
      void _revision;
      void _created;
      void _modified;
      value = { ...rest, id } as ConnectionJson;
    }
    const record: EntityRecord<ConnectionJson> = {
      kind: 'connection',
      id,
      revision: expectedRevision + 1,
      created: created ?? now,
      modified: modified ?? now,
      value,
    };
    const sealed =
      value === null ? null : sealSecrets(value, this.secretFieldsOf(value.connectionType), this.o.secrets);
    const change: Change = { record: { ...record, value: sealed }, expectedRevision };
    const kept = persistedHeaders(this.history, headers);
    if (kept !== undefined) change.headers = kept;
    await this.o.store.write([change]);
    return record;
  }

  /**
   * Scale-out (src/cluster): another instance created, modified, opened, closed or deleted the connection;
   * `record` is the durable record read after that change (undefined or value null: deleted). This instance
   * adopts it: the runtime is stopped, and started again with the new configuration when it is to be open.
   * Records not newer than the one held are ignored (this instance's own writes, repeated notices).
   */
  applyRemote(id: string, record: EntityRecord | undefined): Promise<void> {
    return this.serialise(id, async () => {
      const entry = this.entries.get(id);
      if (entry && record && entry.record.revision >= record.revision) return;
      if (!record?.value) {
        if (!entry) return;
        await this.stopRuntime(entry);
        this.entries.delete(id);
        return;
      }
      let opened: EntityRecord<ConnectionJson> | undefined;
      let problem: unknown;
      try {
        opened = this.opened(record).record;
      } catch (err) {
        problem = err;
      }
      // The same configuration written again (its secrets sealed with another key): nothing to restart.
      if (opened && entry?.connection && !entry.invalid && jsonEqual(opened.value, entry.record.value)) {
        entry.record = opened;
        return;
      }
      const next = entry ?? this.newEntry(record as EntityRecord<ConnectionJson>);
      next.record = opened ?? (record as EntityRecord<ConnectionJson>);
      await this.stopRuntime(next);
      try {
        if (!opened) throw problem;
        next.connection = this.validate(opened.value);
        next.invalid = undefined;
      } catch (err) {
        next.connection = undefined;
        next.invalid = err instanceof Error ? err.message : String(err);
        this.o.log('error', `connection ${id} changed by another instance cannot be loaded: ${next.invalid}`);
      }
      this.entries.set(id, next);
      if (next.connection?.desired === 'open') this.startRuntime(next);
    });
  }

  /** Closes every connection (service shutdown); the desired status stays as stored. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.values()].map((e) => this.stopRuntime(e)));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
