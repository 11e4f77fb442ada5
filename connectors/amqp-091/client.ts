/**
 * One AMQP 0.9.1 connection client over amqplib (ditto-interfaces.md §11.6), for the connectivity runtime.
 *
 * Sources: one channel per source address × consumer, consuming an existing queue with manual
 * acknowledgements. Back-pressure (STYLE lesson 7): the channel's prefetch bounds the unacknowledged
 * messages the broker hands out; `pause()` additionally cancels the consumer (messages already delivered
 * still settle) and `resume()` consumes again. Settlement: `ack()` → basic.ack; `nack(true)` →
 * basic.nack(requeue=true) so the broker redelivers; `nack(false)` → basic.nack(requeue=false).
 * Several clients or consumers on one queue are competing consumers: the broker splits the load.
 *
 * Targets: one confirm channel per client, shared by all targets. `write` resolves when the broker confirms
 * the publish (basic.ack) and rejects on basic.nack or when the channel closes before the confirm. Writes
 * are published strictly in call order; when the socket buffer is full, further writes wait for `drain`
 * (at most the runtime's outbound window of them: src/connectivity/window.ts).
 * A channel error (e.g. a missing exchange, 404) fails the writes it affects; the next write opens a new
 * confirm channel.
 *
 * amqplib's plain `connect` does not reconnect; a lost connection is reported once through `onDisconnect`
 * and the runtime reconnects (STYLE lesson 2). Credentials are passed as fields, never as a URL string,
 * so no library message can echo them.
 */
import { isIP } from 'node:net';
import amqplib, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
} from 'amqplib';
import {
  AddressInvalidError,
  connectError,
  type ClientContext,
  type ConnectorClient,
  type InboundMessage,
  type OutboundMessage,
  type SourceHandle,
  type TargetHandle,
} from '../../src/connectivity/index.js';
import { corkUntil } from '../../src/connectivity/cork.js';
import type { Source, Target } from '../../src/connectivity/model.js';
import { notConnected } from '../../src/errors/connectivity.js';
import { headersOf, publishOptions, splitTargetAddress, textForm } from './address.js';
import { parseAmqp091Config, type Amqp091Config } from './config.js';
import { socketOf } from './internals.js';

const CONNECT_TIMEOUT_MS = 10_000;
const SOCKET_HIGH_WATER_MARK = 1024 * 1024;
const HEARTBEAT_SECONDS = 30;

interface PendingWrite {
  message: OutboundMessage;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Amqp091ConnectorClient implements ConnectorClient {
  private readonly config: Amqp091Config;
  private model: ChannelModel | undefined;
  private closing = false;
  private lastError: Error | undefined;
  // Publishing (see the module comment).
  private publisher: ConfirmChannel | undefined;
  private opening: Promise<void> | undefined;
  private readonly queue: PendingWrite[] = [];
  private blocked = false;

  constructor(private readonly context: ClientContext) {
    this.config = parseAmqp091Config(context.connection.specificConfig);
  }

  private connectOptions(): { url: Options.Connect; socket: Record<string, unknown> } {
    const { connection, clientIndex } = this.context;
    const uri = connection.uri;
    const tls = uri.protocol === 'amqps:';
    const url: Options.Connect = {
      protocol: tls ? 'amqps' : 'amqp',
      hostname: uri.hostname,
      port: Number(uri.port || (tls ? 5671 : 5672)),
      // ditto: §11.1 `amqp(s)://user:pw@host:port[/vhost]`; an empty path is the default vhost.
      vhost: uri.pathname.length > 1 ? decodeURIComponent(uri.pathname.slice(1)) : '/',
      heartbeat: HEARTBEAT_SECONDS,
    };
    if (uri.username) url.username = decodeURIComponent(uri.username);
    if (uri.password) url.password = decodeURIComponent(uri.password);
    const socket: Record<string, unknown> = {
      timeout: CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: `twinbridge ${connection.id} client-${clientIndex + 1}` },
      // Frames written in one turn are corked into one system call (see the target's write); with the
      // default 16 KiB the corked frames soon exceed the socket's mark, amqplib's multiplexer then waits
      // for 'drain' and writes the rest one frame per system call.
      writableHighWaterMark: SOCKET_HIGH_WATER_MARK,
    };
    if (tls) {
      socket.rejectUnauthorized = connection.validateCertificates;
      // SNI takes host names only.
      if (!isIP(uri.hostname.replace(/^\[|\]$/g, ''))) socket.servername = uri.hostname;
      if (connection.ca) socket.ca = connection.ca;
      const creds = connection.credentials;
      if (creds?.type === 'client-cert') {
        if (typeof creds.cert === 'string') socket.cert = creds.cert;
        if (typeof creds.key === 'string') socket.key = creds.key;
        // Beyond Ditto: with a client certificate and no user in the URI, SASL EXTERNAL, so the broker takes
        // the identity from the certificate (RabbitMQ: plugin rabbitmq_auth_mechanism_ssl). Otherwise
        // amqplib, like the RabbitMQ Java client Ditto uses, logs in as guest/guest.
        if (!uri.username) socket.credentials = amqplib.credentials.external();
      }
    }
    return { url, socket };
  }

