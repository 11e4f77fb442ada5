/**
 * The one place that reaches into ws below its public API (checked by test/ws/ws-internals.test.ts, which
 * fails when a ws release changes what is used here). Sessions write an event's frame, built once for every
 * session (session.ts), straight to the TCP socket; ws has no public API for a pre-built frame, nor for the
 * socket, nor for whether its sender still holds frames (which must go first to keep the order).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

interface WsInternals {
  _socket?: Socket;
  /** ws's Sender: `_state` 0 (DEFAULT) when it is not deflating or reading a blob; `_queue` what waits. */
  _sender?: { _state?: number; _queue?: unknown[] };
}

/** The session's TCP socket, or undefined when ws does not expose it as expected. */
export function rawSocketOf(socket: WebSocket): Socket | undefined {
  return (socket as unknown as WsInternals)._socket;
}

/**
 * Whether ws's sender has nothing queued (no compression running, no pending blob), so a frame written to
 * the socket directly keeps the order of frames; false also when ws's sender is not what this expects
 * (frames then go through `ws.send`, slower but always right).
 */
export function senderIdle(socket: WebSocket): boolean {
  const sender = (socket as unknown as WsInternals)._sender;
  return sender?._state === 0 && sender._queue?.length === 0;
}
