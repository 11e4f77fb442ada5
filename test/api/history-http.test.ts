/**
 * History over HTTP (ditto: basic-history): things, policies and connections read at `at-historical-revision`
 * and `at-historical-timestamp` (header or query parameter), every sub-resource, `historical-headers`, the
 * policy as it is now deciding what is read, Ditto's error codes, and retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { DEVOPS, mqttConnection } from '../connectivity/helpers.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({
    TWINBRIDGE_HISTORICAL_HEADERS_TO_PERSIST: 'ditto-originator,correlation-id',
  });
});
afterAll(async () => {
  await svc.close();
});

let n = 0;
const newId = (prefix = 'org.eclipse.ditto') => `${prefix}:history-${++n}-${Date.now()}`;
const enc = encodeURIComponent;
const RW = { grant: ['READ', 'WRITE'], revoke: [] };
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

/** ditto owns everything; alice may read the thing but not its attribute `secret`. */
const policyOf = (aliceRevoked = 'thing:/attributes/secret') => ({
  entries: {
    owner: { subjects: { 'nginx:ditto': { type: 'admin' } }, resources: { 'thing:/': RW, 'policy:/': RW } },
    reader: {
      subjects: { 'nginx:alice': { type: 'reader' } },
      resources: {
        'thing:/': { grant: ['READ'], revoke: [] },
        [aliceRevoked]: { grant: [], revoke: ['READ'] },
        'policy:/entries/reader': { grant: ['READ'], revoke: [] },
      },
    },
  },
});

