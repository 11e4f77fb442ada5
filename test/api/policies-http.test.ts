/**
 * The policies HTTP API v2 over a real socket (ditto-interfaces.md §2.8, §2.2, §2.3, §7.3): every path
 * with GET/PUT/DELETE, ETags and conditional requests, field selectors, lockout protection, enforcement of
 * the policy on itself, and that a policy write is enforced on its things at once.
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

let n = 0;
const newId = () => `org.eclipse.ditto:policy-${++n}-${Date.now()}`;
const enc = encodeURIComponent;
const RW = { grant: ['READ', 'WRITE'], revoke: [] };

/** ditto owns everything; alice reads attributes and one entry of the policy. */
const policyBody = {
  entries: {
    owner: {
      subjects: { 'nginx:ditto': { type: 'admin' } },
      resources: { 'thing:/': RW, 'policy:/': RW, 'message:/': RW },
    },
    readers: {
      subjects: { 'nginx:alice': { type: 'reader' } },
      resources: {
        'thing:/attributes': { grant: ['READ'], revoke: [] },
        'policy:/entries/readers': { grant: ['READ'], revoke: [] },
      },
    },
  },
};

async function createPolicy(body: unknown = policyBody): Promise<string> {
  const id = newId();
  const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, { body });
  expect(res.status).toBe(201);
  return id;
}

describe('a policy', () => {
  it('is created by PUT with 201, its body, Location and ETag "rev:1"', async () => {
    const id = newId();
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, {
      body: policyBody,
      headers: { 'correlation-id': 'c-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"rev:1"');
    expect(res.headers.get('location')).toBe(`/api/2/policies/${enc(id)}`);
    expect(res.headers.get('correlation-id')).toBe('c-1');
    expect(res.json).toEqual({ policyId: id, ...policyBody });
  });

  it('is read back with GET, 200 and ETag', async () => {
    const id = await createPolicy();
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"rev:1"');
    expect(res.json).toEqual({ policyId: id, ...policyBody });
  });

  it('is replaced by PUT with 204 and the next revision', async () => {
    const id = await createPolicy();
    const replaced = { entries: { owner: policyBody.entries.owner } };
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, { body: replaced });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('etag')).toBe('"rev:2"');
    expect((await svc.request('GET', `/api/2/policies/${enc(id)}`)).json).toEqual({
      policyId: id,
      ...replaced,
    });
  });

  it('is deleted with 204, after which GET is 404 policies:policy.notfound', async () => {
    const id = await createPolicy();
    expect((await svc.request('DELETE', `/api/2/policies/${enc(id)}`)).status).toBe(204);
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}`);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:policy.notfound');
  });

  it('continues its revision when re-created after deletion', async () => {
    const id = await createPolicy();
    await svc.request('DELETE', `/api/2/policies/${enc(id)}`);
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, { body: policyBody });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"rev:3"');
  });

  it('cannot be PATCHed (405)', async () => {
    const id = await createPolicy();
    const res = await svc.request('PATCH', `/api/2/policies/${enc(id)}`, { body: { entries: {} } });
    expect(res.status).toBe(405);
    expect(res.json.error).toBe('gateway:method.notallowed');
  });

  it('rejects an invalid policy ID with 400 policies:id.invalid', async () => {
    const res = await svc.request('PUT', `/api/2/policies/${enc('no-namespace-separator')}`, {
      body: policyBody,
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('policies:id.invalid');
  });

  it('rejects a body with another policyId with 400 policies:id.notsettable', async () => {
    const res = await svc.request('PUT', `/api/2/policies/${enc(newId())}`, {
      body: { ...policyBody, policyId: 'other:id' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('policies:id.notsettable');
  });

  it('rejects a label starting with "imported" with 400 policies:label.invalid', async () => {
    const res = await svc.request('PUT', `/api/2/policies/${enc(newId())}`, {
      body: { entries: { ...policyBody.entries, importedX: policyBody.entries.owner } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('policies:label.invalid');
  });

  it('rejects a body that is not JSON with 400 and a non-JSON content type with 415', async () => {
    const id = newId();
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(id)}`, { raw: '{', contentType: 'application/json' }))
        .json.error,
    ).toBe('json.invalid');
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, {
      raw: '{}',
      contentType: 'text/plain',
    });
    expect(res.status).toBe(415);
    expect(res.json.error).toBe('mediatype.unsupported');
  });

  it('returns the selected fields, including _revision, with ?fields=', async () => {
    const id = await createPolicy();
    const res = await svc.request(
      'GET',
      `/api/2/policies/${enc(id)}?fields=policyId,entries/owner/subjects,_revision`,
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      policyId: id,
      entries: { owner: { subjects: policyBody.entries.owner.subjects } },
      _revision: 1,
    });
  });

  it('rejects an invalid field selector with 400 json.fieldselector.invalid', async () => {
    const id = await createPolicy();
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}?fields=entries(`);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('json.fieldselector.invalid');
  });

  it('applies concurrent writes to one policy in order, each with its own revision', async () => {
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}/entries/readers/subjects`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        svc.request('PUT', `${base}/${enc(`nginx:user-${i}`)}`, { body: { type: 'r' } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}`);
    expect(res.headers.get('etag')).toBe('"rev:21"');
    expect(Object.keys(res.json.entries.readers.subjects)).toHaveLength(21);
  });

  it('refuses a policy larger than the limit with 413 policies:policy.toolarge', async () => {
    const big = {
      entries: {
        ...policyBody.entries,
        big: { subjects: { 'nginx:x': { type: 'x'.repeat(110 * 1024) } }, resources: { 'thing:/': RW } },
      },
    };
    const res = await svc.request('PUT', `/api/2/policies/${enc(newId())}`, { body: big });
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('policies:policy.toolarge');
  });

  it('generates a correlation-id when none is sent', async () => {
    const id = await createPolicy();
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}`);
    expect(res.headers.get('correlation-id')).toMatch(/.+/);
  });
});

