/**
 * The search oracle matrix (issue 19 items 1-3): for a caller, a field they may not READ does not exist.
 * Alice may read the things except `attributes/hidden` and `features/secret`; bob has no entry. Every
 * query (filters with not/exists/ne/like/in, sorts on hidden fields, cursors) is answered over HTTP search,
 * HTTP count, the WebSocket search protocol and SSE search streams while the hidden values are A, then B,
 * then absent: the answers (items, counts, order, pages) must be identical, and cursors must carry
 * nothing readable and must not survive tampering or a change of caller or query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from '../ws/client.js';
import { httpCount, httpPages, sseItems, wsPages, type SearchQuery } from './search-clients.js';

const ns = `sec.oracle${Date.now()}`;
const N = 6;
const thingId = (i: number) => `${ns}:t${i}`;
const policyId = `${ns}:policy`;

let svc: TestService;
let alice: TestWs;
let bob: TestWs;

/** The hidden values of thing i in each world (B reverses A's order; `absent` deletes them). */
const WORLDS = {
  A: (i: number) => ({ hidden: `h${i}`, pin: i === 0 ? '0000' : `${1000 + i}` }),
  B: (i: number) => ({ hidden: `h${N - 1 - i}`, pin: i === 0 ? '9999' : '0000' }),
  absent: () => undefined,
} as const;

async function setWorld(world: keyof typeof WORLDS): Promise<void> {
  for (let i = 0; i < N; i++) {
    const values = WORLDS[world](i);
    const patch =
      values === undefined
        ? { attributes: { hidden: null }, features: { secret: null } }
        : {
            attributes: { hidden: values.hidden },
            features: { secret: { properties: { pin: values.pin } } },
          };
    const res = await svc.request('PATCH', `/api/2/things/${thingId(i)}`, { body: patch });
    expect(res.status, res.text).toBe(204);
  }
}

const FILTERS = [
  undefined,
  'eq(attributes/hidden,"h1")',
  'not(eq(features/secret/properties/pin,"0000"))',
  'not(like(attributes/hidden,"h*"))',
  'like(attributes/hidden,"h?")',
  'ilike(features/secret/properties/pin,"0*")',
  'exists(attributes/hidden)',
  'not(exists(features/secret/properties/pin))',
  'not(exists(features/secret))',
  'ne(attributes/hidden,"x")',
  'not(ne(attributes/hidden,"h1"))',
  'gt(attributes/hidden,"h2")',
  'not(lt(features/*/properties/pin,"5"))',
  'empty(attributes/hidden)',
  'not(empty(features/secret/properties/pin))',
  'or(eq(attributes/public,1),not(in(features/secret/properties/pin,"0000","9999")))',
  'and(gt(attributes/public,0),not(eq(attributes/hidden,"h3")))',
];
const OPTIONS = [
  'size(2)',
  'sort(+attributes/hidden),size(2)',
  'sort(-features/secret/properties/pin,-attributes/public),size(2)',
  'sort(-features/*/properties/pin),size(4)',
  'sort(+attributes/hidden,-thingId),size(5)',
];

const thingIds = (items: unknown[]) => items.map((t) => (t as { thingId: string }).thingId);

/** Every answer of the matrix for one user, keyed by transport and query. */
async function answers(user: string, ws: TestWs): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const filter of FILTERS) {
    out[`count ${filter}`] = await httpCount(svc, user, { filter, namespaces: ns });
    for (const option of OPTIONS) {
      const q: SearchQuery = { filter, option, namespaces: ns };
      out[`http ${filter} ${option}`] = (await httpPages(svc, user, q)).pages;
      out[`ws ${filter} ${option}`] = await wsPages(ws, q);
      out[`sse ${filter} ${option}`] = await sseItems(svc, user, q);
    }
  }
  return out;
}

beforeAll(async () => {
  svc = await startTestService();
  const policy = {
    entries: {
      owner: {
        subjects: { 'nginx:ditto': { type: 'u' } },
        resources: {
          'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
          'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
        },
      },
      reader: {
        subjects: { 'nginx:alice': { type: 'u' } },
        resources: {
          'thing:/': { grant: ['READ'], revoke: [] },
          'thing:/attributes/hidden': { grant: [], revoke: ['READ'] },
          'thing:/features/secret': { grant: [], revoke: ['READ'] },
        },
      },
    },
  };
  expect((await svc.request('PUT', `/api/2/policies/${policyId}`, { body: policy })).status).toBe(201);
  for (let i = 0; i < N; i++) {
    const body = {
      policyId,
      attributes: { public: i % 3 },
      features: { open: { properties: { pin: `${i}` } } },
    };
    expect((await svc.request('PUT', `/api/2/things/${thingId(i)}`, { body })).status).toBe(201);
  }
  alice = await connectWs(svc.url, 'alice');
  bob = await connectWs(svc.url, 'bob');
});

afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await svc?.close();
});

