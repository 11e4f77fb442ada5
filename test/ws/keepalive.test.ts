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
  await new Promise((r) => setTimeout(r, 550));
  expect(pings).toBeGreaterThanOrEqual(2);
  await c.close();
});