describe('conditional requests on policies', () => {
  it('answers GET with If-None-Match of the current ETag with 304 and no body', async () => {
    const id = await createPolicy();
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}`, {
      headers: { 'if-none-match': '"rev:1"' },
    });
    expect(res.status).toBe(304);
    expect(res.text).toBe('');
  });

  it('applies PUT with a matching If-Match and refuses a stale one with 412 policies:precondition.failed', async () => {
    const id = await createPolicy();
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(id)}`, {
          body: policyBody,
          headers: { 'if-match': '"rev:1"' },
        })
      ).status,
    ).toBe(204);
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, {
      body: policyBody,
      headers: { 'if-match': '"rev:1"' },
    });
    expect(res.status).toBe(412);
    expect(res.json.error).toBe('policies:precondition.failed');
    expect(res.headers.get('etag')).toBe('"rev:2"');
  });

  it('makes If-None-Match: * create-only (412 when the policy exists)', async () => {
    const id = newId();
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(id)}`, {
          body: policyBody,
          headers: { 'if-none-match': '*' },
        })
      ).status,
    ).toBe(201);
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}`, {
      body: policyBody,
      headers: { 'if-none-match': '*' },
    });
    expect(res.status).toBe(412);
    expect(res.json.error).toBe('policies:precondition.failed');
  });

  it('refuses If-Match: * on a missing policy with 412', async () => {
    const res = await svc.request('PUT', `/api/2/policies/${enc(newId())}`, {
      body: policyBody,
      headers: { 'if-match': '*' },
    });
    expect(res.status).toBe(412);
  });

  it('gives sub-resources "hash:" ETags that change with their content', async () => {
    const id = await createPolicy();
    const url = `/api/2/policies/${enc(id)}/entries/readers/subjects`;
    const first = await svc.request('GET', url);
    expect(first.headers.get('etag')).toMatch(/^"hash:[0-9a-f]+"$/);
    expect(
      (await svc.request('GET', url, { headers: { 'if-none-match': first.headers.get('etag')! } })).status,
    ).toBe(304);
    await svc.request('PUT', `${url}/${enc('nginx:bob')}`, { body: { type: 'reader' } });
    const second = await svc.request('GET', url, {
      headers: { 'if-none-match': first.headers.get('etag')! },
    });
    expect(second.status).toBe(200);
    expect(second.headers.get('etag')).not.toBe(first.headers.get('etag'));
  });
});

