/**
 * The streaming subscription protocol (history; src/history/subscriptions.ts) on a WebSocket session:
 * `…/streaming/subscribeForPersistedEvents`, `request`, `cancel`, answered on the same socket. The items
 * are paced by the socket: once more than `maxBufferedBytes` wait for it, the next item is read only after
 * the kernel took the last one.
 */
import type { WebSocket } from 'ws';
import { persistedEventSubscriptions, type HistoryEventDeps } from '../../history/events.js';
import type { StreamingSubscriptions } from '../../history/subscriptions.js';
import { stringifyProtocolMessage, type ProtocolMessage } from '../../protocol/index.js';

const MAX_BUFFERED_BYTES = 256 * 1024;

export function wsStreaming(
  socket: WebSocket,
  deps: HistoryEventDeps,
  log: (msg: string, err: unknown) => void,
): StreamingSubscriptions {
  const send = (message: ProtocolMessage): void | Promise<void> => {
    if (socket.readyState !== socket.OPEN) return;
    const text = stringifyProtocolMessage(message);
    if (socket.bufferedAmount < MAX_BUFFERED_BYTES) return socket.send(text);
    return new Promise<void>((resolve) => socket.send(text, () => resolve()));
  };
  return persistedEventSubscriptions(deps, send, log);
}