/** A thing with revisions 1…3 (attribute `n` = revision), its policy of its own; `modified` of each revision. */
async function thingWithThreeRevisions(): Promise<{ id: string; modified: string[] }> {
  const id = newId();
  expect(
    (
      await svc.request('PUT', `/api/2/things/${enc(id)}`, {
        body: {
          _policy: policyOf(),
          attributes: { n: 1, secret: 's1' },
          features: { f: { properties: { p: 1 } } },
        },
      })
    ).status,
  ).toBe(201);
  for (const r of [2, 3]) {
    await pause();
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/n`, {
          body: r,
          headers: { 'correlation-id': `change-${r}` },
        })
      ).status,
    ).toBe(204);
  }
  const modified: string[] = [];
  for (const r of [1, 2, 3])
    modified.push(
      (
        await svc.request('GET', `/api/2/things/${enc(id)}?fields=_modified`, {
          headers: { 'at-historical-revision': String(r) },
        })
      ).json._modified,
    );
  return { id, modified };
}

describe('a thing in history', () => {
  it('is read at a revision at every resource level, with its ETag, fields and historical-headers', async () => {
    const { id } = await thingWithThreeRevisions();
    const at = (path: string, revision: number) =>
      svc.request('GET', `/api/2/things/${enc(id)}${path}`, {
        headers: { 'at-historical-revision': String(revision) },
      });
    const whole = await at('', 2);
    expect(whole.status).toBe(200);
    expect(whole.json).toEqual({
      thingId: id,
      policyId: id,
      attributes: { n: 2, secret: 's1' },
      features: { f: { properties: { p: 1 } } },
    });
    expect(whole.headers.get('etag')).toBe('"rev:2"');
    expect(JSON.parse(whole.headers.get('historical-headers')!)).toEqual({
      'ditto-originator': 'nginx:ditto',
      'correlation-id': 'change-2',
    });
    expect((await at('/attributes', 1)).json).toEqual({ n: 1, secret: 's1' });
    expect((await at('/attributes/n', 1)).json).toBe(1);
    expect((await at('/features/f/properties/p', 1)).json).toBe(1);
    expect((await at('/policyId', 1)).json).toBe(id);
    expect(
      (
        await svc.request(
          'GET',
          `/api/2/things/${enc(id)}?at-historical-revision=1&fields=attributes/n,_revision`,
        )
      ).json,
    ).toEqual({ attributes: { n: 1 }, _revision: 1 });
    // The current revision answers like any historical one.
    const current = await at('/attributes/n', 3);
    expect(current.json).toBe(3);
    expect(JSON.parse(current.headers.get('historical-headers')!)).toMatchObject({
      'correlation-id': 'change-3',
    });
    // A resource the revision did not have is that level's 404.
    expect((await at('/attributes/n', 1)).status).toBe(200);
    expect((await at('/features/g', 3)).json.error).toBe('things:feature.notfound');
  });

  it('is read at an instant: the latest revision modified strictly before it', async () => {
    const { id, modified } = await thingWithThreeRevisions();
    const at = (instant: string) =>
      svc.request('GET', `/api/2/things/${enc(id)}/attributes/n`, {
        headers: { 'at-historical-timestamp': instant },
      });
    const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
    expect((await at(plus(modified[0], 1))).json).toBe(1);
    expect((await at(modified[1])).json).toBe(1);
    expect((await at(plus(modified[1], 1))).json).toBe(2);
    expect((await at(plus(modified[2], 1))).json).toBe(3);
    const before = await at(modified[0]);
    expect(before.status).toBe(404);
    expect(before.json).toMatchObject({
      error: 'things:thing.history.notfound',
      message: expect.stringContaining(`at timestamp '`),
    });
    // Both headers: the revision, if it was modified before the instant.
    const both = await svc.request(
      'GET',
      `/api/2/things/${enc(id)}/attributes/n?at-historical-revision=2&at-historical-timestamp=${enc(plus(modified[2], 1))}`,
    );
    expect(both.json).toBe(2);
  });

  it('answers 404 things:thing.history.notfound for a revision it does not hold and 400 for malformed values, never 500', async () => {
    const { id } = await thingWithThreeRevisions();
    const get = (headers: Record<string, string>) =>
      svc.request('GET', `/api/2/things/${enc(id)}`, { headers });
    for (const revision of ['4', '0', '-1', '9007199254740991']) {
      const res = await get({ 'at-historical-revision': revision });
      expect(res.status).toBe(404);
      expect(res.json.error).toBe('things:thing.history.notfound');
    }
    expect((await get({ 'at-historical-revision': '4' })).json.message).toBe(
      `The Thing with ID '${id}' at revision '4' could not be found or requester had insufficient permissions to access it.`,
    );
    expect(
      (await get({ 'at-historical-timestamp': new Date(Date.now() + 60_000).toISOString() })).json.error,
    ).toBe('things:thing.history.notfound');
    for (const headers of [
      { 'at-historical-revision': 'latest' } as Record<string, string>,
      { 'at-historical-revision': '1.5' },
      { 'at-historical-revision': '99999999999999999999' },
      { 'at-historical-timestamp': 'yesterday' },
      { 'at-historical-timestamp': '2026-01-01' },
    ]) {
      const res = await get(headers);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('header.invalid');
    }
    expect(
      (await svc.request('GET', `/api/2/things/${enc(newId())}?at-historical-revision=1`)).json.error,
    ).toBe('things:thing.notfound');
  });

  it('keeps the first life of a deleted and re-created thing; the deletion itself is 404 things:thing.notfound', async () => {
    const id = newId();
    await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { attributes: { life: 1 } } });
    await svc.request('DELETE', `/api/2/things/${enc(id)}`);
    await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { attributes: { life: 2 } } });
    const at = (r: number) =>
      svc.request('GET', `/api/2/things/${enc(id)}/attributes/life?at-historical-revision=${r}`);
    expect((await at(1)).json).toBe(1);
    expect((await at(2)).json.error).toBe('things:thing.notfound');
    expect((await at(3)).json).toBe(2);
    await svc.request('DELETE', `/api/2/things/${enc(id)}`);
    expect((await at(3)).json.error).toBe('things:thing.notfound');
  });

  it('is enforced by the policy as it is now: pruned per path, 404 for a caller who may read nothing', async () => {
    const { id } = await thingWithThreeRevisions();
    const asAlice = (revision: number, path = '') =>
      svc.request('GET', `/api/2/things/${enc(id)}${path}?at-historical-revision=${revision}`, {
        auth: 'alice:alice',
      });
    expect((await asAlice(1)).json.attributes).toEqual({ n: 1 });
    expect((await asAlice(1, '/attributes/secret')).json.error).toBe('things:attribute.notfound');
    // Now alice may no longer read `n` either, not even in the past; and bob, who may read nothing, learns nothing.
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(id)}`, { body: policyOf('thing:/attributes') }))
        .status,
    ).toBe(204);
    expect((await asAlice(1)).json.attributes).toBeUndefined();
    for (const revision of [1, 99]) {
      const bob = await svc.request('GET', `/api/2/things/${enc(id)}?at-historical-revision=${revision}`, {
        auth: 'bob:bob',
      });
      expect(bob.status).toBe(404);
      expect(bob.json.error).toBe('things:thing.notfound');
    }
  });
});

describe('a policy in history', () => {
  it('is read at a revision at every level, pruned by the policy as it is now, with historical-headers', async () => {
    const id = newId();
    expect((await svc.request('PUT', `/api/2/policies/${enc(id)}`, { body: policyOf() })).status).toBe(201);
    const asBob = () =>
      svc.request('GET', `/api/2/policies/${enc(id)}?at-historical-revision=1`, { auth: 'bob:bob' });
    expect((await asBob()).json.error).toBe('policies:policy.notfound');
    await pause();
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(id)}/entries/reader/subjects/${enc('nginx:bob')}`, {
          body: { type: 'late' },
          headers: { 'correlation-id': 'add-bob' },
        })
      ).status,
    ).toBe(201);
    const at = (path: string, revision: number, auth?: string) =>
      svc.request(
        'GET',
        `/api/2/policies/${enc(id)}${path}?at-historical-revision=${revision}`,
        auth ? { auth } : {},
      );
    const first = await at('', 1);
    expect(first.json).toEqual({ policyId: id, ...policyOf() });
    expect(first.headers.get('etag')).toBe('"rev:1"');
    expect(JSON.parse(first.headers.get('historical-headers')!)).toMatchObject({
      'ditto-originator': 'nginx:ditto',
    });
    expect((await at('/entries/reader/subjects', 1)).json).toEqual({ 'nginx:alice': { type: 'reader' } });
    expect(Object.keys((await at('/entries/reader/subjects', 2)).json)).toEqual(['nginx:alice', 'nginx:bob']);
    expect(JSON.parse((await at('', 2)).headers.get('historical-headers')!)).toEqual({
      'ditto-originator': 'nginx:ditto',
      'correlation-id': 'add-bob',
    });
    expect((await at('/entries/owner', 1, 'alice:alice')).json.error).toBe('policies:entry.notfound');
    expect(Object.keys((await at('', 1, 'alice:alice')).json.entries)).toEqual(['reader']);
    const missing = await at('', 3);
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('policies:policy.history.notfound');
    // Bob, a reader now, reads the entry as it was before he was added.
    expect((await asBob()).json).toEqual({ policyId: id, entries: { reader: policyOf().entries.reader } });
    expect(
      (
        await svc.request('GET', `/api/2/policies/${enc(id)}`, {
          headers: { 'at-historical-timestamp': 'soon' },
        })
      ).json.error,
    ).toBe('header.invalid');
  });
});