describe('policy sub-resources', () => {
  it('entries: GET and PUT', async () => {
    const id = await createPolicy();
    const url = `/api/2/policies/${enc(id)}/entries`;
    expect((await svc.request('GET', url)).json).toEqual(policyBody.entries);
    const entries = {
      owner: policyBody.entries.owner,
      other: { subjects: { 'nginx:bob': { type: 'x' } }, resources: { 'thing:/features': RW } },
    };
    expect((await svc.request('PUT', url, { body: entries })).status).toBe(204);
    expect((await svc.request('GET', url)).json).toEqual(entries);
  });

  it('entry: PUT creates (201 + Location), PUT modifies (204), GET, DELETE, then 404 policies:entry.notfound', async () => {
    const id = await createPolicy();
    const url = `/api/2/policies/${enc(id)}/entries/team`;
    const entry = { subjects: { 'nginx:bob': { type: 'member' } }, resources: { 'thing:/features': RW } };
    const created = await svc.request('PUT', url, { body: entry });
    expect(created.status).toBe(201);
    expect(created.json).toEqual(entry);
    expect(created.headers.get('location')).toBe(url);
    expect((await svc.request('PUT', url, { body: { ...entry, importable: 'never' } })).status).toBe(204);
    expect((await svc.request('GET', url)).json).toEqual({ ...entry, importable: 'never' });
    expect((await svc.request('DELETE', url)).status).toBe(204);
    const res = await svc.request('GET', url);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:entry.notfound');
    expect((await svc.request('DELETE', url)).json.error).toBe('policies:entry.notfound');
  });

  it('subjects: GET and PUT; subject: URL-encoded ID with PUT, GET, DELETE', async () => {
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}/entries/readers/subjects`;
    expect((await svc.request('GET', base)).json).toEqual({ 'nginx:alice': { type: 'reader' } });
    expect(
      (await svc.request('PUT', base, { body: { 'nginx:alice': { type: 'r' }, 'nginx:bob': { type: 'r' } } }))
        .status,
    ).toBe(204);
    const one = `${base}/${enc('nginx:carol')}`;
    expect(one).toContain('nginx%3Acarol');
    const created = await svc.request('PUT', one, { body: { type: 'guest' } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ type: 'guest' });
    expect((await svc.request('GET', one)).json).toEqual({ type: 'guest' });
    expect((await svc.request('DELETE', one)).status).toBe(204);
    const res = await svc.request('GET', one);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:subject.notfound');
  });

  it('rejects a subject ID without issuer with 400 policies:subjectid.invalid', async () => {
    const id = await createPolicy();
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}/entries/readers/subjects/nobody`, {
      body: { type: 'x' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('policies:subjectid.invalid');
  });

  it('resources: GET and PUT; resource: URL-encoded and plain paths with PUT, GET, DELETE', async () => {
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}/entries/readers/resources`;
    expect((await svc.request('GET', base)).json).toEqual(policyBody.entries.readers.resources);
    const encoded = `${base}/${enc('thing:/features/lamp')}`;
    expect(encoded).toContain('thing%3A%2Ffeatures%2Flamp');
    const created = await svc.request('PUT', encoded, { body: { grant: ['READ'], revoke: ['WRITE'] } });
    expect(created.status).toBe(201);
    expect((await svc.request('GET', base)).json['thing:/features/lamp']).toEqual({
      grant: ['READ'],
      revoke: ['WRITE'],
    });
    expect((await svc.request('GET', `${base}/thing:/features/lamp`)).json).toEqual({
      grant: ['READ'],
      revoke: ['WRITE'],
    });
    expect((await svc.request('PUT', encoded, { body: { grant: ['READ'], revoke: [] } })).status).toBe(204);
    expect((await svc.request('DELETE', encoded)).status).toBe(204);
    const res = await svc.request('GET', encoded);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:resource.notfound');
    expect((await svc.request('PUT', base, { body: { 'thing:/': RW } })).status).toBe(204);
    expect((await svc.request('GET', base)).json).toEqual({ 'thing:/': RW });
  });

  it('rejects an invalid resource key with 400 policies:entry.invalid', async () => {
    const id = await createPolicy();
    const res = await svc.request(
      'PUT',
      `/api/2/policies/${enc(id)}/entries/readers/resources/${enc('car:/x')}`,
      { body: RW },
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('policies:entry.invalid');
  });

  it('importable and namespaces of an entry: GET and PUT', async () => {
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}/entries/readers`;
    expect((await svc.request('GET', `${base}/importable`)).json.error).toBe('policies:entry.notfound');
    expect((await svc.request('PUT', `${base}/importable`, { body: 'explicit' })).status).toBe(201);
    expect((await svc.request('GET', `${base}/importable`)).json).toBe('explicit');
    expect((await svc.request('PUT', `${base}/importable`, { body: 'sometimes' })).status).toBe(400);
    expect(
      (await svc.request('PUT', `${base}/namespaces`, { body: ['com.acme', 'com.acme.*'] })).status,
    ).toBe(201);
    expect((await svc.request('GET', `${base}/namespaces`)).json).toEqual(['com.acme', 'com.acme.*']);
  });

  it('sub-resources of a missing entry are 404 policies:entry.notfound (nothing is created on the way)', async () => {
    const id = await createPolicy();
    const res = await svc.request(
      'PUT',
      `/api/2/policies/${enc(id)}/entries/nothere/subjects/${enc('nginx:x')}`,
      { body: { type: 'x' } },
    );
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:entry.notfound');
  });

  it('imports: PUT, GET, import by ID, DELETE', async () => {
    const imported = await createPolicy();
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}/imports`;
    expect((await svc.request('GET', base)).json.error).toBe('policies:imports.notfound');
    expect((await svc.request('PUT', base, { body: { [imported]: {} } })).status).toBe(201);
    expect((await svc.request('GET', base)).json).toEqual({ [imported]: {} });
    const one = `${base}/${enc(imported)}`;
    expect((await svc.request('PUT', one, { body: { entries: ['readers'] } })).status).toBe(204);
    expect((await svc.request('GET', one)).json).toEqual({ entries: ['readers'] });
    // The listed entries of one import (§2.8 /imports/{importedPolicyId}/entries).
    expect((await svc.request('GET', `${one}/entries`)).json).toEqual(['readers']);
    expect((await svc.request('PUT', `${one}/entries`, { body: ['owner', 'readers'] })).status).toBe(204);
    expect((await svc.request('GET', one)).json).toEqual({ entries: ['owner', 'readers'] });
    expect((await svc.request('PUT', `${one}/entries`, { body: 'owner' })).status).toBe(400);
    const missingImport = await svc.request(
      'PUT',
      `${base}/${enc('org.eclipse.ditto:not-imported')}/entries`,
      { body: [] },
    );
    expect(missingImport.status).toBe(404);
    expect(missingImport.json.error).toBe('policies:import.notfound');
    expect((await svc.request('DELETE', one)).status).toBe(204);
    const res = await svc.request('GET', one);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:import.notfound');
    expect((await svc.request('DELETE', base)).status).toBe(204);
  });

  it('imports only entries the writer may READ (§7.4), else 404 policies:policy.notfound of the imported policy', async () => {
    // alice owns the imported policy; bob may READ only its `shared` entry.
    const aliceOwns = (extra: Record<string, unknown> = {}) => ({
      entries: {
        owner: {
          subjects: { 'nginx:alice': { type: 'owner' } },
          resources: { 'thing:/': RW, 'policy:/': RW },
          importable: 'never',
        },
        shared: {
          subjects: { 'nginx:carol': { type: 'x' } },
          resources: { 'thing:/': RW },
          importable: 'explicit',
        },
        hidden: {
          subjects: { 'nginx:dave': { type: 'x' } },
          resources: { 'thing:/': RW },
          importable: 'explicit',
        },
        ...extra,
      },
    });
    const imported = newId();
    const bobReads = {
      subjects: { 'nginx:bob': { type: 'reader' } },
      resources: { 'policy:/entries/shared': { grant: ['READ'], revoke: [] } },
      importable: 'never',
    };
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(imported)}`, {
          auth: 'alice:alice',
          body: aliceOwns({ bob: bobReads }),
        })
      ).status,
    ).toBe(201);
    const bobsOwn = {
      owner: { subjects: { 'nginx:bob': { type: 'owner' } }, resources: { 'policy:/': RW } },
    };
    const bobs = newId();
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(bobs)}`, {
          auth: 'bob:bob',
          body: { entries: bobsOwn },
        })
      ).status,
    ).toBe(201);
    const importAs = (auth: string, entries: string[]) =>
      svc.request('PUT', `/api/2/policies/${enc(bobs)}/imports/${enc(imported)}`, {
        auth,
        body: { entries },
      });

    // An explicitly listed entry bob may not READ: refused, as the policy would be when missing.
    const refused = await importAs('bob:bob', ['hidden']);
    expect(refused.status).toBe(404);
    expect(refused.json.error).toBe('policies:policy.notfound');
    expect(refused.json.message).toContain(imported);
    expect(refused.json.description).toMatch(/imported Policy/);
    // The entry he may READ (the others are explicit and not listed, so not imported): accepted.
    expect((await importAs('bob:bob', ['shared'])).status).toBe(201);
    // A whole policy with imports, and the import of a missing policy.
    const withImport = (id: string) => ({ entries: bobsOwn, imports: { [id]: { entries: ['hidden'] } } });
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(newId())}`, {
          auth: 'bob:bob',
          body: withImport(imported),
        })
      ).status,
    ).toBe(404);
    const missing = await svc.request('PUT', `/api/2/policies/${enc(newId())}`, {
      auth: 'bob:bob',
      body: withImport('org.eclipse.ditto:nothing-here'),
    });
    expect(missing.status).toBe(404);
    expect(missing.json.message).toContain('org.eclipse.ditto:nothing-here');
    // An implicit entry is always imported, so it must be readable too.
    const implicit = newId();
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(implicit)}`, {
          auth: 'alice:alice',
          body: aliceOwns({
            open: { subjects: { 'nginx:erin': { type: 'x' } }, resources: { 'thing:/': RW } },
          }),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(bobs)}/imports/${enc(implicit)}`, {
          auth: 'bob:bob',
          body: {},
        })
      ).status,
    ).toBe(404);
    // A thing created with an inline policy that imports is checked the same way.
    const thing = await svc.request('PUT', `/api/2/things/${enc(newId())}`, {
      auth: 'bob:bob',
      body: { _policy: withImport(imported) },
    });
    expect(thing.status).toBe(404);
    expect(thing.json.error).toBe('policies:policy.notfound');
  });

  it('policies that import each other load and enforce; a policy cannot import itself', async () => {
    const a = await createPolicy();
    const b = await createPolicy();
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(a)}/imports/${enc(b)}`, { body: {} })).status,
    ).toBe(201);
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(b)}/imports/${enc(a)}`, { body: {} })).status,
    ).toBe(201);
    const thing = await svc.request('PUT', `/api/2/things/${enc(newId())}`, { body: { policyId: a } });
    expect(thing.status).toBe(201);
    expect((await svc.request('GET', `/api/2/policies/${enc(a)}`)).status).toBe(200);
    const self = await svc.request('PUT', `/api/2/policies/${enc(a)}/imports/${enc(a)}`, { body: {} });
    expect(self.status).toBe(400);
    expect(self.json.error).toBe('policies:import.invalid');
  });

  it('if-equal: skip answers 412 for a write that changes nothing, and keeps the revision', async () => {
    const id = await createPolicy();
    const url = `/api/2/policies/${enc(id)}/entries/readers`;
    const same = await svc.request('PUT', url, {
      body: policyBody.entries.readers,
      headers: { 'if-equal': 'skip' },
    });
    expect(same.status).toBe(412);
    expect(same.json.error).toBe('policies:precondition.failed');
    expect((await svc.request('GET', `/api/2/policies/${enc(id)}?fields=_revision`)).json._revision).toBe(1);
    expect(
      (
        await svc.request('PUT', url, {
          body: { ...policyBody.entries.readers, importable: 'never' },
          headers: { 'if-equal': 'skip' },
        })
      ).status,
    ).toBe(204);
  });

  it('refuses more than 10 imports with 400 policies:imports.toolarge', async () => {
    const id = await createPolicy();
    const imports = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`ns:p${i}`, {}]));
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}/imports`, { body: imports });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('policies:imports.toolarge');
  });

  it('sub-resources of a missing policy are 404 policies:policy.notfound', async () => {
    const res = await svc.request('PUT', `/api/2/policies/${enc(newId())}/entries/x`, {
      body: policyBody.entries.owner,
    });
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:policy.notfound');
  });

  it('DELETE on entries is not allowed (405)', async () => {
    const id = await createPolicy();
    expect((await svc.request('DELETE', `/api/2/policies/${enc(id)}/entries`)).status).toBe(405);
  });
});

describe('enforcement of a policy on itself', () => {
  it('shows a caller with partial READ only the readable entry', async () => {
    const id = await createPolicy();
    const res = await svc.request('GET', `/api/2/policies/${enc(id)}`, { auth: 'alice:alice' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ policyId: id, entries: { readers: policyBody.entries.readers } });
    expect(
      (await svc.request('GET', `/api/2/policies/${enc(id)}/entries/owner`, { auth: 'alice:alice' })).json
        .error,
    ).toBe('policies:entry.notfound');
  });

  it('answers 404 to a caller without any READ, for reads and writes', async () => {
    const id = await createPolicy();
    const get = await svc.request('GET', `/api/2/policies/${enc(id)}`, { auth: 'bob:bob' });
    expect(get.status).toBe(404);
    expect(get.json.error).toBe('policies:policy.notfound');
    const put = await svc.request('PUT', `/api/2/policies/${enc(id)}/entries/readers`, {
      auth: 'bob:bob',
      body: policyBody.entries.owner,
    });
    expect(put.status).toBe(404);
    expect(put.json.error).toBe('policies:policy.notfound');
  });

  it('answers 403 *.notmodifiable to a reader who writes, at each level', async () => {
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}`;
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', base, policyBody, 'policies:policy.notmodifiable'],
      ['DELETE', base, undefined, 'policies:policy.notmodifiable'],
      ['PUT', `${base}/entries`, policyBody.entries, 'policies:entries.notmodifiable'],
      ['PUT', `${base}/entries/readers`, policyBody.entries.readers, 'policies:entry.notmodifiable'],
      ['PUT', `${base}/entries/readers/subjects`, {}, 'policies:subjects.notmodifiable'],
      [
        'PUT',
        `${base}/entries/readers/subjects/${enc('nginx:alice')}`,
        { type: 'x' },
        'policies:subject.notmodifiable',
      ],
      ['PUT', `${base}/entries/readers/resources`, {}, 'policies:resources.notmodifiable'],
      [
        'DELETE',
        `${base}/entries/readers/resources/${enc('thing:/attributes')}`,
        undefined,
        'policies:resource.notmodifiable',
      ],
      ['PUT', `${base}/imports`, {}, 'policies:imports.notmodifiable'],
      ['PUT', `${base}/imports/${enc('ns:x')}`, {}, 'policies:import.notmodifiable'],
    ];
    for (const [method, url, body, code] of cases) {
      const res = await svc.request(method, url, { auth: 'alice:alice', body });
      expect({ url, method, status: res.status, error: res.json?.error }).toEqual({
        url,
        method,
        status: 403,
        error: code,
      });
    }
    // nothing changed
    expect((await svc.request('GET', base)).headers.get('etag')).toBe('"rev:1"');
  });

  it('lets a subject with WRITE on one entry modify that entry only', async () => {
    const id = await createPolicy({
      entries: {
        ...policyBody.entries,
        delegate: {
          subjects: { 'nginx:bob': { type: 'delegate' } },
          resources: { 'policy:/entries/team': RW },
        },
        team: { subjects: {}, resources: { 'thing:/attributes': { grant: ['READ'], revoke: [] } } },
      },
    });
    const base = `/api/2/policies/${enc(id)}/entries`;
    expect(
      (
        await svc.request('PUT', `${base}/team/subjects/${enc('nginx:carol')}`, {
          auth: 'bob:bob',
          body: { type: 'member' },
        })
      ).status,
    ).toBe(201);
    const other = await svc.request('PUT', `${base}/readers/subjects/${enc('nginx:carol')}`, {
      auth: 'bob:bob',
      body: { type: 'member' },
    });
    expect(other.status).toBe(403);
    expect(other.json.error).toBe('policies:subject.notmodifiable');
  });
});

