/**
 * One AMQP 1.0 connection client over rhea (ditto-interfaces.md §11.6), for the connectivity runtime.
 *
 * Sources: one receiver link per source address × consumer (the address is the link's source address, e.g.
 * a queue name; RabbitMQ 3.x: `/amq/queue/<name>`). Credit is issued by hand (STYLE lesson 7): the prefetch
 * (Qpid JMS `jms.prefetchPolicy.queuePrefetch` or `.all`, default 500) when the link opens, then one per
 * settled message, so at most that many messages are unsettled; `pause()` stops issuing credit and
 * `resume()` issues what was held back. Settlement: `ack()` → accepted;
 * `nack(true)` → modified with delivery-failed (the broker redelivers); `nack(false)` → rejected.
 *
 * Targets: one sender link per distinct resolved address (`name` | `queue://name` | `topic://name`), opened
 * on first use and kept (up to MAX_SENDERS). `write` resolves when the broker settles the delivery as
 * accepted and rejects on rejected, released or modified, or when the link or connection goes away. Writes
 * are sent in call order as link credit allows (those waiting for credit are bounded by the runtime's
 * outbound window: src/connectivity/window.ts).
 *
 * rhea's own reconnection is off (`reconnect: false`); a lost connection or a detached receiver is
 * reported once through `onDisconnect` and the runtime reconnects (STYLE lesson 2).
 */
import { isIP } from 'node:net';
import rhea, {
  type Connection,
  type ConnectionOptions,
  type Delivery,
  type EventContext,
  type Receiver,
  type Sender,
  type Session,
} from 'rhea';
import {
  connectError,
  type ClientContext,
  type ConnectorClient,
  type InboundMessage,
  type OutboundMessage,
  type SourceHandle,
  type TargetHandle,
} from '../../src/connectivity/index.js';
import type { Source, Target } from '../../src/connectivity/model.js';
import { TwinbridgeError } from '../../src/errors/base.js';
import { notConnected } from '../../src/errors/connectivity.js';
import { bodyOf, headersOf, targetTerminus, toAmqpMessage } from './message.js';

const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 30_000;
/** Unsettled messages per receiver, unless `jms.prefetchPolicy.queuePrefetch` / `.all` says otherwise. */
const DEFAULT_CREDIT = 500;
const MAX_SENDERS = 64;
/** The descriptor of the `modified` delivery outcome (AMQP 1.0 §3.4.5). */
const MODIFIED = 'amqp:modified:list';

interface PendingWrite {
  message: OutboundMessage;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface SenderState {
  session: Session;
  sender: Sender;
  queue: PendingWrite[];
  unsettled: Map<Delivery, PendingWrite>;
}

/** An AMQP error condition the peer sent (`amqp:unauthorized-access`, `amqp:not-found`, …) with its description. */
class AmqpError extends TwinbridgeError {
  constructor(
    readonly condition: string,
    description: unknown,
  ) {
    super(`${condition}${description ? `: ${String(description)}` : ''}`);
  }
}

/** An Error for what rhea reports: an Error, an AMQP error `{condition, description}` or its undecoded list. */
function describe(error: unknown, fallback: string): Error {
  if (error instanceof Error) return error;
  if (error && typeof error === 'object') {
    let { condition, description } = error as { condition?: unknown; description?: unknown };
    const list = (error as { value?: unknown }).value;
    if (condition === undefined && Array.isArray(list)) {
      // The error composite as rhea leaves it on a session: [condition, description, info].
      const item = (i: number) => (list[i] as { value?: unknown } | undefined)?.value;
      condition = item(0);
      description = item(1);
    }
    if (condition !== undefined && condition !== null) return new AmqpError(String(condition), description);
  }
  return new Error(fallback);
}

export class Amqp10ConnectorClient implements ConnectorClient {
  private connection: Connection | undefined;
  private closing = false;
  /** Rejects when the connection is lost or closed, so that waits for the broker end with it. */
  private gone: { promise: Promise<never>; reject: (error: Error) => void } | undefined;
  private readonly senders = new Map<string, SenderState>();

  private readonly credit: number;

