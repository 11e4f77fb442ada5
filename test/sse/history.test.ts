/**
 * Historical events over SSE (ditto: basic-history "Streaming via SSE", httpapi-sse): `from-/to-historical-
 * revision` (relative when negative), `from-/to-historical-timestamp`, `filter`, `fields` with `_context`,
 * sub-path streams, enforcement before the stream opens, over a real HTTP connection and a real EventSource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { TestEventSource } from './client.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ TWINBRIDGE_HISTORICAL_HEADERS_TO_PERSIST: 'ditto-originator' });
});
afterAll(async () => {
  await svc.close();
});

let n = 0;
const enc = encodeURIComponent;
const RW = { grant: ['READ', 'WRITE'], revoke: [] };
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

interface SseEvent {
  id?: string;
  data: string;
}

/** The whole response of a history stream (it ends after the last event), parsed into events. */
async function history(
  path: string,
  user = 'ditto',
): Promise<{ status: number; events: SseEvent[]; json?: any }> {
  const response = await fetch(svc.url + path, {
    headers: {
      accept: 'text/event-stream',
      authorization: `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`,
    },
  });
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream'))
    return { status: response.status, events: [], json: JSON.parse(text) };
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l !== '' && !l.startsWith(':'));
    if (lines.length === 0) continue;
    const event: SseEvent = {
      data: lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5))
        .join('\n'),
    };
    const id = lines.find((l) => l.startsWith('id:'));
    if (id) event.id = id.slice(3);
    events.push(event);
  }
  return { status: response.status, events };
}
const data = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data));

/**
 * A thing whose attribute `n` is its revision (revisions 1…6); alice may read it all but `attributes/secret`.
 * Returns its ID and the `_modified` of each revision.
 */
