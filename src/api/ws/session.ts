/**
 * One WebSocket session of `/ws/2` (ditto-interfaces.md §5): a subscriber of the registry (events,
 * messages, live commands and live events it starts with control messages) and a client sending Ditto
 * Protocol commands, messages, responses and acknowledgements.
 *
 * Outgoing signals are bounded: while more than `maxBufferedBytes` wait for the socket (the kernel does not
 * take them because the client reads too slowly; ditto: §13 publisher buffer of 200 signals), a signal is
 * refused — a consumer group passes it to another member, otherwise it is dropped and counted (ditto
 * drops on overflow) — so a slow session never stalls the bus or other sessions. A group signal that was
 * handed to the socket but could not be written because the session closed goes to another member of the
 * group (§15).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { subjectsKeyOf, type AuthContext } from '../../auth/context.js';
import { isDittoError, type DittoError } from '../../errors/ditto-error.js';
import { internalError } from '../../errors/general.js';
import { unknownSignal } from '../../errors/protocol.js';
import { websocketSessionExpired } from '../../errors/streaming.js';
import { errorToProtocol, stringifyProtocolMessage, type ProtocolMessage } from '../../protocol/index.js';
import {
  compileSubscription,
  type Delivery,
  type StreamKind,
  type Subscriber,
  type Subscription,
} from '../../streaming/subscription.js';
import { parseFieldSelector } from '../../util/field-selector.js';
import { parseControlMessage, type ControlMessage } from './control.js';
import { handleProtocolMessage, type WsDeps } from './signals.js';
import { rawSocketOf, senderIdle } from './ws-internals.js';

let sessions = 0;
const TEXT_FRAME = { binary: false } as const;
const corked: Socket[] = [];
function uncorkAll(): void {
  for (const raw of corked.splice(0)) raw.uncork();
}

/** RFC 6455 §5.2: an unmasked final text frame (server to client) carrying `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

export interface SessionOptions {
  /** Bytes waiting for the socket (not yet taken by the kernel) beyond which signals are refused. */
  maxBufferedBytes: number;
  /** A ping is sent when nothing was received for this long (ditto: 30 s). */
  pingIntervalMs: number;
}

