/**
 * Search results as SSE (ditto-interfaces.md §6, §14.12): every match as data with `id:<thingId>`, and
 * `Last-Event-ID` continues after that thing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { TestEventSource } from './client.js';

let svc: TestService;
const ns = `sse.search${Date.now()}`;
beforeAll(async () => {
  svc = await startTestService();
  for (let i = 0; i < 30; i++) {
    expect(
      (
        await svc.request('PUT', `/api/2/things/${ns}:t${String(i).padStart(2, '0')}`, {
          body: { attributes: { i } },
        })
      ).status,
    ).toBe(201);
  }
});
afterAll(async () => {
  await svc.close();
});

it('streams every match across pages with id = thingId and resumes after Last-Event-ID', async () => {
  const url = `${svc.url}/api/2/search/things?namespaces=${ns}&filter=${encodeURIComponent('lt(attributes/i,25)')}&option=${encodeURIComponent('size(10),sort(+thingId)')}&fields=thingId`;
  const all = new TestEventSource(url);
  const events = await all.waitFor(25);
  all.close();
  expect(events.map((e) => e.lastEventId)).toEqual(
    Array.from({ length: 25 }, (_, i) => `${ns}:t${String(i).padStart(2, '0')}`),
  );
  expect(JSON.parse(events[3].data)).toEqual({ thingId: `${ns}:t03` });

  const resumed = new TestEventSource(url, { lastEventId: `${ns}:t19` });
  const rest = await resumed.waitFor(5);
  resumed.close();
  expect(rest.map((e) => e.lastEventId)).toEqual([20, 21, 22, 23, 24].map((i) => `${ns}:t${i}`));
});
