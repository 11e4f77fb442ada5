/**
 * One Server-Sent Events stream (ditto-interfaces.md §6, §15): the response is taken over from fastify and
 * written as `text/event-stream`. While idle, a comment line `:keepalive` is written every heartbeat
 * interval (instead of Ditto's empty `data` event, which confuses clients: §15). The stream is bounded:
 * when the client does not read and more than `maxBufferedBytes` wait in the socket, the stream is ended
 * — the client reconnects with `Last-Event-ID` and the missed events are replayed from the journal.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { subjectsKeyOf, type AuthContext } from '../../auth/context.js';
import { type Delivery, type Subscriber } from '../../streaming/subscription.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

let streams = 0;

/** Renders an event; multi-line data becomes several `data:` lines. */
export function formatSse(e: SseEvent): string {
  let out = '';
  if (e.event !== undefined) out += `event:${e.event.replace(/[\r\n]/g, ' ')}\n`;
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data:${line}\n`;
  if (e.id !== undefined) out += `id:${e.id.replace(/[\r\n]/g, ' ')}\n`;
  return out + '\n';
}

export class SseStream implements Subscriber {
  readonly id = `sse-${++streams}-${Date.now().toString(36)}`;
  readonly auth: AuthContext;
  readonly subjectsKey: string;
  private lastWrite = Date.now();
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];
  /** How each delivery is rendered (undefined: skipped); set by the route. */
  render: (delivery: Delivery) => SseEvent | undefined = () => undefined;
  /** While set, deliveries wait here (Last-Event-ID replay in progress). */
  private held: Delivery[] | undefined;

  constructor(
    request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly options: { heartbeatMs: number; maxBufferedBytes: number; maxHeld?: number },
  ) {
    this.auth = request.auth;
    this.subjectsKey = subjectsKeyOf(this.auth);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.flushHeaders();
    raw.on('close', () => this.close());
    if (options.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => {
        if (Date.now() - this.lastWrite >= options.heartbeatMs) this.writeRaw(':keepalive\n\n');
      }, options.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Holds live deliveries until `release` (used while replaying the journal). */
  hold(): void {
    this.held = [];
  }

  /**
   * Writes the held deliveries that `keep` accepts, then delivers live again; `keep` stays in force for
   * later deliveries too (an event replayed from the journal may still be on its way over the bus).
   */
  release(keep: (delivery: Delivery) => boolean): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.keep = keep;
    for (const d of held) this.offer(d);
  }

  private keep: (delivery: Delivery) => boolean = () => true;

  offer(delivery: Delivery): boolean {
    if (this.closed) return false;
    if (this.held) {
      if (this.held.length >= (this.options.maxHeld ?? 10_000)) {
        this.end(); // the client resumes from the journal
        return false;
      }
      this.held.push(delivery);
      return true;
    }
    if (!this.keep(delivery)) return true;
    const event = this.render(delivery);
    if (event === undefined) return true;
    return this.write(event);
  }

  write(event: SseEvent): boolean {
    return this.writeRaw(formatSse(event));
  }

  private writeRaw(text: string): boolean {
    const raw = this.reply.raw;
    if (this.closed || raw.destroyed || raw.writableEnded) return false;
    if (raw.writableLength > this.options.maxBufferedBytes) {
      this.end();
      return false;
    }
    raw.write(text);
    this.lastWrite = Date.now();
    return true;
  }

  /**
   * Resolves once the socket took what waits for it (at once when nothing does): a producer that can wait,
   * such as a history stream, paces itself by it instead of running into `maxBufferedBytes`.
   */
  drained(): Promise<void> {
    const raw = this.reply.raw;
    if (this.closed || !raw.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        raw.off('drain', done);
        raw.off('close', done);
        resolve();
      };
      raw.on('drain', done);
      raw.on('close', done);
    });
  }

  end(): void {
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const l of this.closeListeners.splice(0)) l();
  }
}