  async connect(): Promise<void> {
    this.closing = false;
    const { url, socket } = this.connectOptions();
    let model: ChannelModel;
    try {
      model = await amqplib.connect(url, socket);
    } catch (err) {
      throw connectError(err, { refused: (e) => refusal(e, url.vhost ?? '/') });
    }
    this.model = model;
    model.on('error', (err: Error) => (this.lastError = err));
    model.on('close', () => this.lost(this.lastError ?? new Error('the broker closed the connection')));
  }

  /** Reports a lost connection (or a dead consumer) once; the runtime closes and reconnects. */
  private lost(error: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.failWrites(notConnected({ detail: error.message }, { cause: error }));
    this.context.onDisconnect(error);
  }

  private requireModel(): ChannelModel {
    if (!this.model || this.closing) throw notConnected({ detail: 'the AMQP 0.9.1 client is not connected' });
    return this.model;
  }

  private async openChannel<T extends Channel>(create: (model: ChannelModel) => Promise<T>): Promise<T> {
    const channel = await create(this.requireModel());
    // A channel error is followed by 'close'; without a listener the 'error' event would be thrown.
    channel.on('error', (err: Error) => (this.lastError = err));
    return channel;
  }

  async createSource(
    _source: Source,
    address: string,
    _consumerIndex: number,
    deliver: (message: InboundMessage) => void,
  ): Promise<SourceHandle> {
    const channel = await this.openChannel((m) => m.createChannel());
    let open = true;
    let paused = false;
    let consumerTag: string | undefined;
    channel.on('close', () => {
      open = false;
      this.lost(
        new Error(
          `the channel consuming '${address}' was closed${this.lastError ? `: ${this.lastError.message}` : ''}`,
        ),
      );
    });
    await channel.prefetch(this.config.prefetchCount);

    const acks = new AckBatcher(channel, () => open && !this.closing);
    const onMessage = (msg: ConsumeMessage | null) => {
      // The broker cancels a consumer when its queue is deleted.
      if (msg === null)
        return this.lost(new Error(`the broker cancelled the consumer of queue '${address}'`));
      let settled = false;
      acks.delivered(msg);
      deliver({
        headers: headersOf(msg),
        payload: msg.content,
        text: textForm(msg.properties.contentType),
        address,
        ack: () => {
          if (settled || !open) return;
          settled = true;
          acks.ack(msg);
        },
        // ditto: §11.6 failure ⇒ basicNack(requeue=true) if it should be redelivered, else requeue=false.
        nack: (redeliver) => {
          if (settled || !open) return;
          settled = true;
          acks.nack(msg, redeliver);
        },
      });
    };

    // pause/resume change the desired state; one operation at a time brings the consumer there.
    let op: Promise<void> = Promise.resolve();
    const sync = () => {
      op = op
        .then(async () => {
          if (!open) return;
          if (paused && consumerTag !== undefined) {
            const tag = consumerTag;
            consumerTag = undefined;
            await channel.cancel(tag);
          } else if (!paused && consumerTag === undefined) {
            consumerTag = (await channel.consume(address, onMessage, { noAck: false })).consumerTag;
          }
        })
        .catch((err: Error) => this.lost(err));
    };

    try {
      consumerTag = (await channel.consume(address, onMessage, { noAck: false })).consumerTag;
    } catch (err) {
      // ditto: §11.6 source queues must exist; a missing one fails the client until it is created.
      throw notConnected(
        { detail: `cannot consume from queue '${address}': ${(err as Error).message}` },
        { cause: err },
      );
    }
    return {
      pause: () => {
        paused = true;
        sync();
      },
      resume: () => {
        paused = false;
        sync();
      },
    };
  }

  async createTarget(_target: Target): Promise<TargetHandle> {
    this.requireModel();
    return {
      write: (message) =>
        new Promise<void>((resolve, reject) => {
          if (this.closing || !this.model)
            return reject(notConnected({ detail: 'the AMQP 0.9.1 client is not connected' }));
          this.queue.push({ message, resolve, reject });
          this.pump();
        }),
    };
  }

