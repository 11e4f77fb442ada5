/**
 * What sessions use of ws below its public API (src/api/ws/ws-internals.ts): the TCP socket and whether
 * ws's sender holds frames. Fails when a ws release changes it underneath.
 */
import { once } from 'node:events';
import { Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { textFrame } from '../../src/api/ws/session.js';
import { rawSocketOf, senderIdle } from '../../src/api/ws/ws-internals.js';

let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of server?.clients ?? []) c.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server-side socket and the client connected to it, in this process. */
async function pair(perMessageDeflate: boolean): Promise<{ serverSide: WebSocket; client: WebSocket }> {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    perMessageDeflate,
  });
  await once(client, 'open');
  const [serverSide] = await accepted;
  return { serverSide, client };
}

describe('ws internals', () => {
  it('give the TCP socket a pre-built frame is written to, which the client reads as a text message', async () => {
    const { serverSide, client } = await pair(false);
    const raw = rawSocketOf(serverSide);
    expect(raw).toBeInstanceOf(Socket);
    expect(senderIdle(serverSide)).toBe(true);
    const received = once(client, 'message') as Promise<[Buffer, boolean]>;
    raw!.write(textFrame(Buffer.from('framed once')));
    const [data, isBinary] = await received;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe('framed once');
    client.close();
  });

  it('tell a sender that is still compressing a message from an idle one', async () => {
    const { serverSide, client } = await pair(true);
    serverSide.send('x'.repeat(100_000));
    expect(senderIdle(serverSide)).toBe(false);
    await once(client, 'message');
    await waitUntil(() => senderIdle(serverSide));
    client.close();
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
