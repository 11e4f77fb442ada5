/**
 * The search protocol over WebSocket (ditto-interfaces.md §4.5): subscribe → created, request(demand) →
 * at most `demand` next pages, complete after the last, failed for invalid queries, cancel.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from './client.js';

let svc: TestService;
let c: TestWs;
const ns = `ws.search${Date.now()}`;
beforeAll(async () => {
  svc = await startTestService();
  for (let i = 0; i < 5; i++) {
    expect(
      (await svc.request('PUT', `/api/2/things/${ns}:t${i}`, { body: { attributes: { i } } })).status,
    ).toBe(201);
  }
  c = await connectWs(svc.url, 'ditto');
});
afterAll(async () => {
  await c.close();
  await svc.close();
});

const search = (action: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  topic: `_/_/things/twin/search/${action}`,
  headers: { 'correlation-id': `s-${action}-${Math.random()}` },
  path: '/',
  value,
  ...extra,
});
const topicIs = (action: string) => (f: unknown) =>
  typeof f !== 'string' && (f as { topic: string }).topic === `_/_/things/twin/search/${action}`;

it('pages results by demand and completes after the last page', async () => {
  c.send(
    search(
      'subscribe',
      { filter: 'ge(attributes/i,1)', options: 'size(2),sort(+thingId)', namespaces: [ns] },
      { fields: 'thingId,attributes' },
    ),
  );
  const created = (await c.next(topicIs('created'))) as { value: { subscriptionId: string } };
  const subscriptionId = created.value.subscriptionId;
  await c.expectNone(topicIs('next'), 200); // nothing before the first request
  c.send(search('request', { subscriptionId, demand: 1 }));
  const first = (await c.next(topicIs('next'))) as { value: { items: Array<{ thingId: string }> } };
  expect(first.value.items.map((t) => t.thingId)).toEqual([`${ns}:t1`, `${ns}:t2`]);
  await c.expectNone(topicIs('next'), 200); // demand 1 ⇒ one page
  c.send(search('request', { subscriptionId, demand: 5 }));
  const second = (await c.next(topicIs('next'))) as {
    value: { items: Array<{ thingId: string; attributes: unknown }> };
  };
  expect(second.value.items).toEqual([
    { thingId: `${ns}:t3`, attributes: { i: 3 } },
    { thingId: `${ns}:t4`, attributes: { i: 4 } },
  ]);
  const complete = (await c.next(topicIs('complete'))) as { value: { subscriptionId: string } };
  expect(complete.value.subscriptionId).toBe(subscriptionId);
});

it('sends failed for an invalid filter on the first request', async () => {
  c.send(search('subscribe', { filter: 'eq(attributes/i' }));
  const { value } = (await c.next(topicIs('created'))) as { value: { subscriptionId: string } };
  c.send(search('request', { subscriptionId: value.subscriptionId, demand: 1 }));
  const failed = (await c.next(topicIs('failed'))) as { value: { error: { error: string } } };
  expect(failed.value.error.error).toBe('rql.expression.invalid');
});

it('stops after cancel', async () => {
  c.send(search('subscribe', { namespaces: [ns], options: 'size(1)' }));
  const { value } = (await c.next(topicIs('created'))) as { value: { subscriptionId: string } };
  c.send(search('cancel', { subscriptionId: value.subscriptionId }));
  await new Promise((r) => setTimeout(r, 100));
  c.send(search('request', { subscriptionId: value.subscriptionId, demand: 1 }));
  const error = (await c.next(
    (f) => typeof f !== 'string' && String((f as { topic: string }).topic).endsWith('/errors'),
  )) as { value: { error: string } };
  expect(error.value.error).toBe('thing-search:subscription.notfound');
});
