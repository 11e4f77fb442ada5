/**
 * A session that does not read gets a bounded buffer (ditto-interfaces.md §5, §13; TWINBRIDGE_WS_BUFFER_BYTES):
 * beyond it, its events are dropped, while other sessions keep receiving everything without delay.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs } from './client.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ TWINBRIDGE_WS_BUFFER_BYTES: '200000' });
});
afterAll(async () => {
  await svc.close();
});

it('drops events beyond the buffer of a stalled session and never stalls the others', async () => {
  const slow = await connectWs(svc.url, 'ditto');
  const fast = await connectWs(svc.url, 'ditto');
  await slow.control('START-SEND-EVENTS');
  await fast.control('START-SEND-EVENTS');
  const tcp = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  tcp.pause(); // the client stops reading: the kernel buffers fill, then the server's buffer

  const auth = { subjects: ['nginx:ditto'] };
  const big = 'x'.repeat(50_000);
  const thingId = `org.eclipse.ditto:slow-${Date.now()}`;
  const total = 300;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    await svc.services.things.execute(
      {
        thingId,
        channel: 'twin',
        action: 'modify',
        path: '/',
        value: { attributes: { i, big } },
        headers: {},
      },
      auth,
    );
  }
  let fastCount = 0;
  while (fastCount < total) {
    await fast.next((f) => typeof f !== 'string' && String(f.topic).includes('/events/'), 10_000);
    fastCount++;
  }
  const fastDone = Date.now() - started;

  tcp.resume();
  let slowCount = 0;
  for (;;) {
    try {
      await slow.next((f) => typeof f !== 'string' && String(f.topic).includes('/events/'), 1000);
      slowCount++;
    } catch {
      break; // nothing more within a second: the rest was dropped
    }
  }
  expect(fastCount).toBe(total);
  expect(fastDone).toBeLessThan(15_000);
  expect(slowCount).toBeGreaterThan(0);
  expect(slowCount).toBeLessThan(total);
  await slow.close();
  await fast.close();
});