async function sixRevisions(): Promise<{ id: string; modified: string[] }> {
  const id = `org.eclipse.ditto:sse-history-${++n}-${Date.now()}`;
  const policy = {
    entries: {
      owner: { subjects: { 'nginx:ditto': { type: 'admin' } }, resources: { 'thing:/': RW, 'policy:/': RW } },
      reader: {
        subjects: { 'nginx:alice': { type: 'reader' } },
        resources: {
          'thing:/': { grant: ['READ'], revoke: [] },
          'thing:/attributes/secret': { grant: [], revoke: ['READ'] },
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
  for (let r = 2; r <= 6; r++) {
    await pause();
    const path = r === 4 ? '/features/f' : '/attributes/n';
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(id)}${path}`, {
          body: r === 4 ? { properties: { p: 4 } } : r,
        })
      ).status,
    ).toBeLessThan(300);
  }
  const modified: string[] = [];
  for (let r = 1; r <= 6; r++)
    modified.push(
      (await svc.request('GET', `/api/2/things/${enc(id)}?fields=_modified&at-historical-revision=${r}`)).json
        ._modified,
    );
  return { id, modified };
}

describe('SSE of historical events', () => {
  it('streams a revision range of one thing as Thing JSON with ids, then ends', async () => {
    const { id } = await sixRevisions();
    const res = await history(`/api/2/things/${enc(id)}?from-historical-revision=2&to-historical-revision=5`);
    expect(res.status).toBe(200);
    expect(res.events.map((e) => e.id)).toEqual([2, 3, 4, 5].map((r) => `${id}:${r}`));
    expect(data(res.events)).toEqual([
      { thingId: id, attributes: { n: 2 } },
      { thingId: id, attributes: { n: 3 } },
      { thingId: id, features: { f: { properties: { p: 4 } } } },
      { thingId: id, attributes: { n: 5 } },
    ]);
    const created = data(
      (await history(`/api/2/things?ids=${enc(id)}&from-historical-revision=0&to-historical-revision=1`))
        .events,
    );
    expect(created).toEqual([{ thingId: id, policyId: id, attributes: { n: 1, secret: 'x' } }]);
  });

  it('takes negative revisions relative to the current one', async () => {
    const { id } = await sixRevisions();
    const revisions = async (query: string) =>
      (await history(`/api/2/things/${enc(id)}?fields=_revision&${query}`)).events.map(
        (e) => JSON.parse(e.data)._revision,
      );
    expect(await revisions('from-historical-revision=-2')).toEqual([5, 6]);
    expect(await revisions('from-historical-revision=-3&to-historical-revision=-1')).toEqual([4, 5]);
    expect(await revisions('from-historical-revision=0&to-historical-revision=0')).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(await revisions('from-historical-revision=7')).toEqual([]);
  });

  it('streams a time range: after the from-instant, before the to-instant', async () => {
    const { id, modified } = await sixRevisions();
    const revisions = async (query: string) =>
      (await history(`/api/2/things/${enc(id)}?fields=_revision&${query}`)).events.map(
        (e) => JSON.parse(e.data)._revision,
      );
    expect(
      await revisions(
        `from-historical-timestamp=${enc(modified[1])}&to-historical-timestamp=${enc(modified[4])}`,
      ),
    ).toEqual([3, 4]);
    expect(await revisions(`from-historical-timestamp=${enc(modified[4])}`)).toEqual([6]);
  });

  it('projects fields with _revision, _modified and _context (topic, path, value, headers with historical-headers)', async () => {
    const { id, modified } = await sixRevisions();
    const [event] = data(
      (
        await history(
          `/api/2/things/${enc(id)}?from-historical-revision=3&to-historical-revision=3&fields=thingId,attributes,_revision,_modified,_context`,
        )
      ).events,
    );
    const [ns, name] = id.split(':');
    expect(event).toMatchObject({
      thingId: id,
      attributes: { n: 3 },
      _revision: 3,
      _modified: modified[2],
      _context: {
        topic: `${ns}/${name}/things/twin/events/modified`,
        path: '/attributes/n',
        value: 3,
        revision: 3,
        headers: { 'historical-headers': { 'ditto-originator': 'nginx:ditto' } },
      },
    });
    expect(
      Object.keys(
        data(
          (
            await history(
              `/api/2/things/${enc(id)}?from-historical-revision=3&to-historical-revision=3&fields=_context/topic`,
            )
          ).events,
        )[0],
      ),
    ).toEqual(['_context']);
  });

  it('filters with RQL on each event as a partial thing, and adds extraFields from the thing as it was', async () => {
    const { id } = await sixRevisions();
    const filtered = await history(
      `/api/2/things/${enc(id)}?from-historical-revision=0&filter=${enc('gt(attributes/n,3)')}&fields=_revision`,
    );
    expect(data(filtered.events).map((e) => e._revision)).toEqual([5, 6]);
    const features = await history(
      `/api/2/things/${enc(id)}?from-historical-revision=0&filter=${enc('exists(features/f)')}&fields=_revision`,
    );
    expect(data(features.events).map((e) => e._revision)).toEqual([4]);
    const extra = await history(
      `/api/2/things/${enc(id)}?from-historical-revision=3&to-historical-revision=4&extraFields=attributes/n&fields=thingId,attributes,features`,
    );
    expect(data(extra.events)).toEqual([
      { thingId: id, attributes: { n: 3 } },
      { thingId: id, attributes: { n: 3 }, features: { f: { properties: { p: 4 } } } },
    ]);
  });

  it('streams a sub-path: the value there, for the changes touching it', async () => {
    const { id } = await sixRevisions();
    const res = await history(`/api/2/things/${enc(id)}/attributes/n?from-historical-revision=0`);
    expect(res.events.map((e) => [e.id, JSON.parse(e.data)])).toEqual([
      [`${id}:1`, 1],
      [`${id}:2`, 2],
      [`${id}:3`, 3],
      [`${id}:5`, 5],
      [`${id}:6`, 6],
    ]);
  });

  it('needs unrestricted READ on what it streams (404 before the stream opens), and a filter sees only what the caller may read', async () => {
    const { id } = await sixRevisions();
    const alice = await history(`/api/2/things/${enc(id)}?from-historical-revision=0`, 'alice');
    expect(alice.status).toBe(404);
    expect(alice.json.error).toBe('things:thing.notfound');
    expect((await history(`/api/2/things/${enc(id)}?from-historical-revision=0`, 'bob')).json.error).toBe(
      'things:thing.notfound',
    );
    // alice may read attributes/n entirely: its history, but a filter on the secret she may not read never matches.
    expect(
      (await history(`/api/2/things/${enc(id)}/attributes/n?from-historical-revision=0`, 'alice')).events,
    ).toHaveLength(5);
    const probe = await history(
      `/api/2/things/${enc(id)}/attributes/n?from-historical-revision=0&filter=${enc('eq(attributes/secret,"x")')}`,
      'alice',
    );
    expect(probe.status).toBe(200);
    expect(probe.events).toEqual([]);
    expect(
      (
        await history(
          `/api/2/things/${enc(id)}/attributes/n?from-historical-revision=0&filter=${enc('eq(attributes/secret,"x")')}`,
        )
      ).events,
    ).toHaveLength(1);
  });

  it('answers bad parameters with 400 and a missing thing with 404, never 500', async () => {
    const { id } = await sixRevisions();
    for (const query of [
      'from-historical-revision=first',
      'from-historical-revision=1.5',
      'to-historical-revision=99999999999999999999',
      'from-historical-timestamp=yesterday',
      'to-historical-timestamp=2026-13-01',
    ]) {
      const res = await history(`/api/2/things/${enc(id)}?${query}`);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('json.format.invalid');
    }
    expect((await history('/api/2/things?from-historical-revision=0')).json.error).toBe(
      'things:things.ids.missing',
    );
    expect(
      (await history(`/api/2/things?ids=${enc(id)},${enc(id)}x&from-historical-revision=0`)).status,
    ).toBe(400);
    expect(
      (
        await history(
          `/api/2/things?from-historical-revision=0&filter=${enc('eq(attributes/n')}&ids=${enc(id)}`,
        )
      ).json.error,
    ).toBe('rql.expression.invalid');
    expect(
      (await history('/api/2/things/org.eclipse.ditto:missing?from-historical-revision=0')).json.error,
    ).toBe('things:thing.notfound');
  });

  it('reaches a WHATWG EventSource client, which resumes after its last event once the stream ended and is then told to stop', async () => {
    const { id } = await sixRevisions();
    const source = new TestEventSource(
      `${svc.url}/api/2/things/${enc(id)}?from-historical-revision=-3&fields=attributes/n`,
    );
    try {
      const events = await source.waitFor(2);
      // Revision 4 changed a feature: nothing of it is selected, so it is left out (as live events are).
      expect(events.map((e) => [e.lastEventId, JSON.parse(e.data)])).toEqual([
        [`${id}:5`, { attributes: { n: 5 } }],
        [`${id}:6`, { attributes: { n: 6 } }],
      ]);
      // The stream ended; the client reconnects with Last-Event-ID and gets 204: it closes, nothing repeated.
      for (let i = 0; source.source.readyState !== source.source.CLOSED; i++) {
        if (i > 200) throw new Error('the EventSource kept reconnecting');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(source.events).toHaveLength(2);
    } finally {
      source.close();
    }
  });

  it('resumes after a Last-Event-ID within the range', async () => {
    const { id } = await sixRevisions();
    const response = await fetch(
      `${svc.url}/api/2/things/${enc(id)}?from-historical-revision=2&to-historical-revision=4&fields=_revision`,
      {
        headers: {
          accept: 'text/event-stream',
          authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}`,
          'last-event-id': `${id}:2`,
        },
      },
    );
    expect((await response.text()).match(/"_revision":\d/g)).toEqual(['"_revision":3', '"_revision":4']);
    const done = await fetch(
      `${svc.url}/api/2/things/${enc(id)}?from-historical-revision=2&to-historical-revision=4`,
      {
        headers: {
          accept: 'text/event-stream',
          authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}`,
          'last-event-id': `${id}:4`,
        },
      },
    );
    expect(done.status).toBe(204);
  });
});
