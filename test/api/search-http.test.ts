/**
 * Search over HTTP (§2.7) on the embedded store: the RQL corpus of test/unit/search/corpus.ts through the
 * real API (the queries that do not depend on fields a client cannot set: _revision, _created,
 * _modified, policyId, time:), paging with cursors, count, options, errors and policy filtering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERIES, THINGS } from '../unit/search/corpus.js';
import { startTestService, type TestService } from '../helpers/app.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ TWINBRIDGE_TRUSTED_PROXIES: '127.0.0.1' });
  for (const thing of THINGS) {
    const body = Object.fromEntries(
      Object.entries(thing).filter(([k]) => !k.startsWith('_') && k !== 'policyId' && k !== 'thingId'),
    );
    const res = await svc.request('PUT', `/api/2/things/${encodeURIComponent(String(thing.thingId))}`, {
      body,
    });
    expect(res.status, String(thing.thingId)).toBe(201);
  }
});
afterAll(async () => {
  await svc.close();
});

const q = (params: Record<string, string | undefined>) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');

const portable = QUERIES.filter(
  (c) => !/_revision|_created|_modified|policyId|time:/.test(`${c.filter ?? ''} ${c.options ?? ''}`),
);

describe('the RQL corpus over HTTP', () => {
  it('covers most of the corpus', () => {
    expect(portable.length).toBeGreaterThanOrEqual(60);
  });

  for (const c of portable) {
    it(`${c.filter ?? '(no filter)'} ${c.options ?? ''} ${c.namespaces ?? ''}`, async () => {
      const option = c.options ?? 'size(200)';
      const res = await svc.request(
        'GET',
        `/api/2/search/things?${q({ filter: c.filter, namespaces: c.namespaces, option, fields: 'thingId' })}`,
      );
      expect(res.status, res.text).toBe(200);
      const ids = res.json.items.map((t: { thingId: string }) => t.thingId);
      const sorted = c.options?.includes('sort(');
      expect(sorted ? ids : [...ids].sort()).toEqual(sorted ? c.expectedIds : [...c.expectedIds].sort());
      if (!/size\(|limit\(/.test(c.options ?? '')) {
        const count = await svc.request(
          'GET',
          `/api/2/search/things/count?${q({ filter: c.filter, namespaces: c.namespaces })}`,
        );
        expect(count.text).toBe(String(c.expectedIds.length));
      }
    });
  }
});

describe('search', () => {
  it('accepts POST with a form body and answers count as a bare integer', async () => {
    const form = 'filter=' + encodeURIComponent(portable[0].filter ?? '') + '&option=size(200)';
    const res = await svc.request('POST', '/api/2/search/things', {
      raw: form,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json.items)).toBe(true);
    const count = await svc.request('POST', '/api/2/search/things/count', {
      raw: 'namespaces=',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(count.status).toBe(200);
    expect(count.text).toMatch(/^\d+$/);
  });

  it('pages through every match exactly once with size and cursor, the cursor absent on the last page', async () => {
    for (let i = 0; i < 60; i++)
      await svc.request('PUT', `/api/2/things/paging:t${String(i).padStart(3, '0')}`, {
        body: { attributes: { n: i } },
      });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const option = `sort(-attributes/n),size(7)${cursor ? `,cursor(${cursor})` : ''}`;
      const res = await svc.request('GET', `/api/2/search/things?${q({ namespaces: 'paging', option })}`);
      expect(res.status, res.text).toBe(200);
      seen.push(...res.json.items.map((t: { thingId: string }) => t.thingId));
      cursor = res.json.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(9);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => `paging:t${String(59 - i).padStart(3, '0')}`));
  });

  it('pages through every thing newest first with sort(-_modified), ties in thingId order', async () => {
    const total = Number((await svc.request('GET', '/api/2/search/things/count')).text);
    const seen: Array<{ thingId: string; _modified: string }> = [];
    let cursor: string | undefined;
    do {
      const option = `sort(-_modified),size(9)${cursor ? `,cursor(${cursor})` : ''}`;
      const res = await svc.request(
        'GET',
        `/api/2/search/things?${q({ option, fields: 'thingId,_modified' })}`,
      );
      expect(res.status, res.text).toBe(200);
      seen.push(...res.json.items);
      cursor = res.json.cursor;
    } while (cursor);
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((t) => t.thingId)).size).toBe(total);
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      expect(
        a._modified > b._modified || (a._modified === b._modified && a.thingId < b.thingId),
        `${a.thingId} before ${b.thingId}`,
      ).toBe(true);
    }
  });

  it('supports the deprecated limit with nextPageOffset and refuses it together with size', async () => {
    const res = await svc.request(
      'GET',
      `/api/2/search/things?${q({ namespaces: 'paging', option: 'sort(+thingId),limit(0,5)' })}`,
    );
    expect(res.json.items).toHaveLength(5);
    expect(res.json.nextPageOffset).toBe(5);
    const bad = await svc.request('GET', `/api/2/search/things?${q({ option: 'limit(0,5),size(3)' })}`);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('thing-search:search.option.invalid');
  });

  it('answers invalid input with Ditto errors', async () => {
    const rql = await svc.request('GET', `/api/2/search/things?${q({ filter: 'eq(attributes/x' })}`);
    expect(rql.status).toBe(400);
    expect(rql.json.error).toBe('rql.expression.invalid');
    expect(rql.json.message).toMatch(/position/);
    const ns = await svc.request('GET', `/api/2/search/things?${q({ namespaces: '1bad' })}`);
    expect(ns.status).toBe(400);
    expect(ns.json.error).toBe('thing-search:search.namespaces.invalid');
    const size = await svc.request('GET', `/api/2/search/things?${q({ option: 'size(500)' })}`);
    expect(size.status).toBe(400);
  });

  it('lists readable things as an array for GET /api/2/things without ids', async () => {
    const res = await svc.request(
      'GET',
      `/api/2/things?${q({ namespaces: 'paging', fields: 'thingId', option: 'size(3)' })}`,
    );
    expect(res.status).toBe(200);
    expect(res.json).toHaveLength(3);
  });

  it('shows each caller only what it may read, and never matches on fields it cannot read', async () => {
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
          subjects: { 'pre:reader': { type: 'u' } },
          resources: { 'thing:/attributes/public': { grant: ['READ'], revoke: [] } },
        },
      },
    };
    await svc.request('PUT', '/api/2/things/secret:one', {
      body: { _policy: policy, attributes: { public: 'p', secret: 's' } },
    });
    const asReader = { headers: { 'x-ditto-pre-authenticated': 'pre:reader' }, auth: null };
    const all = await svc.request('GET', `/api/2/search/things?${q({ namespaces: 'secret' })}`, asReader);
    expect(all.json.items).toEqual([{ thingId: 'secret:one', attributes: { public: 'p' } }]);
    const bySecret = await svc.request(
      'GET',
      `/api/2/search/things?${q({ filter: 'eq(attributes/secret,"s")' })}`,
      asReader,
    );
    expect(bySecret.json.items).toEqual([]);
    const count = await svc.request(
      'GET',
      `/api/2/search/things/count?${q({ filter: 'exists(attributes/secret)' })}`,
      asReader,
    );
    expect(count.text).toBe('0');
    const other = await svc.request('GET', `/api/2/search/things/count?${q({ namespaces: 'secret' })}`, {
      auth: 'alice:alice',
    });
    expect(other.text).toBe('0');
  });

  it('sees a write at once and forgets a deleted thing', async () => {
    await svc.request('PUT', '/api/2/things/fresh:one', { body: { attributes: { mark: 'now' } } });
    expect(
      (await svc.request('GET', `/api/2/search/things/count?${q({ filter: 'eq(attributes/mark,"now")' })}`))
        .text,
    ).toBe('1');
    await svc.request('DELETE', '/api/2/things/fresh:one');
    expect(
      (await svc.request('GET', `/api/2/search/things/count?${q({ filter: 'eq(attributes/mark,"now")' })}`))
        .text,
    ).toBe('0');
  });
});

describe('conditions (§2.1)', () => {
  it('applies a write only when the condition holds, else 412 things:condition.failed', async () => {
    await svc.request('PUT', '/api/2/things/cond:one', { body: { attributes: { level: 5 } } });
    const fails = await svc.request(
      'PUT',
      `/api/2/things/cond:one/attributes/level?${q({ condition: 'gt(attributes/level,10)' })}`,
      { body: 1 },
    );
    expect(fails.status).toBe(412);
    expect(fails.json.error).toBe('things:condition.failed');
    const holds = await svc.request('PUT', '/api/2/things/cond:one/attributes/level', {
      body: 7,
      headers: { condition: 'lt(attributes/level,10)' },
    });
    expect(holds.status).toBe(204);
    const get = await svc.request(
      'GET',
      `/api/2/things/cond:one?${q({ condition: 'eq(attributes/level,7)' })}`,
    );
    expect(get.status).toBe(200);
  });

  it('answers an invalid condition with 400 things:condition.invalid', async () => {
    await svc.request('PUT', '/api/2/things/cond:two', { body: {} });
    const res = await svc.request('GET', `/api/2/things/cond:two?${q({ condition: 'eq(attributes/level' })}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('things:condition.invalid');
  });
});