describe('search oracle', () => {
  it('answers alice and bob identically whether the hidden values are A, B or absent, over HTTP, count, WebSocket and SSE', async () => {
    const seen: Record<string, Record<string, unknown>> = {};
    const owner: Record<string, number> = {};
    for (const world of ['A', 'B', 'absent'] as const) {
      await setWorld(world);
      seen[world] = await answers('alice', alice);
      seen[`bob ${world}`] = await answers('bob', bob);
      owner[world] = await httpCount(svc, 'ditto', {
        filter: 'not(eq(features/secret/properties/pin,"0000"))',
        namespaces: ns,
      });
    }
    // The worlds really differ for someone who may read the hidden values…
    expect(new Set(Object.values(owner)).size).toBeGreaterThan(1);
    // …but not for alice nor bob.
    expect(seen.B).toEqual(seen.A);
    expect(seen.absent).toEqual(seen.A);
    expect(seen['bob B']).toEqual(seen['bob A']);
    expect(seen['bob absent']).toEqual(seen['bob A']);
    // And the answers are those of a world without the hidden fields:
    const all = Array.from({ length: N }, (_, i) => thingId(i));
    expect(seen.A['count exists(attributes/hidden)']).toBe(0);
    expect(seen.A['count not(eq(features/secret/properties/pin,"0000"))']).toBe(N);
    expect(seen.A['count not(like(attributes/hidden,"h*"))']).toBe(N);
    expect(seen.A['count not(ne(attributes/hidden,"h1"))']).toBe(N);
    expect(seen.A['count empty(attributes/hidden)']).toBe(N);
    expect(seen.A['count not(lt(features/*/properties/pin,"5"))']).toBe(1); // only the open pin "5" of t5 counts
    expect(
      thingIds((seen.A['http undefined sort(+attributes/hidden),size(2)'] as unknown[][]).flat()),
    ).toEqual(all);
    expect(thingIds(seen.A['sse undefined sort(+attributes/hidden,-thingId),size(5)'] as unknown[])).toEqual(
      [...all].reverse(),
    );
    expect((seen.A['ws undefined size(2)'] as unknown[][]).flat()).toEqual(
      (seen.A['http undefined size(2)'] as unknown[][]).flat(),
    );
    for (const item of (seen.A['http undefined size(2)'] as unknown[][]).flat()) {
      expect(item).not.toHaveProperty('attributes.hidden');
      expect(item).not.toHaveProperty('features.secret');
    }
    // bob has no entry: nothing, whatever he asks
    expect(
      Object.entries(seen['bob A']).filter(([k, v]) =>
        k.startsWith('count') ? v !== 0 : (v as unknown[]).flat(2).length > 0,
      ),
    ).toEqual([]);
  });

  it('issues opaque cursors that carry no hidden value and fail when tampered with or reused by another caller or query', async () => {
    await setWorld('A');
    const q: SearchQuery = { option: 'sort(-features/secret/properties/pin),size(1)', namespaces: ns };
    const owners = await httpPages(svc, 'ditto', q);
    const alices = await httpPages(svc, 'alice', q);
    for (const cursor of [...owners.cursors, ...alices.cursors]) {
      const bytes = Buffer.from(cursor, 'base64url');
      // The sort key is the 4-character PIN; random ciphertext holds a given 4 bytes with a chance of about
      // 1 in 50 million per cursor (a 2-character value such as `h1` would turn up by chance now and then).
      for (let i = 0; i < N; i++) expect(bytes.includes(WORLDS.A(i).pin), cursor).toBe(false);
    }
    const cursor = alices.cursors[0];
    const invalid = async (user: string, option: string, filter?: string) => {
      const p = new URLSearchParams({ namespaces: ns, option });
      if (filter) p.set('filter', filter);
      const res = await svc.request('GET', `/api/2/search/things?${p}`, { auth: `${user}:${user}` });
      expect(res.status, option).toBe(400);
      expect(res.json).toMatchObject({ status: 400, error: 'thing-search:search.option.invalid' });
    };
    const tampered = Buffer.from(cursor, 'base64url');
    tampered[tampered.length - 3] ^= 0x20;
    await invalid(
      'alice',
      `sort(-features/secret/properties/pin),size(1),cursor(${tampered.toString('base64url')})`,
    );
    await invalid('alice', `sort(-features/secret/properties/pin),size(1),cursor(${cursor.slice(0, -4)})`);
    await invalid('ditto', `sort(-features/secret/properties/pin),size(1),cursor(${cursor})`); // another caller
    await invalid('alice', `sort(+features/secret/properties/pin),size(1),cursor(${cursor})`); // another sort
    await invalid(
      'alice',
      `sort(-features/secret/properties/pin),size(1),cursor(${cursor})`,
      'exists(thingId)',
    ); // another filter
    const forged = Buffer.from(JSON.stringify(['x', [null, `${ns}:t0`]])).toString('base64url');
    await invalid('alice', `sort(-features/secret/properties/pin),size(1),cursor(${forged})`);
    // the untouched cursor still works
    const next = await svc.request(
      'GET',
      `/api/2/search/things?${new URLSearchParams({ namespaces: ns, option: `sort(-features/secret/properties/pin),size(1),cursor(${cursor})` })}`,
      { auth: 'alice:alice' },
    );
    expect(next.status).toBe(200);
    expect(thingIds(next.json.items)).toEqual([thingId(1)]);
  });
});
