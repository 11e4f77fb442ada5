import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { holderOf } from '../../../scripts/brokers/ports.js';

describe('holderOf', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('names the process listening on a port with its command line', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const holder = await holderOf(port);
    expect(holder).toMatch(new RegExp(`^pid ${process.pid} \\(.*node`));
  });

  it('says so when nobody listens on the port', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect(await holderOf(port)).toBe('a process this user cannot see');
  });
});
