/**
 * Keep-alive (ditto-interfaces.md §13, TWINBRIDGE_WS_PING_INTERVAL_MS): an idle session is pinged; a
 * session that keeps talking is not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs } from './client.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ TWINBRIDGE_WS_PING_INTERVAL_MS: '100' });
});
afterAll(async () => {
  await svc.close();
});

it('pings an idle session at the configured interval', async () => {
  const c = await connectWs(svc.url, 'ditto');
  let pings = 0;
  c.socket.on('ping', () => pings++);
  // Two pings take 200 ms; a loaded machine may delay them, but never to the default interval (30 s).
  const until = Date.now() + 5000;
  while (pings < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(pings).toBeGreaterThanOrEqual(2);
  await c.close();
});
