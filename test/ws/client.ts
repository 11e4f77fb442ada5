/**
 * A WebSocket test client over a real `ws` connection to `/ws/2`: collects text frames, waits for the
 * next one that matches, and speaks JSON (Ditto Protocol) or plain text (control messages).
 */
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from '../helpers/app.js';

export type Frame = string | Record<string, any>;

export class TestWs {
  readonly frames: Frame[] = [];
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  closedWith: { code: number; reason: string } | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      let frame: Frame = text;
      if (text.startsWith('{')) frame = JSON.parse(text) as Record<string, any>;
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
      else this.frames.push(frame);
    });
    socket.on('close', (code, reason) => (this.closedWith = { code, reason: reason.toString() }));
  }

  send(frame: Frame): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `match` (already received or arriving within `timeoutMs`). */
  next(match: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (f: Frame) => (clearTimeout(timer), resolve(f)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms; got: ${JSON.stringify(this.frames).slice(0, 800)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next JSON frame whose topic ends with `suffix` (and matches `extra`). */
  nextTopic(
    suffix: string,
    extra: (f: Record<string, any>) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Record<string, any>> {
    return this.next(
      (f) => typeof f !== 'string' && String(f.topic).endsWith(suffix) && extra(f),
      timeoutMs,
    ) as Promise<Record<string, any>>;
  }

  /** Sends a control message and waits for its `:ACK`. */
  async control(message: string): Promise<void> {
    const name = message.split('?')[0];
    this.send(message);
    await this.next((f) => f === `${name}:ACK`);
  }

  /** Sends a protocol message and waits for the answer with its correlation-id. */
  async request(msg: Record<string, any>, timeoutMs?: number): Promise<Record<string, any>> {
    const correlationId = msg.headers?.['correlation-id'] ?? `c-${Math.random().toString(36).slice(2)}`;
    this.send({ ...msg, headers: { ...msg.headers, 'correlation-id': correlationId } });
    return this.next(
      (f) =>
        typeof f !== 'string' && f.headers?.['correlation-id'] === correlationId && f.status !== undefined,
      timeoutMs,
    ) as Promise<Record<string, any>>;
  }

  /** Resolves after `ms` if no frame matching `match` arrived meanwhile; rejects otherwise. */
  async expectNone(match: (f: Frame) => boolean = () => true, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const found = this.frames.find(match);
    if (found !== undefined) throw new Error(`unexpected frame: ${JSON.stringify(found)}`);
  }

  /** The close code and reason once the socket closed; rejects after `timeoutMs` while it is still open. */
  async closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const until = Date.now() + timeoutMs;
    while (this.closedWith === undefined) {
      if (Date.now() > until) throw new Error(`not closed within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closedWith;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** Opens `/ws/2` as `user` (basic auth `user:user`; null: no credentials). Rejects on HTTP errors. */
export function connectWs(baseUrl: string, user: string | null = 'ditto', query = ''): Promise<TestWs> {
  const url = baseUrl.replace(/^http/, 'ws') + '/ws/2' + query;
  const headers: Record<string, string> =
    user === null ? {} : { authorization: `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}` };
  const socket = new WebSocket(url, { headers });
  const client = new TestWs(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (req, res) => {
      req.destroy(); // ws leaves the request open when this event is handled
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
    });
    socket.once('error', reject);
  });
}

/**
 * One test service for a test file and the WebSocket clients it opens (`ws`), all closed after the file.
 * `svc` is available from `beforeAll` on.
 */
export function useWsService(): {
  readonly svc: TestService;
  ws(user?: string | null, query?: string): Promise<TestWs>;
} {
  let svc: TestService | undefined;
  const clients: TestWs[] = [];
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await svc?.close();
  });
  const started = (): TestService => {
    if (!svc) throw new Error('the test service starts in beforeAll');
    return svc;
  };
  return {
    get svc() {
      return started();
    },
    async ws(user = 'ditto', query = '') {
      const c = await connectWs(started().url, user, query);
      clients.push(c);
      return c;
    },
  };
}