describe('a connection in history', () => {
  it('is read at a revision by the devops user, with historical-headers; a missing one is 404 connectivity:connection.history.notfound', async () => {
    const json = mqttConnection({
      uri: 'tcp://127.0.0.1:1',
      prefix: `history-${Date.now()}`,
      extra: { connectionStatus: 'closed' },
    });
    const created = await svc.request('POST', '/api/2/connections', {
      body: json,
      auth: DEVOPS,
      headers: { 'correlation-id': 'create-it' },
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await pause();
    expect(
      (
        await svc.request('PUT', `/api/2/connections/${id}`, {
          body: { ...json, name: 'renamed' },
          auth: DEVOPS,
        })
      ).status,
    ).toBe(204);
    const at = (headers: Record<string, string>) =>
      svc.request('GET', `/api/2/connections/${id}`, { auth: DEVOPS, headers });
    const first = await at({ 'at-historical-revision': '1' });
    expect(first.json).toMatchObject({ id, name: json.name, _revision: 1 });
    expect(JSON.parse(first.headers.get('historical-headers')!)).toEqual({
      'ditto-originator': 'devops:devops',
      'correlation-id': 'create-it',
    });
    expect(
      (await at({ 'at-historical-timestamp': new Date(Date.parse(first.json._modified) + 1).toISOString() }))
        .json.name,
    ).toBe(json.name);
    expect((await at({ 'at-historical-revision': '2' })).json).toMatchObject({
      name: 'renamed',
      _revision: 2,
    });
    const missing = await at({ 'at-historical-revision': '3' });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('connectivity:connection.history.notfound');
    expect((await svc.request('GET', `/api/2/connections/${id}?at-historical-revision=1`)).status).toBe(401);
    expect((await svc.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS })).status).toBe(204);
    expect((await at({ 'at-historical-revision': '1' })).json.error).toBe('connectivity:connection.notfound');
  });
});