export class WsSession implements Subscriber {
  readonly id = `ws-${++sessions}-${Date.now().toString(36)}`;
  readonly subjectsKey: string;
  private readonly subscriptions = new Map<StreamKind, Subscription>();
  /** Signals refused because the buffer was full (observable for tests and metrics). */
  dropped = 0;
  private lastReceived = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private auth_: AuthContext,
    private readonly deps: WsDeps,
    private readonly options: SessionOptions,
  ) {
    this.subjectsKey = subjectsKeyOf(auth_);
    socket.on('message', (data, isBinary) => {
      this.lastReceived = Date.now();
      if (isBinary) return this.sendError(unknownSignal({ signal: 'binary frame' }), { headers: {} });
      void this.onText(data.toString()).catch((err: unknown) => this.fail(err, {}));
    });
    socket.on('pong', () => (this.lastReceived = Date.now()));
    socket.on('close', () => this.onClose());
    socket.on('error', (err) => deps.logger.debug({ err }, 'websocket error'));
    const ping = setInterval(() => {
      if (Date.now() - this.lastReceived >= options.pingIntervalMs && socket.readyState === socket.OPEN)
        socket.ping();
    }, options.pingIntervalMs);
    ping.unref();
    this.timers.push(ping);
    this.scheduleExpiry(auth_);
  }

  get auth(): AuthContext {
    return this.auth_;
  }

  // ------------------------------------------------------------------------------------------ outgoing

  offer(delivery: Delivery): boolean {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return false;
    if (this.socket.bufferedAmount >= this.options.maxBufferedBytes) {
      this.dropped++;
      return false;
    }
    const subscription = this.subscriptions.get(delivery.kind);
    const raw = rawSocketOf(this.socket);
    this.cork(raw);
    // A group delivery that cannot be written (the session closed meanwhile) goes to another member.
    const onWritten =
      subscription?.group === undefined
        ? undefined
        : (err?: Error | null) => {
            if (err) this.deps.registry.redeliver(this, delivery, subscription);
          };
    if (raw !== undefined && senderIdle(this.socket)) {
      // The same frame bytes go to every session: framed once per distinct message, not once per socket.
      delivery.frame ??= textFrame((delivery.bytes ??= Buffer.from(delivery.text)));
      raw.write(delivery.frame, onWritten);
    } else {
      this.socket.send((delivery.bytes ??= Buffer.from(delivery.text)), TEXT_FRAME, onWritten);
    }
    return true;
  }

  /**
   * Corks the TCP socket until the end of this event-loop turn, so the frames of all signals published in
   * one turn (a durable batch of the store) leave in one write instead of one system call each.
   */
  private cork(raw: Socket | undefined): void {
    if (raw === undefined || raw.writableCorked > 0) return;
    raw.cork();
    corked.push(raw);
    if (corked.length === 1) setImmediate(uncorkAll);
  }

  /** Sends a response, error or control reply (not subject to the signal buffer: it answers the client). */
  sendText(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  send(message: ProtocolMessage): void {
    this.sendText(stringifyProtocolMessage(message));
  }

  sendError(error: DittoError, context: Parameters<typeof errorToProtocol>[1]): void {
    this.send(errorToProtocol(error, context));
  }

  /** Renders any failure as a protocol error; a 5xx is logged once, with its correlation id and cause. */
  fail(err: unknown, context: Partial<Parameters<typeof errorToProtocol>[1]>): void {
    const error = isDittoError(err) ? err : internalError(undefined, { cause: err });
    if (error.status >= 500)
      this.deps.logger[error.status === 500 ? 'error' : 'warn'](
        {
          err: error.cause ?? error,
          correlationId: context.headers?.['correlation-id'],
          status: error.status,
        },
        'websocket signal failed',
      );
    this.sendError(error, { headers: {}, ...context });
  }

  // ------------------------------------------------------------------------------------------ incoming

  private async onText(text: string): Promise<void> {
    const control = parseControlMessage(text);
    if (control) return this.onControl(control);
    await handleProtocolMessage(text, this, this.deps);
  }

  private async onControl(control: ControlMessage): Promise<void> {
    if (control.type === 'jwt') return this.refreshToken(control.token);
    const correlationId = control.params['correlation-id'];
    const headers: Record<string, string> =
      correlationId === undefined ? {} : { 'correlation-id': correlationId };
    if (control.type === 'stop') {
      this.subscriptions.delete(control.kind);
      this.deps.registry.unsubscribe(this, control.kind);
      this.sendText(`${control.name}:ACK`);
      return;
    }
    let subscription: Subscription;
    try {
      subscription = compileSubscription(control.kind, control.params);
      const fields = control.params.fields;
      if (fields !== undefined && fields !== '') {
        subscription.projection = parseFieldSelector(fields);
        subscription.projectionText = fields;
      }
    } catch (err) {
      // ditto: §5 an invalid filter is answered with an error and no ACK; the subscription is not created.
      this.fail(err, { headers });
      return;
    }
    this.subscriptions.set(control.kind, subscription);
    this.deps.registry.subscribe(this, subscription);
    this.sendText(`${control.name}:ACK`);
  }

  private async refreshToken(token: string): Promise<void> {
    const refresh = this.deps.refreshAuth;
    if (!refresh) return; // no JWT support configured: the token is ignored as Ditto does without OIDC
    try {
      const auth = await refresh(token, this.auth_);
      this.auth_ = auth;
      this.scheduleExpiry(auth);
    } catch (err) {
      this.fail(err, {});
      this.socket.close(1008, 'invalid token');
    }
  }

  private expiry: NodeJS.Timeout | undefined;

  /** ditto: §5 a session authenticated by a JWT ends when the token expires (error first, then close). */
  private scheduleExpiry(auth: AuthContext): void {
    clearTimeout(this.expiry);
    const expiresAt = (auth as AuthContext & { expiresAt?: number }).expiresAt;
    if (expiresAt === undefined) return;
    this.expiry = setTimeout(
      () => {
        this.sendError(websocketSessionExpired(), { headers: {} });
        this.socket.close(1008, 'session expired');
      },
      Math.max(0, expiresAt - Date.now()),
    );
    this.expiry.unref();
  }

  /** Ends the session at `expiresAt` (ms since epoch) unless a JWT-TOKEN refresh extends it. */
  expireAt(expiresAt: number): void {
    this.scheduleExpiry(Object.assign({ ...this.auth_ }, { expiresAt }));
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.expiry);
    this.deps.registry.remove(this);
    this.deps.acks.release(this);
    this.deps.onClose?.(this);
  }
}