describe('lockout protection', () => {
  const noWriter = { entries: { readers: policyBody.entries.readers } };

  it('refuses to create a policy that leaves the creator without WRITE on policy:/ (403 policies:policy.modificationinvalid)', async () => {
    const res = await svc.request('PUT', `/api/2/policies/${enc(newId())}`, { body: noWriter });
    expect(res.status).toBe(403);
    expect(res.json.error).toBe('policies:policy.modificationinvalid');
  });

  it('creates it with allow-policy-lockout=true (query or header)', async () => {
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(newId())}?allow-policy-lockout=true`, {
          body: noWriter,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await svc.request('PUT', `/api/2/policies/${enc(newId())}`, {
          body: noWriter,
          headers: { 'allow-policy-lockout': 'true' },
        })
      ).status,
    ).toBe(201);
  });

  it('refuses a modification of the whole policy that leaves no writer', async () => {
    const id = await createPolicy();
    const res = await svc.request('PUT', `/api/2/policies/${enc(id)}?allow-policy-lockout=true`, {
      body: noWriter,
    });
    expect(res.status).toBe(403);
    expect(res.json.error).toBe('policies:policy.modificationinvalid');
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(id)}/entries`, { body: noWriter.entries })).json.error,
    ).toBe('policies:policy.modificationinvalid');
  });

  it('refuses entry-level writes that leave no writer with 403 policies:entry.modificationinvalid', async () => {
    const id = await createPolicy();
    const base = `/api/2/policies/${enc(id)}/entries/owner`;
    const writes: Array<[string, string, unknown]> = [
      ['DELETE', base, undefined],
      ['PUT', `${base}/subjects`, {}],
      ['DELETE', `${base}/subjects/${enc('nginx:ditto')}`, undefined],
      ['PUT', `${base}/resources/${enc('policy:/')}`, { grant: ['READ'], revoke: [] }],
      ['PUT', `${base}/resources/${enc('policy:/entries')}`, { grant: [], revoke: ['WRITE'] }],
    ];
    for (const [method, url, body] of writes) {
      const res = await svc.request(method, url, { body });
      expect({ url, status: res.status, error: res.json?.error }).toEqual({
        url,
        status: 403,
        error: 'policies:entry.modificationinvalid',
      });
    }
  });

  it('allows removing the own entry when another subject keeps WRITE on policy:/', async () => {
    const id = await createPolicy({
      entries: {
        ...policyBody.entries,
        admins: { subjects: { 'nginx:bob': { type: 'admin' } }, resources: { 'policy:/': RW } },
      },
    });
    expect((await svc.request('DELETE', `/api/2/policies/${enc(id)}/entries/owner`)).status).toBe(204);
    expect((await svc.request('GET', `/api/2/policies/${enc(id)}`)).status).toBe(404);
    expect((await svc.request('GET', `/api/2/policies/${enc(id)}`, { auth: 'bob:bob' })).status).toBe(200);
  });
});

