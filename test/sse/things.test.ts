/**
 * Server-Sent Events of thing changes over a real SSE client (ditto-interfaces.md §6, §14.12, §15):
 * parameters, single things and sub-paths, policy pruning, heartbeats, message streams, resumption with
 * Last-Event-ID and consumer groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { rawSse, TestEventSource } from './client.js';

let svc: TestService;
const sources: TestEventSource[] = [];
beforeAll(async () => {
  svc = await startTestService({ TWINBRIDGE_SSE_HEARTBEAT_MS: '100' });
});
afterAll(async () => {
  for (const s of sources) s.close();
  await svc.close();
});

let n = 0;
const newId = (ns = 'org.eclipse.ditto') => `${ns}:sse-${++n}-${Date.now()}`;
const enc = encodeURIComponent;
async function put(id: string, path: string, body: unknown) {
  const res = await svc.request('PUT', `/api/2/things/${enc(id)}${path}`, { body });
  expect(res.status).toBeLessThan(300);
}
async function sse(
  path: string,
  options: ConstructorParameters<typeof TestEventSource>[1] = {},
): Promise<TestEventSource> {
  const s = new TestEventSource(svc.url + path, options);
  sources.push(s);
  await s.opened;
  return s;
}
const json = (e: { data: string }) => JSON.parse(e.data);

describe('GET /api/2/things as text/event-stream', () => {
  it('opens a 200 text/event-stream and sends heartbeats as comment lines', async () => {
    const raw = await rawSse(`${svc.url}/api/2/things`);
    expect(raw.response.status).toBe(200);
    expect(raw.response.headers.get('content-type')).toBe('text/event-stream');
    await raw.waitForLine((l) => l === ':keepalive');
    await raw.close();
  });

  it('streams the changed part as Thing JSON with id thingId:revision', async () => {
    const id = newId();
    const s = await sse(`/api/2/things?ids=${enc(id)}`);
    await put(id, '', { attributes: { a: 1 }, features: { lamp: { properties: { on: false } } } });
    await put(id, '/features/lamp/properties/on', true);
    const [created, modified] = await s.waitFor(2);
    expect(created.lastEventId).toBe(`${id}:1`);
    expect(json(created)).toMatchObject({ thingId: id, attributes: { a: 1 } });
    expect(modified.lastEventId).toBe(`${id}:2`);
    expect(json(modified)).toEqual({ thingId: id, features: { lamp: { properties: { on: true } } } });
  });

  it('projects with fields, including _revision and _context, and skips empty projections', async () => {
    const id = newId();
    const s = await sse(
      `/api/2/things?ids=${enc(id)}&fields=${enc('thingId,features/lamp,_revision,_context/topic')}`,
    );
    await put(id, '', { attributes: { a: 1 } });
    await put(id, '/attributes/a', 2);
    await put(id, '/features/lamp', { properties: { on: true } });
    const events = await s.waitFor(3);
    expect(json(events[0])).toEqual({
      thingId: id,
      _revision: 1,
      _context: { topic: `${id.replace(':', '/')}/things/twin/events/created` },
    });
    expect(json(events[2])).toEqual({
      thingId: id,
      features: { lamp: { properties: { on: true } } },
      _revision: 3,
      _context: { topic: `${id.replace(':', '/')}/things/twin/events/created` },
    });
  });

  it('filters by namespaces and RQL, and enriches with extraFields listed in fields', async () => {
    const s = await sse(
      `/api/2/things?namespaces=sse.ns&filter=${enc('gt(attributes/t,5)')}&extraFields=attributes/room&fields=${enc('thingId,attributes')}`,
    );
    const other = newId('sse.other');
    const id = newId('sse.ns');
    await put(other, '', { attributes: { t: 10 } });
    await put(id, '', { attributes: { t: 1, room: 'hall' } });
    await put(id, '/attributes/t', 9);
    const [event] = await s.waitFor(1);
    expect(json(event)).toEqual({ thingId: id, attributes: { t: 9, room: 'hall' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(s.events).toHaveLength(1);
  });

  it('still answers JSON without the event-stream Accept header', async () => {
    const id = newId();
    await put(id, '', {});
    const res = await svc.request('GET', `/api/2/things?ids=${enc(id)}`);
    expect(res.status).toBe(200);
    expect(res.json).toHaveLength(1);
  });

  it('rejects an invalid filter with 400 before opening the stream', async () => {
    const res = await fetch(`${svc.url}/api/2/things?filter=eq(x`, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}`,
      },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('rql.expression.invalid');
  });

  it('prunes events to what the subscriber may read and sends nothing without READ', async () => {
    const policy = {
      entries: {
        owner: {
          subjects: { 'nginx:ditto': { type: 'generated' } },
          resources: {
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
        partial: {
          subjects: { 'nginx:bob': { type: 'generated' } },
          resources: { 'thing:/attributes/public': { grant: ['READ'], revoke: [] } },
        },
      },
    };
    const id = newId();
    const bob = await sse(`/api/2/things?ids=${enc(id)}`, { user: 'bob' });
    const alice = await sse(`/api/2/things?ids=${enc(id)}`, { user: 'alice' });
    await put(id, '', { _policy: policy, attributes: { public: 1, secret: 2 } });
    await put(id, '/attributes/secret', 3);
    await put(id, '/attributes/public', 4);
    const events = await bob.waitFor(2);
    expect(json(events[0])).toEqual({ thingId: id, attributes: { public: 1 } });
    expect(json(events[1])).toEqual({ thingId: id, attributes: { public: 4 } });
    await new Promise((r) => setTimeout(r, 200));
    expect(bob.events).toHaveLength(2);
    expect(alice.events).toHaveLength(0);
  });
});

describe('GET /api/2/things/{thingId}[/{pointer}] as text/event-stream', () => {
  it('streams only that thing, and for a sub-path the raw value at the pointer', async () => {
    const id = newId();
    const other = newId();
    await put(id, '', { attributes: { location: { lat: 1 } } });
    const whole = await sse(`/api/2/things/${enc(id)}`);
    const location = await sse(`/api/2/things/${enc(id)}/attributes/location`);
    await put(other, '', { attributes: { location: { lat: 9 } } });
    await put(id, '/attributes/other', 1);
    await put(id, '/attributes/location', { lat: 2 });
    await put(id, '/attributes/location/lat', 3);
    const events = await location.waitFor(2);
    expect(events.map(json)).toEqual([{ lat: 2 }, { lat: 3 }]); // the changed part at the pointer
    expect((await whole.waitFor(3)).map((e) => e.lastEventId)).toEqual([`${id}:2`, `${id}:3`, `${id}:4`]);
  });
});

describe('Last-Event-ID', () => {
  it('replays the events missed while disconnected, none lost or repeated, then continues live', async () => {
    const ids = [newId('sse.resume'), newId('sse.resume')];
    const first = await sse(`/api/2/things?namespaces=sse.resume`);
    await put(ids[0], '', { attributes: { k: 0 } });
    await put(ids[1], '', { attributes: { k: 0 } });
    await put(ids[0], '/attributes/k', 1);
    const before = await first.waitFor(3);
    first.close();
    const last = before[before.length - 1].lastEventId;
    // Changes while nobody listens.
    for (let k = 2; k <= 6; k++) await put(ids[k % 2], '/attributes/k', k);
    const resumed = await sse(`/api/2/things?namespaces=sse.resume`, { lastEventId: last });
    await put(ids[0], '/attributes/k', 100);
    const after = await resumed.waitFor(6);
    await new Promise((r) => setTimeout(r, 200));
    const all = [...before, ...resumed.events].map((e) => e.lastEventId);
    expect(new Set(all).size).toBe(all.length);
    expect(resumed.events.map((e) => json(e).attributes.k)).toEqual([2, 3, 4, 5, 6, 100]);
    expect(after).toHaveLength(6);
  });
});

describe('message streams', () => {
  it('streams inbox messages of a thing as event:<subject> and raw data', async () => {
    const id = newId();
    await put(id, '', {});
    const inbox = await sse(`/api/2/things/${enc(id)}/inbox/messages`, { eventTypes: ['greet', 'other'] });
    const subject = await sse(`/api/2/things/${enc(id)}/inbox/messages/other`, {
      eventTypes: ['greet', 'other'],
    });
    const sent = await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/greet?timeout=0`, {
      raw: 'hello',
      contentType: 'text/plain',
    });
    expect(sent.status).toBe(202);
    await svc.request('POST', `/api/2/things/${enc(id)}/outbox/messages/greet?timeout=0`, {
      raw: 'not inbox',
      contentType: 'text/plain',
    });
    await svc.request('POST', `/api/2/things/${enc(id)}/inbox/messages/other?timeout=0`, { body: { x: 1 } });
    const events = await inbox.waitFor(2);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['greet', 'hello'],
      ['other', '{"x":1}'],
    ]);
    expect((await subject.waitFor(1)).map((e) => e.type)).toEqual(['other']);
  });
});

describe('consumer groups', () => {
  it('gives each change to exactly one stream of the group', async () => {
    const a = await sse('/api/2/things?namespaces=sse.group&group=g');
    const b = await sse('/api/2/things?namespaces=sse.group&group=g');
    const ids = Array.from({ length: 20 }, () => newId('sse.group'));
    for (const id of ids) await put(id, '', {});
    const started = Date.now();
    while (a.events.length + b.events.length < 20 && Date.now() - started < 5000)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const all = [...a.events, ...b.events].map((e) => e.lastEventId);
    expect(all).toHaveLength(20);
    expect(new Set(all).size).toBe(20);
    expect(a.events.length).toBeGreaterThan(0);
    expect(b.events.length).toBeGreaterThan(0);
  });
});