  constructor(private readonly context: ClientContext) {
    this.credit = creditOf(context.connection.specificConfig);
  }

  private options(): ConnectionOptions {
    const { connection, clientIndex } = this.context;
    const uri = connection.uri;
    const tls = uri.protocol === 'amqps:';
    const options: Record<string, unknown> = {
      host: uri.hostname,
      port: Number(uri.port || (tls ? 5671 : 5672)),
      container_id: `twinbridge-${connection.id}-${clientIndex + 1}`,
      reconnect: false,
      idle_time_out: IDLE_TIMEOUT_MS,
    };
    if (uri.username) options.username = decodeURIComponent(uri.username);
    if (uri.password) options.password = decodeURIComponent(uri.password);
    if (uri.pathname.length > 1) options.hostname = decodeURIComponent(uri.pathname.slice(1));
    if (tls) {
      options.transport = 'tls';
      options.rejectUnauthorized = connection.validateCertificates;
      // SNI takes host names only.
      if (!isIP(uri.hostname.replace(/^\[|\]$/g, ''))) options.servername = uri.hostname;
      if (connection.ca) options.ca = connection.ca;
      const creds = connection.credentials;
      if (creds?.type === 'client-cert') {
        if (typeof creds.cert === 'string') options.cert = creds.cert;
        if (typeof creds.key === 'string') options.key = creds.key;
        // With a client certificate and no user in the URI, SASL EXTERNAL: the broker takes the identity from
        // the certificate (Qpid JMS, Ditto's AMQP 1.0 client, chooses EXTERNAL too when the broker offers it
        // and a client certificate is set). With a user in the URI, PLAIN as before.
        if (!uri.username) options.enable_sasl_external = true;
      }
    }
    return options as unknown as ConnectionOptions;
  }

