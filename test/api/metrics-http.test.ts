/**
 * `GET /metrics` of a running service over HTTP: the durable store writes are timed in a histogram
 * (`twinbridge_store_write_seconds`), the figure that shows a slow disk behind late acknowledgements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.close();
});

function storeWriteCount(text: string): number {
  const match = /^twinbridge_store_write_seconds_count (\d+)$/m.exec(text);
  if (!match) throw new Error(`no twinbridge_store_write_seconds_count in:\n${text.slice(0, 2000)}`);
  return Number(match[1]);
}

describe('GET /metrics', () => {
  it('counts and times every durable store write, once it is durable', async () => {
    const before = storeWriteCount((await svc.request('GET', '/metrics', { auth: null })).text);
    const thingId = `org.eclipse.ditto:metrics-${Date.now()}`;
    expect(
      (await svc.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { a: 1 } } })).status,
    ).toBe(201);
    expect((await svc.request('PUT', `/api/2/things/${thingId}/attributes/a`, { body: 2 })).status).toBe(204);
    const res = await svc.request('GET', '/metrics', { auth: null });
    expect(res.status).toBe(200);
    // Two writes answered one after the other: two batches.
    expect(storeWriteCount(res.text)).toBe(before + 2);
    const inf = /^twinbridge_store_write_seconds_bucket\{le="\+Inf"\} (\d+)$/m.exec(res.text);
    expect(Number(inf?.[1])).toBe(before + 2);
    const sum = Number(/^twinbridge_store_write_seconds_sum (\S+)$/m.exec(res.text)?.[1]);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
  });
});
