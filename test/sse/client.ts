/**
 * SSE test clients: the `eventsource` package (a real WHATWG EventSource client; credentials and
 * Last-Event-ID through its `fetch` option) and a raw streaming HTTP reader that also sees comment lines.
 */
import { EventSource } from 'eventsource';

export interface ReceivedEvent {
  type: string;
  data: string;
  lastEventId: string;
}

export class TestEventSource {
  readonly events: ReceivedEvent[] = [];
  readonly source: EventSource;
  private waiters: Array<() => void> = [];
  opened: Promise<void>;

  constructor(url: string, options: { user?: string; lastEventId?: string; eventTypes?: string[] } = {}) {
    const user = options.user ?? 'ditto';
    this.source = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: {
            ...(init?.headers as Record<string, string>),
            authorization: `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`,
            ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
          },
        }),
    });
    const push = (type: string) => (e: MessageEvent) => {
      this.events.push({ type, data: String(e.data), lastEventId: e.lastEventId });
      for (const w of this.waiters.splice(0)) w();
    };
    this.source.addEventListener('message', push('message'));
    for (const t of options.eventTypes ?? []) this.source.addEventListener(t, push(t));
    this.opened = new Promise((resolve, reject) => {
      this.source.addEventListener('open', () => resolve());
      this.source.addEventListener('error', (e) =>
        reject(new Error(`EventSource error: ${String((e as { message?: string }).message)}`)),
      );
    });
  }

  /** Waits until at least `count` events arrived. */
  async waitFor(count: number, timeoutMs = 5000): Promise<ReceivedEvent[]> {
    const started = Date.now();
    while (this.events.length < count) {
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `only ${this.events.length} of ${count} SSE events: ${JSON.stringify(this.events).slice(0, 600)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    return this.events;
  }

  close(): void {
    this.source.close();
  }
}

/** A raw SSE reader over fetch: the status, the headers and every line, comment lines included. */
export async function rawSse(url: string, headers: Record<string, string> = {}, user = 'ditto') {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      authorization: `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`,
      ...headers,
    },
    signal: controller.signal,
  });
  const lines: string[] = [];
  let text = '';
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        const parts = text.split('\n');
        text = parts.pop()!;
        lines.push(...parts);
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    response,
    lines,
    async waitForLine(match: (line: string) => boolean, timeoutMs = 5000): Promise<string> {
      const started = Date.now();
      for (;;) {
        const line = lines.find(match);
        if (line !== undefined) return line;
        if (Date.now() - started > timeoutMs)
          throw new Error(`no matching line; got ${JSON.stringify(lines).slice(0, 600)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}
