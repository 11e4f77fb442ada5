/**
 * Server-Sent Events with the session's Authorization header. The browser's own EventSource cannot send
 * headers, so the `eventsource` package reads the stream through fetch (with the console's headers) and
 * keeps EventSource's behaviour: reconnection with `Last-Event-ID`, from which the service replays what
 * was missed (src/api/sse/things.ts).
 */
import { EventSource } from 'eventsource';
import { authHeaders } from './api';

export type StreamState = 'connecting' | 'open' | 'closed';

export interface StreamHandlers {
  onEvent(data: string, id: string): void;
  onState(state: StreamState): void;
}

/** Opens the stream at `path`; the returned function closes it. */
export function openStream(path: string, handlers: StreamHandlers): () => void {
  handlers.onState('connecting');
  const source = new EventSource(path, {
    fetch: (input, init) =>
      fetch(input, { ...init, credentials: 'omit', headers: { ...init.headers, ...authHeaders() } }),
  });
  source.onopen = () => handlers.onState('open');
  source.onerror = () => handlers.onState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
  source.onmessage = (event) => handlers.onEvent(event.data, event.lastEventId);
  return () => {
    source.close();
    handlers.onState('closed');
  };
}