  async connect(): Promise<void> {
    this.closing = false;
    let reject!: (error: Error) => void;
    const promise = new Promise<never>((_, r) => (reject = r));
    // Not ignored: waits race against it and take its rejection; marked handled for when none is waiting.
    promise.catch(() => undefined);
    this.gone = { promise, reject };
    const container = rhea.create_container();
    const connection = container.connect(this.options());
    this.connection = connection;
    // Without a listener rhea would throw unhandled errors of links and sessions.
    connection.on('error', (err: unknown) => this.lost(describe(err, 'AMQP 1.0 error')));
    // A frame rhea cannot accept (e.g. RabbitMQ 3.x sending a second close); rhea then ends the socket.
    connection.on('protocol_error', (err: unknown) => this.lost(describe(err, 'AMQP 1.0 protocol error')));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error('no AMQP 1.0 open frame within 10 s')),
        CONNECT_TIMEOUT_MS,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        connection.removeListener('connection_open', ok);
        reject(connectError(err, { refused: authenticationRefused }));
      };
      const ok = () => {
        clearTimeout(timer);
        connection.removeListener('connection_error', refused);
        connection.removeListener('disconnected', dropped);
        resolve();
      };
      const refused = (ctx: EventContext) =>
        fail(describe(ctx.error ?? ctx.connection.error, 'the broker refused the connection'));
      const dropped = (ctx: EventContext) =>
        fail(describe(ctx.error ?? ctx.connection.error, 'disconnected before the AMQP 1.0 open frame'));
      connection.once('connection_open', ok);
      connection.once('connection_error', refused);
      connection.once('disconnected', dropped);
    });
    connection.on('disconnected', (ctx: EventContext) =>
      this.lost(describe(ctx.error ?? ctx.connection.error, 'the AMQP 1.0 connection was lost')),
    );
    connection.on('connection_close', (ctx: EventContext) =>
      this.lost(describe(ctx.connection.error, 'the broker closed the connection')),
    );
  }

  /** Reports a lost connection (or a detached receiver) once; the runtime closes and reconnects. */
  private lost(error: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.gone?.reject(notConnected({ detail: error.message }, { cause: error }));
    this.failSenders(notConnected({ detail: error.message }, { cause: error }));
    this.context.onDisconnect(error);
  }

  private requireConnection(): Connection {
    if (!this.connection || this.closing)
      throw notConnected({ detail: 'the AMQP 1.0 client is not connected' });
    return this.connection;
  }

  /**
   * Opens a session of its own for each link: RabbitMQ ends the whole session when a link names a node that
   * does not exist, which would otherwise take the other links down with it.
   */
  private session(): Session {
    const session = this.requireConnection().create_session();
    session.begin();
    return session;
  }

  async createSource(
    _source: Source,
    address: string,
    consumerIndex: number,
    deliver: (message: InboundMessage) => void,
  ): Promise<SourceHandle> {
    const session = this.session();
    const receiver: Receiver = session.open_receiver({
      name: `${address}#${consumerIndex}`,
      source: { address },
      credit_window: 0,
      autoaccept: false,
    });
    const attached = new Promise<void>((resolve, reject) => {
      const refused = (error: unknown) => {
        clearTimeout(timer);
        reject(
          notConnected({
            detail: `cannot receive from '${address}': ${describe(error, 'the link was refused').message}`,
          }),
        );
      };
      const timer = setTimeout(
        () => refused(new Error(`no attach within ${CONNECT_TIMEOUT_MS / 1000} s`)),
        CONNECT_TIMEOUT_MS,
      );
      receiver.once('receiver_open', () => {
        clearTimeout(timer);
        session.removeAllListeners('session_error');
        resolve();
      });
      receiver.once('receiver_error', (ctx: EventContext) => refused(ctx.receiver?.error));
      session.once('session_error', (ctx: EventContext) => refused(ctx.session?.error));
    });
    // A refusal after the connection is gone has nobody waiting for it.
    attached.catch(() => undefined);
    await Promise.race([attached, this.gone!.promise]);
    const failed = (error: unknown) =>
      this.lost(describe(error, `the receiver of '${address}' was detached`));
    receiver.on('receiver_error', (ctx: EventContext) => failed(ctx.receiver?.error));
    receiver.on('receiver_close', (ctx: EventContext) => failed(ctx.receiver?.error));
    session.on('session_error', (ctx: EventContext) => failed(ctx.session?.error));
    session.on('session_close', (ctx: EventContext) => failed(ctx.session?.error));
    // ditto: §11.6 a retryable failure settles as modified[delivery-failed]; a broker that does not offer
    // that outcome on the source (RabbitMQ 3.x offers accepted, rejected, released) gets released, which
    // also returns the message for redelivery.
    // rhea's `source` is the source terminus of the broker's attach (undefined when it sent none).
    const outcomes = receiver.source?.outcomes;
    const modifiedOffered =
      outcomes === undefined ||
      (Array.isArray(outcomes) ? outcomes.includes(MODIFIED) : outcomes === MODIFIED);
    let paused = false;
    let owed = 0;
    const credit = () => {
      if (paused || this.closing) owed++;
      else receiver.add_credit(1);
    };
    receiver.on('message', (ctx: EventContext) => {
      const delivery = ctx.delivery!;
      const message = ctx.message!;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled || this.closing) return;
        settled = true;
        outcome();
        credit();
      };
      const { payload, text } = bodyOf(message);
      deliver({
        headers: headersOf(message),
        payload,
        text,
        address,
        ack: () => settle(() => delivery.accept()),
        // ditto: §11.6 retryable failure ⇒ modified[delivery-failed]; otherwise rejected.
        nack: (redeliver) =>
          settle(() => {
            if (!redeliver)
              delivery.reject({
                condition: 'amqp:internal-error',
                description: 'the message could not be processed',
              });
            else if (modifiedOffered) delivery.modified({ delivery_failed: true, undeliverable_here: false });
            else delivery.release();
          }),
      });
    });
    receiver.add_credit(this.credit);
    return {
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
        if (owed > 0 && !this.closing) receiver.add_credit(owed);
        owed = 0;
      },
    };
  }

  async createTarget(_target: Target): Promise<TargetHandle> {
    this.requireConnection();
    return {
      write: (message) =>
        new Promise<void>((resolve, reject) => {
          if (this.closing || !this.connection)
            return reject(notConnected({ detail: 'the AMQP 1.0 client is not connected' }));
          const state = this.senderFor(message.address);
          state.queue.push({ message, resolve, reject });
          this.pump(state);
        }),
    };
  }

  private senderFor(address: string): SenderState {
    const existing = this.senders.get(address);
    if (existing) return existing;
    if (this.senders.size >= MAX_SENDERS) {
      for (const [a, s] of this.senders) {
        if (s.queue.length === 0 && s.unsettled.size === 0) {
          this.senders.delete(a);
          s.session.close();
          break;
        }
      }
    }
    const session = this.session();
    const sender = session.open_sender({ target: targetTerminus(address), autosettle: true });
    const state: SenderState = { session, sender, queue: [], unsettled: new Map() };
    this.senders.set(address, state);
    const outcome = (ok: boolean, what: string) => (ctx: EventContext) => {
      const pending = ctx.delivery ? state.unsettled.get(ctx.delivery) : undefined;
      if (!pending) return;
      state.unsettled.delete(ctx.delivery!);
      if (ok) pending.resolve();
      else
        pending.reject(
          new Error(
            `the broker ${what} the message to '${address}'${ctx.delivery?.remote_state?.error ? `: ${describe(ctx.delivery.remote_state.error, '').message}` : ''}`,
          ),
        );
    };
    sender.on('accepted', outcome(true, 'accepted'));
    sender.on('rejected', outcome(false, 'rejected'));
    sender.on('released', outcome(false, 'released'));
    sender.on('modified', outcome(false, 'did not accept (modified)'));
    sender.on('sendable', () => this.pump(state));
    const gone = (cause: unknown) => {
      if (this.senders.get(address) === state) this.senders.delete(address);
      const error = describe(cause, `the sender to '${address}' was detached`);
      for (const w of [...state.queue.splice(0), ...state.unsettled.values()])
        w.reject(new Error(`cannot send to '${address}': ${error.message}`, { cause: error }));
      state.unsettled.clear();
    };
    sender.on('sender_error', (ctx: EventContext) => gone(ctx.sender?.error));
    sender.on('sender_close', (ctx: EventContext) => gone(ctx.sender?.error));
    session.on('session_error', (ctx: EventContext) => gone(ctx.session?.error));
    session.on('session_close', (ctx: EventContext) => gone(ctx.session?.error));
    return state;
  }

  private pump(state: SenderState): void {
    while (state.queue.length > 0 && state.sender.sendable()) {
      const write = state.queue.shift()!;
      const { address, headers, payload, contentType } = write.message;
      const delivery = state.sender.send(toAmqpMessage(address, headers, payload, contentType));
      state.unsettled.set(delivery, write);
    }
  }

  private failSenders(error: Error): void {
    for (const state of this.senders.values()) {
      for (const w of [...state.queue.splice(0), ...state.unsettled.values()]) w.reject(error);
      state.unsettled.clear();
    }
    this.senders.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.gone?.reject(notConnected({ detail: 'the client was closed' }));
    this.failSenders(notConnected({ detail: 'the client was closed' }));
    const connection = this.connection;
    this.connection = undefined;
    if (!connection || !connection.is_open()) return;
    // Unsettled deliveries return to their queues when the connection closes.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      connection.once('connection_close', done);
      connection.once('disconnected', done);
      connection.close();
    });
  }
}

/** ditto: §11.6 specificConfig holds Qpid JMS URI options; their prefetch is this client's link credit. */
export function creditOf(config: Record<string, string>): number {
  const n = Number(
    config['jms.prefetchPolicy.queuePrefetch'] ?? config['jms.prefetchPolicy.all'] ?? DEFAULT_CREDIT,
  );
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CREDIT;
}

/** Refused credentials (SASL outcome, `amqp:unauthorized-access`; rhea's errors and AmqpError carry `condition`) do not heal by retrying. */
function authenticationRefused(err: Error): boolean {
  return /unauthorized|sasl|authentication/i.test(
    `${err.message} ${String((err as { condition?: unknown }).condition ?? '')}`,
  );
}