  /** Publishes queued writes in order while the channel accepts them. */
  private pump(): void {
    // amqplib writes the frames from a setImmediate of its own (scheduled by publish): uncorking after it
    // sends the publishes of this turn in one system call instead of one each.
    if (this.publisher && !this.blocked && this.queue.length > 0)
      corkUntil(socketOf(this.model), 'immediate');
    while (this.queue.length > 0 && !this.blocked) {
      const channel = this.publisher;
      if (!channel) {
        this.openPublisher();
        return;
      }
      const { message, resolve, reject } = this.queue.shift()!;
      const parts = splitTargetAddress(message.address);
      if (!parts) {
        reject(
          new AddressInvalidError(
            `the target address '${message.address}' is not of the form 'exchange/routingKey'`,
          ),
        );
        continue;
      }
      const ok = channel.publish(
        parts.exchange,
        parts.routingKey,
        message.payload,
        publishOptions(message.headers, message.contentType),
        (err: unknown) => {
          if (err)
            reject(
              new Error(
                `the broker did not confirm the message to '${message.address}'${this.lastError ? `: ${this.lastError.message}` : ''}`,
                { cause: err },
              ),
            );
          else resolve();
        },
      );
      if (!ok) {
        this.blocked = true;
        channel.once('drain', () => {
          this.blocked = false;
          this.pump();
        });
      }
    }
  }

  private openPublisher(): void {
    if (this.opening) return;
    this.opening = this.openChannel((m) => m.createConfirmChannel()).then(
      (channel) => {
        this.publisher = channel;
        this.opening = undefined;
        channel.on('close', () => {
          if (this.publisher === channel) this.publisher = undefined;
          this.blocked = false;
          if (this.queue.length > 0 && !this.closing) this.pump();
        });
        this.pump();
      },
      (err: Error) => {
        this.opening = undefined;
        this.failWrites(
          notConnected({ detail: `cannot open a publishing channel: ${err.message}` }, { cause: err }),
        );
      },
    );
  }

  private failWrites(error: Error): void {
    for (const w of this.queue.splice(0)) w.reject(error);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.failWrites(notConnected({ detail: 'the client was closed' }));
    const model = this.model;
    this.model = undefined;
    this.publisher = undefined;
    if (!model) return;
    // Unacknowledged deliveries return to their queues when the connection closes.
    await model.close().catch((err: Error) => {
      if (!/closed/i.test(err.message)) throw err;
    });
  }
}

/**
 * Coalesces acknowledgements: deliveries are acked with `multiple` up to the highest tag whose predecessors
 * on the channel were all settled, once per turn of the event loop, instead of one frame per message.
 * A nack is sent at once for its own tag (after flushing the acks before it).
 */
class AckBatcher {
  /** Delivered and not yet sent to the broker, in delivery-tag order; `true` once acked by the runtime. */
  private readonly pending = new Map<number, { msg: ConsumeMessage; acked: boolean }>();
  private scheduled = false;

  constructor(
    private readonly channel: Channel,
    private readonly usable: () => boolean,
  ) {}

  delivered(msg: ConsumeMessage): void {
    this.pending.set(msg.fields.deliveryTag, { msg, acked: false });
  }

  ack(msg: ConsumeMessage): void {
    const entry = this.pending.get(msg.fields.deliveryTag);
    if (!entry) return;
    entry.acked = true;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  nack(msg: ConsumeMessage, requeue: boolean): void {
    this.flush();
    this.pending.delete(msg.fields.deliveryTag);
    this.channel.nack(msg, false, requeue);
  }

  /** Acks the settled prefix with one `multiple` ack; Map iteration follows insertion (= tag) order. */
  private flush(): void {
    // A closed channel or client: the broker redelivers what was not acked.
    if (!this.usable()) return;
    let last: ConsumeMessage | undefined;
    for (const [tag, entry] of this.pending) {
      if (!entry.acked) break;
      last = entry.msg;
      this.pending.delete(tag);
    }
    if (!last) return;
    this.channel.ack(last, true);
    // The ack leaves with the publishes of this turn (see the target's write).
    corkUntil(socketOf(this.channel), 'immediate');
  }
}

/** Authentication and vhost refusals (AMQP reply codes 403 ACCESS_REFUSED, 530 NOT_ALLOWED) do not heal by retrying. */
function refusal(err: Error, vhost: string): boolean | string {
  // The broker answered connection.open with connection.close; amqplib's message drops the close's reply
  // code and text. RabbitMQ does so (530 NOT_ALLOWED) when the vhost does not exist or the user may not use it.
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(err.message)) {
    return `the broker refused access to vhost '${vhost}': it does not exist or the user may not use it (connection.close in reply to connection.open)`;
  }
  return /ACCESS[-_]REFUSED|\b403\b|NOT[-_]ALLOWED|\b530\b/.test(err.message);
}
