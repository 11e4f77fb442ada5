/**
 * History over the WebSocket (ditto: basic-history, protocol-specification-streaming-subscription): retrieve
 * commands with `at-historical-revision` / `at-historical-timestamp` headers, and the streaming subscription
 * protocol for things and policies (subscribe → created, request → next*, complete | failed, cancel) over a
 * real `ws` connection with raw Ditto Protocol frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type Frame, type TestWs } from './client.js';

let svc: TestService;
const clients: TestWs[] = [];
beforeAll(async () => {
  svc = await startTestService({
    TWINBRIDGE_HISTORICAL_HEADERS_TO_PERSIST: 'ditto-originator,correlation-id',
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await svc.close();
});
async function ws(user = 'ditto'): Promise<TestWs> {
  const c = await connectWs(svc.url, user);
  clients.push(c);
  return c;
}

let n = 0;
const enc = encodeURIComponent;
const RW = { grant: ['READ', 'WRITE'], revoke: [] };
const pause = () => new Promise((resolve) => setTimeout(resolve, 3));

/** A thing whose attribute `n` is its revision, `count` revisions; alice reads all but `attributes/secret`. */
async function thingWithRevisions(count: number): Promise<string> {
  const id = `org.eclipse.ditto:ws-history-${++n}-${Date.now()}`;
  const policy = {
    entries: {
      owner: { subjects: { 'nginx:ditto': { type: 'admin' } }, resources: { 'thing:/': RW, 'policy:/': RW } },
      reader: {
        subjects: { 'nginx:alice': { type: 'reader' } },
        resources: {
          'thing:/': { grant: ['READ'], revoke: [] },
          'thing:/attributes/secret': { grant: [], revoke: ['READ'] },
          'policy:/entries/reader': { grant: ['READ'], revoke: [] },
        },
      },
    },
  };
  expect(
    (
      await svc.request('PUT', `/api/2/things/${enc(id)}`, {
        body: { _policy: policy, attributes: { n: 1, secret: 'x' } },
      })
    ).status,
  ).toBe(201);
  for (let r = 2; r <= count; r++) {
    if (r <= 6) await pause();
    const path = r === 4 ? '/features/f' : '/attributes/n';
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(id)}${path}`, {
          body: r === 4 ? { properties: { p: 4 } } : r,
          headers: { 'correlation-id': `w-${r}` },
        })
      ).status,
    ).toBeLessThan(300);
  }
  return id;
}

const topicOf = (id: string, group = 'things/twin') => `${id.replace(':', '/')}/${group}`;
const streaming = (
  id: string,
  action: string,
  value: Record<string, unknown>,
  group = 'things/twin',
  path = '/',
) => ({
  topic: `${topicOf(id, group)}/streaming/${action}`,
  headers: { 'correlation-id': `st-${action}-${Math.random()}` },
  path,
  value,
});
const isStreaming = (action: string, subscriptionId?: string) => (f: Frame) =>
  typeof f !== 'string' &&
  String(f.topic).endsWith(`/streaming/${action}`) &&
  (subscriptionId === undefined || f.value?.subscriptionId === subscriptionId);

/** Subscribes and returns the subscription ID of the `created` answer. */
async function subscribe(
  c: TestWs,
  id: string,
  value: Record<string, unknown> = {},
  group?: string,
  path?: string,
): Promise<string> {
  c.send(streaming(id, 'subscribeForPersistedEvents', value, group, path));
  const created = (await c.next(isStreaming('created'))) as Record<string, any>;
  expect(created.topic).toBe(`${topicOf(id, group)}/streaming/created`);
  return created.value.subscriptionId;
}

/** Requests `demand` items and collects `count` next events. */
async function take(
  c: TestWs,
  id: string,
  subscriptionId: string,
  demand: number,
  count: number,
  group?: string,
): Promise<Array<Record<string, any>>> {
  c.send(streaming(id, 'request', { subscriptionId, demand }, group));
  const items: Array<Record<string, any>> = [];
  for (let i = 0; i < count; i++)
    items.push(((await c.next(isStreaming('next', subscriptionId))) as Record<string, any>).value.item);
  return items;
}

describe('retrieve commands at a historical revision', () => {
  it('answer the thing as it was, with historical-headers as a JSON object, and Ditto errors', async () => {
    const id = await thingWithRevisions(3);
    const c = await ws();
    const retrieve = (headers: Record<string, string>, path = '/attributes/n') =>
      c.request({ topic: `${topicOf(id)}/commands/retrieve`, headers, path });
    const answer = await retrieve({ 'at-historical-revision': '2' });
    expect(answer).toMatchObject({
      status: 200,
      value: 2,
      headers: { 'historical-headers': { 'ditto-originator': 'nginx:ditto', 'correlation-id': 'w-2' } },
    });
    expect((await retrieve({ 'at-historical-revision': '9' })).value.error).toBe(
      'things:thing.history.notfound',
    );
    expect((await retrieve({ 'at-historical-timestamp': 'now' })).value.error).toBe('header.invalid');
    const policy = await c.request({
      topic: `${topicOf(id, 'policies')}/commands/retrieve`,
      headers: { 'at-historical-revision': '1' },
      path: '/entries/reader/subjects',
    });
    expect(policy).toMatchObject({
      status: 200,
      value: { 'nginx:alice': { type: 'reader' } },
      headers: { 'historical-headers': { 'ditto-originator': 'nginx:ditto' } },
    });
  });
});

describe('streaming subscription of thing events', () => {
  it('answers created, sends nothing before a request, at most the demand, then complete', async () => {
    const id = await thingWithRevisions(6);
    const c = await ws();
    const subscriptionId = await subscribe(c, id, { fromHistoricalRevision: 2, toHistoricalRevision: 5 });
    expect(subscriptionId).toBe('0');
    await c.expectNone(isStreaming('next'), 200);
    const first = await take(c, id, subscriptionId, 2, 2);
    expect(first).toEqual([
      {
        topic: `${topicOf(id)}/events/modified`,
        headers: expect.objectContaining({
          'historical-headers': { 'ditto-originator': 'nginx:ditto', 'correlation-id': 'w-2' },
        }),
        path: '/attributes/n',
        value: 2,
        revision: 2,
        timestamp: expect.any(String),
      },
      expect.objectContaining({ path: '/attributes/n', value: 3, revision: 3 }),
    ]);
    await c.expectNone(isStreaming('next'), 200);
    const rest = await take(c, id, subscriptionId, 10, 2);
    expect(rest.map((item) => [item.topic, item.path, item.revision])).toEqual([
      [`${topicOf(id)}/events/created`, '/features/f', 4],
      [`${topicOf(id)}/events/modified`, '/attributes/n', 5],
    ]);
    expect(((await c.next(isStreaming('complete', subscriptionId))) as Record<string, any>).value).toEqual({
      subscriptionId,
    });
    // Over: a later request fails with a protocol error.
    c.send(streaming(id, 'request', { subscriptionId, demand: 1 }));
    expect(
      ((await c.next(isStreaming('failed', subscriptionId))) as Record<string, any>).value.error,
    ).toMatchObject({ status: 400, error: 'streaming.subscription.protocol.error' });
    // The next subscription of the session gets the next ID.
    expect(await subscribe(c, id)).toBe('1');
  });

  it('streams the last revisions (negative), a time range and the events an RQL filter matches', async () => {
    const id = await thingWithRevisions(6);
    const c = await ws();
    const revisions = async (value: Record<string, unknown>, expected: number) => {
      const subscriptionId = await subscribe(c, id, value);
      const items = await take(c, id, subscriptionId, 100, expected);
      await c.next(isStreaming('complete', subscriptionId));
      return items.map((i) => i.revision);
    };
    expect(await revisions({ fromHistoricalRevision: -2 }, 2)).toEqual([5, 6]);
    expect(await revisions({}, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    const modified = await Promise.all(
      [2, 5].map(
        async (r) =>
          (await svc.request('GET', `/api/2/things/${enc(id)}?fields=_modified&at-historical-revision=${r}`))
            .json._modified,
      ),
    );
    expect(
      await revisions({ fromHistoricalTimestamp: modified[0], toHistoricalTimestamp: modified[1] }, 2),
    ).toEqual([3, 4]);
    expect(await revisions({ filter: 'gt(attributes/n,4)' }, 2)).toEqual([5, 6]);
    expect(await revisions({ filter: 'exists(features/f)' }, 1)).toEqual([4]);
  });

  it('paces a long history by the socket and keeps the order', async () => {
    const id = await thingWithRevisions(300);
    const c = await ws();
    const subscriptionId = await subscribe(c, id);
    const items = await take(c, id, subscriptionId, 1000, 300);
    expect(items.map((i) => i.revision)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    await c.next(isStreaming('complete', subscriptionId));
  });

  it('checks access at the first request: 404 for who may not read the thing, a filter on an unreadable field never matches', async () => {
    const id = await thingWithRevisions(3);
    const bob = await ws('bob');
    const denied = await subscribe(bob, id);
    await bob.expectNone(isStreaming('failed'), 200);
    bob.send(streaming(id, 'request', { subscriptionId: denied, demand: 1 }));
    expect(
      ((await bob.next(isStreaming('failed', denied))) as Record<string, any>).value.error,
    ).toMatchObject({ status: 404, error: 'things:thing.notfound' });
    const alice = await ws('alice');
    // Not unrestricted on the whole thing (attributes/secret is revoked): as Ditto, 404.
    const whole = await subscribe(alice, id);
    alice.send(streaming(id, 'request', { subscriptionId: whole, demand: 1 }));
    expect(((await alice.next(isStreaming('failed', whole))) as Record<string, any>).value.error.error).toBe(
      'things:thing.notfound',
    );
    // Unrestricted on attributes/n: its events, and a filter on the secret never matches.
    const own = await subscribe(alice, id, {}, undefined, '/attributes/n');
    expect((await take(alice, id, own, 10, 3)).map((i) => [i.path, i.value])).toEqual([
      ['/', { thingId: id, policyId: id, attributes: { n: 1 } }],
      ['/attributes/n', 2],
      ['/attributes/n', 3],
    ]);
    const probe = await subscribe(
      alice,
      id,
      { filter: 'eq(attributes/secret,"x")' },
      undefined,
      '/attributes/n',
    );
    alice.send(streaming(id, 'request', { subscriptionId: probe, demand: 10 }));
    await alice.next(isStreaming('complete', probe));
    expect(alice.frames.filter(isStreaming('next', probe))).toEqual([]);
  });

  it('fails unknown subscriptions, demands below 1 and invalid filters, and stops at cancel', async () => {
    const id = await thingWithRevisions(3);
    const c = await ws();
    c.send(streaming(id, 'request', { subscriptionId: 'nope', demand: 1 }));
    expect(((await c.next(isStreaming('failed', 'nope'))) as Record<string, any>).value.error).toMatchObject({
      status: 404,
      error: 'streaming.subscription.not.found',
    });
    const zero = await subscribe(c, id);
    c.send(streaming(id, 'request', { subscriptionId: zero, demand: 0 }));
    expect(((await c.next(isStreaming('failed', zero))) as Record<string, any>).value.error.error).toBe(
      'streaming.subscription.protocol.error',
    );
    const bad = await subscribe(c, id, { filter: 'eq(attributes/n' });
    c.send(streaming(id, 'request', { subscriptionId: bad, demand: 1 }));
    expect(((await c.next(isStreaming('failed', bad))) as Record<string, any>).value.error.error).toBe(
      'rql.expression.invalid',
    );
    const cancelled = await subscribe(c, id);
    await take(c, id, cancelled, 1, 1);
    c.send(streaming(id, 'cancel', { subscriptionId: cancelled }));
    c.send(streaming(id, 'request', { subscriptionId: cancelled, demand: 5 }));
    expect(((await c.next(isStreaming('failed', cancelled))) as Record<string, any>).value.error.error).toBe(
      'streaming.subscription.protocol.error',
    );
    expect(c.frames.filter(isStreaming('next', cancelled))).toEqual([]);
    // A malformed command is an error answer on the thing's error topic.
    const malformed = await c.request({
      topic: `${topicOf(id)}/streaming/request`,
      path: '/',
      value: { subscriptionId: zero, demand: 'all' },
    });
    expect(malformed).toMatchObject({
      topic: `${topicOf(id)}/errors`,
      value: { error: 'json.format.invalid' },
    });
  });

  it('holds at most 100 subscriptions per session', async () => {
    const id = await thingWithRevisions(1);
    const c = await ws();
    for (let i = 0; i < 100; i++) c.send(streaming(id, 'subscribeForPersistedEvents', {}));
    for (let i = 0; i < 100; i++) await c.next(isStreaming('created'));
    const refused = await c.request(streaming(id, 'subscribeForPersistedEvents', {}));
    expect(refused).toMatchObject({
      topic: `${topicOf(id)}/errors`,
      status: 400,
      value: { error: 'streaming.subscription.protocol.error' },
    });
  });
});

describe('streaming subscription of policy events', () => {
  it('streams the persisted events of a policy, pruned to what the caller may read', async () => {
    const id = await thingWithRevisions(1);
    await pause();
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(id)}/entries/reader/subjects/${enc('nginx:bob')}`, {
          body: { type: 'late' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await svc.request('DELETE', `/api/2/policies/${enc(id)}/entries/reader/subjects/${enc('nginx:bob')}`))
        .status,
    ).toBe(204);
    const c = await ws();
    const subscriptionId = await subscribe(c, id, {}, 'policies');
    const items = await take(c, id, subscriptionId, 10, 3, 'policies');
    expect(items.map((i) => [i.topic, i.path, i.revision])).toEqual([
      [`${topicOf(id, 'policies')}/events/created`, '/', 1],
      [`${topicOf(id, 'policies')}/events/created`, '/entries/reader/subjects/nginx:bob', 2],
      [`${topicOf(id, 'policies')}/events/deleted`, '/entries/reader/subjects/nginx:bob', 3],
    ]);
    expect(items[0].value.policyId).toBe(id);
    expect(items[0].headers['historical-headers']).toMatchObject({ 'ditto-originator': 'nginx:ditto' });
    await c.next(isStreaming('complete', subscriptionId));
    const alice = await ws('alice');
    const hers = await subscribe(alice, id, {}, 'policies');
    const seen = await take(alice, id, hers, 10, 3, 'policies');
    expect(Object.keys(seen[0].value.entries)).toEqual(['reader']);
    expect(seen[1].value).toEqual({ type: 'late' });
  });
});