describe('retention', () => {
  it('answers 404 for revisions older than the retention, keeps the current state and namespaces kept forever, and compacts the store', async () => {
    const kept = await startTestService({
      TWINBRIDGE_HISTORY_RETENTION: '5s',
      TWINBRIDGE_HISTORY_RETENTION_NAMESPACES: '{"audit":"forever"}',
      TWINBRIDGE_HISTORY_COMPACTION_INTERVAL: '200ms',
    });
    try {
      const ids = [`org.eclipse.ditto:retained-${Date.now()}`, `audit:retained-${Date.now()}`];
      for (const id of ids) {
        await kept.request('PUT', `/api/2/things/${enc(id)}`, { body: { attributes: { n: 1 } } });
        await kept.request('PUT', `/api/2/things/${enc(id)}/attributes/n`, { body: 2 });
      }
      const at = (id: string, revision: number) =>
        kept.request('GET', `/api/2/things/${enc(id)}/attributes/n?at-historical-revision=${revision}`);
      // Within the retention (5 s: room for a loaded machine between the writes and this read)…
      expect((await at(ids[0], 1)).json).toBe(1);
      // …and past it: revision 1 is gone from the answers once it is older than 5 s.
      for (let i = 0; (await at(ids[0], 1)).status !== 404; i++) {
        if (i > 300) throw new Error('revision 1 was still answered long after the retention');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await at(ids[0], 1)).json.error).toBe('things:thing.history.notfound');
      expect((await at(ids[0], 2)).json).toBe(2);
      expect((await kept.request('GET', `/api/2/things/${enc(ids[0])}`)).json.attributes).toEqual({ n: 2 });
      expect((await at(ids[1], 1)).json).toBe(1);
      // The compactor removes it from the store too (it runs every 200 ms).
      for (
        let i = 0;
        (await kept.services.store.historyAt('thing', ids[0], { revision: 1 })) !== undefined;
        i++
      ) {
        if (i > 300) throw new Error('history was not compacted');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await kept.services.store.historyAt('thing', ids[1], { revision: 1 }))?.record.revision).toBe(
        1,
      );
      expect((await kept.services.store.historyAt('thing', ids[0], { revision: 2 }))?.record.revision).toBe(
        2,
      );
    } finally {
      await kept.close();
    }
  });
});