describe('policies and things', () => {
  it('enforces a policy write on the thing at once', async () => {
    const thingId = newId();
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(thingId)}`, { body: { attributes: { a: 1 } } })).status,
    ).toBe(201);
    expect((await svc.request('GET', `/api/2/things/${enc(thingId)}`, { auth: 'bob:bob' })).status).toBe(404);
    const subject = `/api/2/policies/${enc(thingId)}/entries/DEFAULT/subjects/${enc('nginx:bob')}`;
    expect((await svc.request('PUT', subject, { body: { type: 'friend' } })).status).toBe(201);
    expect((await svc.request('GET', `/api/2/things/${enc(thingId)}`, { auth: 'bob:bob' })).status).toBe(200);
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(thingId)}/attributes/b`, { auth: 'bob:bob', body: 2 }))
        .status,
    ).toBe(201);
    expect((await svc.request('DELETE', subject)).status).toBe(204);
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(thingId)}/attributes/c`, { auth: 'bob:bob', body: 3 }))
        .status,
    ).toBe(404);
  });

  it('enforces each of several identical default policies on its own thing when one of them changes', async () => {
    // Policies with the same entries share one compiled enforcer (src/policies/directory.ts).
    const [a, b, c] = [newId(), newId(), newId()];
    for (const id of [a, b, c])
      expect(
        (await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { attributes: { a: 1 } } })).status,
      ).toBe(201);
    const bob = `/entries/DEFAULT/subjects/${enc('nginx:bob')}`;
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(a)}${bob}`, { body: { type: 'friend' } })).status,
    ).toBe(201);
    expect((await svc.request('GET', `/api/2/things/${enc(a)}`, { auth: 'bob:bob' })).status).toBe(200);
    expect((await svc.request('GET', `/api/2/things/${enc(b)}`, { auth: 'bob:bob' })).status).toBe(404);
    // b now has the same entries as a; c keeps the original ones.
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(b)}${bob}`, { body: { type: 'friend' } })).status,
    ).toBe(201);
    expect((await svc.request('DELETE', `/api/2/policies/${enc(a)}${bob}`)).status).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(a)}`, { auth: 'bob:bob' })).status).toBe(404);
    expect((await svc.request('GET', `/api/2/things/${enc(b)}`, { auth: 'bob:bob' })).status).toBe(200);
    expect((await svc.request('GET', `/api/2/things/${enc(c)}`, { auth: 'bob:bob' })).status).toBe(404);
  });

  it('keeps the policy of a deleted thing', async () => {
    const thingId = newId();
    await svc.request('PUT', `/api/2/things/${enc(thingId)}`, { body: {} });
    expect((await svc.request('DELETE', `/api/2/things/${enc(thingId)}`)).status).toBe(204);
    expect((await svc.request('GET', `/api/2/policies/${enc(thingId)}`)).status).toBe(200);
  });

  it('makes a thing unreadable once its policy is deleted', async () => {
    const thingId = newId();
    await svc.request('PUT', `/api/2/things/${enc(thingId)}`, { body: {} });
    expect((await svc.request('DELETE', `/api/2/policies/${enc(thingId)}`)).status).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(thingId)}`)).status).toBe(404);
  });

  it('applies imported entries and their changes at once', async () => {
    const imported = await createPolicy({
      entries: {
        owner: policyBody.entries.owner,
        guests: {
          subjects: { 'nginx:bob': { type: 'guest' } },
          resources: { 'thing:/attributes': { grant: ['READ'], revoke: [] } },
        },
      },
    });
    const policyId = await createPolicy({
      imports: { [imported]: {} },
      entries: { owner: policyBody.entries.owner },
    });
    const thingId = newId();
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(thingId)}`, {
          body: { policyId, attributes: { a: 1 }, features: { f: {} } },
        })
      ).status,
    ).toBe(201);
    expect((await svc.request('GET', `/api/2/things/${enc(thingId)}`, { auth: 'bob:bob' })).json).toEqual({
      thingId,
      attributes: { a: 1 },
    });
    expect((await svc.request('DELETE', `/api/2/policies/${enc(imported)}/entries/guests`)).status).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(thingId)}`, { auth: 'bob:bob' })).status).toBe(404);
  });

  it('does not publish policy changes as thing events; it journals them as policy events for history', async () => {
    const thingEvents: unknown[] = [];
    const policyEvents: unknown[] = [];
    const unsubscribe = svc.services.bus.subscribeThingEvents((p) => thingEvents.push(p));
    const seqBefore = svc.services.store.lastSeq();
    const id = await createPolicy();
    await svc.request('PUT', `/api/2/policies/${enc(id)}/entries/x`, { body: policyBody.entries.readers });
    unsubscribe();
    for await (const entry of svc.services.store.readJournal(seqBefore)) policyEvents.push(entry.event);
    expect(thingEvents).toEqual([]);
    expect(policyEvents).toMatchObject([
      { event: { policyId: id, action: 'created', path: '/', revision: 1 } },
      {
        event: {
          policyId: id,
          action: 'created',
          path: '/entries/x',
          value: policyBody.entries.readers,
          revision: 2,
        },
      },
    ]);
  });
});

describe('things with policies (§1.2)', () => {
  const thingUrl = (id: string) => `/api/2/things/${enc(id)}`;

  it('creates a thing with an inline _policy, replacing {{ request:subjectId }}', async () => {
    const thingId = newId();
    const _policy = {
      entries: {
        me: {
          subjects: { '{{ request:subjectId }}': { type: 'creator' } },
          resources: { 'thing:/': RW, 'policy:/': RW },
        },
      },
    };
    expect(
      (await svc.request('PUT', thingUrl(thingId), { body: { _policy, attributes: { a: 1 } } })).status,
    ).toBe(201);
    const policy = await svc.request('GET', `/api/2/policies/${enc(thingId)}`);
    expect(policy.json.entries.me.subjects).toEqual({ 'nginx:ditto': { type: 'creator' } });
  });

  it('copies a policy by ID and by {{ ref:things/<thingId>/policyId }}', async () => {
    const source = await createPolicy();
    const first = newId();
    expect((await svc.request('PUT', thingUrl(first), { body: { _copyPolicyFrom: source } })).status).toBe(
      201,
    );
    expect((await svc.request('GET', `/api/2/policies/${enc(first)}`)).json).toEqual({
      policyId: first,
      ...policyBody,
    });
    const second = newId();
    const res = await svc.request('PUT', thingUrl(second), {
      body: { _copyPolicyFrom: `{{ ref:things/${first}/policyId }}` },
    });
    expect(res.status).toBe(201);
    expect(res.json.policyId).toBe(second);
    expect((await svc.request('GET', `/api/2/policies/${enc(second)}`)).json).toEqual({
      policyId: second,
      ...policyBody,
    });
  });

  it('refuses {{ ref:things/… }} to a thing the requester cannot read with 400 things:thing.notcreatable', async () => {
    const hidden = newId();
    await svc.request('PUT', thingUrl(hidden), { body: {} });
    const res = await svc.request('PUT', thingUrl(newId()), {
      auth: 'bob:bob',
      body: { _copyPolicyFrom: `{{ ref:things/${hidden}/policyId }}` },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('things:thing.notcreatable');
  });

  it('returns the policy with ?fields=_policy only to a caller with READ on policy:/, exempt from ETag checks', async () => {
    const policyId = await createPolicy({
      entries: {
        ...policyBody.entries,
        thingReaders: {
          subjects: { 'nginx:bob': { type: 'r' } },
          resources: { 'thing:/': { grant: ['READ'], revoke: [] } },
        },
      },
    });
    const thingId = newId();
    await svc.request('PUT', thingUrl(thingId), { body: { policyId, attributes: { a: 1 } } });
    const owner = await svc.request('GET', `${thingUrl(thingId)}?fields=thingId,_policy`, {
      headers: { 'if-none-match': '"rev:1"' },
    });
    expect(owner.status).toBe(200);
    expect(owner.json.thingId).toBe(thingId);
    expect(owner.json._policy.policyId).toBe(policyId);
    expect(Object.keys(owner.json._policy.entries).sort()).toEqual(['owner', 'readers', 'thingReaders']);
    const alice = await svc.request('GET', `${thingUrl(thingId)}?fields=_policy,attributes`, {
      auth: 'alice:alice',
    });
    expect(alice.json).toEqual({
      attributes: { a: 1 },
      _policy: { policyId, entries: { readers: policyBody.entries.readers } },
    });
    const bob = await svc.request('GET', `${thingUrl(thingId)}?fields=_policy,attributes`, {
      auth: 'bob:bob',
    });
    expect(bob.json).toEqual({ attributes: { a: 1 } });
    expect(
      (await svc.request('GET', thingUrl(thingId), { headers: { 'if-none-match': '"rev:1"' } })).status,
    ).toBe(304);
  });

  it('changes policyId only with WRITE on thing:/policyId, and only to an existing policy', async () => {
    const policyId = await createPolicy({
      entries: {
        ...policyBody.entries,
        writers: {
          subjects: { 'nginx:bob': { type: 'w' } },
          resources: { 'thing:/': RW, 'thing:/policyId': { grant: [], revoke: ['WRITE'] } },
        },
      },
    });
    const other = await createPolicy();
    const thingId = newId();
    await svc.request('PUT', thingUrl(thingId), { body: { policyId } });
    const denied = await svc.request('PUT', `${thingUrl(thingId)}/policyId`, {
      auth: 'bob:bob',
      body: other,
    });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toBe('things:policyId.notmodifiable');
    expect(
      (await svc.request('PATCH', thingUrl(thingId), { auth: 'bob:bob', body: { policyId: other } })).status,
    ).toBe(403);
    expect(
      (await svc.request('PUT', `${thingUrl(thingId)}/attributes/x`, { auth: 'bob:bob', body: 1 })).status,
    ).toBe(201);
    const missing = await svc.request('PUT', `${thingUrl(thingId)}/policyId`, { body: 'ns:does-not-exist' });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('policies:policy.notfound');
    expect((await svc.request('PUT', `${thingUrl(thingId)}/policyId`, { body: other })).status).toBe(204);
    expect((await svc.request('GET', `${thingUrl(thingId)}/policyId`)).json).toBe(other);
  });
});
