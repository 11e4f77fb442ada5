/**
 * The things HTTP API v2 over a real socket: every resource level of ditto-interfaces.md §2.5, the
 * conditional-request and error rules, and §14 items 1, 4, 5, 6 and 15.
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
const newId = (prefix = 'org.eclipse.ditto') => `${prefix}:thing-${++n}-${Date.now()}`;
const enc = encodeURIComponent;

const thingBody = {
  definition: 'org.eclipse.ditto:fancy:1.0.0',
  attributes: { manufacturer: 'ACME', location: { city: 'Berlin', zip: '10115' } },
  features: {
    lamp: {
      definition: ['org.eclipse.ditto:lamp:1.0.0'],
      properties: { on: false, color: { r: 0, g: 0, b: 0 } },
      desiredProperties: { on: true },
    },
  },
};

async function createThing(body: unknown = thingBody): Promise<string> {
  const id = newId();
  const res = await svc.request('PUT', `/api/2/things/${enc(id)}`, { body });
  expect(res.status).toBe(201);
  return id;
}

describe('a thing', () => {
  it('is created by PUT with 201, its body, Location and ETag "rev:1"', async () => {
    const id = newId();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: thingBody });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"rev:1"');
    expect(res.headers.get('location')).toBe(`/api/2/things/${enc(id)}`);
    expect(res.json).toEqual({ thingId: id, policyId: id, ...thingBody });
  });

  it('is replaced by PUT with 204 and the next revision as ETag', async () => {
    const id = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { attributes: { a: 1 } } });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('etag')).toBe('"rev:2"');
    const get = await svc.request('GET', `/api/2/things/${enc(id)}`);
    expect(get.json).toEqual({ thingId: id, policyId: id, attributes: { a: 1 } });
  });

  it('is read back with GET, 200 and ETag', async () => {
    const id = await createThing();
    const res = await svc.request('GET', `/api/2/things/${enc(id)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"rev:1"');
    expect(res.json.attributes).toEqual(thingBody.attributes);
  });

  it('is created by POST with a generated name in the default or given namespace', async () => {
    const res = await svc.request('POST', '/api/2/things', { body: { attributes: { x: 1 } } });
    expect(res.status).toBe(201);
    expect(res.json.thingId).toMatch(/^org\.eclipse\.ditto:[0-9a-f-]{36}$/);
    expect(res.headers.get('location')).toBe(`/api/2/things/${enc(res.json.thingId)}`);
    const custom = await svc.request('POST', '/api/2/things?namespace=com.acme', { body: {} });
    expect(custom.status).toBe(201);
    expect(custom.json.thingId).toMatch(/^com\.acme:/);
  });

  it('refuses a POST body carrying a thingId and an invalid namespace', async () => {
    const res = await svc.request('POST', '/api/2/things', { body: { thingId: 'a:b' } });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('things:id.notsettable');
    const bad = await svc.request('POST', '/api/2/things?namespace=1bad', { body: {} });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('things:id.invalid');
  });

  it('refuses a PUT whose body thingId differs from the path', async () => {
    const res = await svc.request('PUT', `/api/2/things/${enc(newId())}`, { body: { thingId: 'other:id' } });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('things:id.notsettable');
  });

  it('is created by PATCH when missing (201) and merged when present (204)', async () => {
    const id = newId();
    const created = await svc.request('PATCH', `/api/2/things/${enc(id)}`, {
      body: { attributes: { a: 1, gone: null } },
    });
    expect(created.status).toBe(201);
    expect(created.json.attributes).toEqual({ a: 1 });
    const merged = await svc.request('PATCH', `/api/2/things/${enc(id)}`, { body: { attributes: { b: 2 } } });
    expect(merged.status).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes`)).json).toEqual({ a: 1, b: 2 });
  });

  it('is deleted with 204, then 404 things:thing.notfound', async () => {
    const id = await createThing();
    expect((await svc.request('DELETE', `/api/2/things/${enc(id)}`)).status).toBe(204);
    const res = await svc.request('GET', `/api/2/things/${enc(id)}`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ status: 404, error: 'things:thing.notfound' });
    expect((await svc.request('DELETE', `/api/2/things/${enc(id)}`)).status).toBe(404);
  });

  it('continues its revision when re-created after deletion, and keeps its policy (§14.15)', async () => {
    const id = await createThing();
    await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/x`, { body: 1 });
    await svc.request('DELETE', `/api/2/things/${enc(id)}`);
    const again = await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: { attributes: {} } });
    expect(again.status).toBe(201);
    expect(again.headers.get('etag')).toBe('"rev:4"');
    expect(again.json.policyId).toBe(id);
  });
});

describe('thing IDs (§14.1)', () => {
  it('splits at the first colon and allows an empty namespace and colons in the name', async () => {
    for (const id of [
      ':just-a-name',
      'ns:name:with:colons',
      ':::',
      'com.some-domain:x',
      'foo.bar_42:a b%+',
      'ns:名前',
    ]) {
      const res = await svc.request('PUT', `/api/2/things/${enc(id)}`, { body: {} });
      expect(res.status, id).toBe(201);
      expect(res.json.thingId).toBe(id);
    }
  });

  it('rejects invalid namespaces and names with 400 things:id.invalid', async () => {
    for (const id of ['no-colon', 'foo.1bar:x', '1ns:x', 'ns:caf\u00e9', 'ns:', `ns:${'x'.repeat(254)}`]) {
      const res = await svc.request('GET', `/api/2/things/${enc(id)}`);
      expect(res.status, id).toBe(400);
      expect(res.json.error, id).toBe('things:id.invalid');
    }
  });
});

describe('sub-resources (§2.5)', () => {
  const levels: Array<[string, unknown, unknown]> = [
    ['policyId', undefined, undefined],
    ['definition', 'org.eclipse.ditto:fancy:1.0.0', 'com.acme:other:2.0.0'],
    ['attributes', thingBody.attributes, { fresh: true }],
    ['attributes/location', thingBody.attributes.location, { city: 'Rome' }],
    ['attributes/location/city', 'Berlin', 'Paris'],
    ['features', thingBody.features, { other: { properties: { x: 1 } } }],
    ['features/lamp', thingBody.features.lamp, { properties: { on: true } }],
    ['features/lamp/definition', thingBody.features.lamp.definition, ['com.acme:lamp:2.0.0']],
    ['features/lamp/properties', thingBody.features.lamp.properties, { on: true }],
    ['features/lamp/properties/color/r', 0, 255],
    ['features/lamp/desiredProperties', thingBody.features.lamp.desiredProperties, { on: false }],
    ['features/lamp/desiredProperties/on', true, false],
  ];

  for (const [path, current, replacement] of levels) {
    it(`GET and PUT /${path} return the value and replace it`, async () => {
      const id = await createThing();
      const get = await svc.request('GET', `/api/2/things/${enc(id)}/${path}`);
      expect(get.status).toBe(200);
      expect(get.json).toEqual(path === 'policyId' ? id : current);
      expect(get.headers.get('etag')).toMatch(/^"hash:[0-9a-f]+"$/);
      if (replacement === undefined) return;
      const put = await svc.request('PUT', `/api/2/things/${enc(id)}/${path}`, { body: replacement });
      expect(put.status).toBe(204);
      expect((await svc.request('GET', `/api/2/things/${enc(id)}/${path}`)).json).toEqual(replacement);
    });
  }

  it('creates a missing attribute or property with 201, its value and Location', async () => {
    const id = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}/features/lamp/properties/brightness`, {
      body: 80,
    });
    expect(res.status).toBe(201);
    expect(res.json).toBe(80);
    expect(res.headers.get('location')).toBe(`/api/2/things/${enc(id)}/features/lamp/properties/brightness`);
    const attr = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/deep/new/path`, { body: 'x' });
    expect(attr.status).toBe(201);
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes/deep`)).json).toEqual({
      new: { path: 'x' },
    });
  });

  it('creates a feature by PUT and a feature property of a missing feature is 404 feature.notfound', async () => {
    const id = await createThing();
    expect((await svc.request('PUT', `/api/2/things/${enc(id)}/features/fresh`, { body: {} })).status).toBe(
      201,
    );
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}/features/missing/properties/x`, {
      body: 1,
    });
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('things:feature.notfound');
  });

  it('answers the not-found code of each level', async () => {
    const id = await createThing({ policyId: undefined });
    const cases: Array<[string, string]> = [
      ['definition', 'things:definition.notfound'],
      ['attributes', 'things:attributes.notfound'],
      ['attributes/nope', 'things:attribute.notfound'],
      ['features', 'things:features.notfound'],
      ['features/nope', 'things:feature.notfound'],
    ];
    for (const [path, code] of cases) {
      const res = await svc.request('GET', `/api/2/things/${enc(id)}/${path}`);
      expect(res.status, path).toBe(404);
      expect(res.json.error, path).toBe(code);
    }
    const withFeature = await createThing({ features: { f: {} } });
    for (const [path, code] of [
      ['features/f/definition', 'things:feature.definition.notfound'],
      ['features/f/properties', 'things:feature.properties.notfound'],
      ['features/f/properties/p', 'things:feature.property.notfound'],
      ['features/f/desiredProperties', 'things:feature.desiredProperties.notfound'],
      ['features/f/desiredProperties/p', 'things:feature.desiredProperty.notfound'],
    ]) {
      const res = await svc.request('GET', `/api/2/things/${enc(withFeature)}/${path}`);
      expect(res.status, path).toBe(404);
      expect(res.json.error, path).toBe(code);
    }
  });

  it('deletes each deletable level with 204 and refuses to delete the policyId', async () => {
    const id = await createThing();
    for (const path of [
      'features/lamp/desiredProperties/on',
      'features/lamp/desiredProperties',
      'features/lamp/properties/color/r',
      'features/lamp/properties',
      'features/lamp/definition',
      'attributes/location/city',
      'attributes',
      'definition',
      'features/lamp',
      'features',
    ]) {
      const res = await svc.request('DELETE', `/api/2/things/${enc(id)}/${path}`);
      expect(res.status, path).toBe(204);
      expect((await svc.request('GET', `/api/2/things/${enc(id)}/${path}`)).status, path).toBe(404);
    }
    const res = await svc.request('DELETE', `/api/2/things/${enc(id)}/policyId`);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('things:policyId.notdeletable');
    expect((await svc.request('GET', `/api/2/things/${enc(id)}`)).json).toEqual({
      thingId: id,
      policyId: id,
    });
  });

  it('never creates the thing from a sub-resource write (§14.4)', async () => {
    const id = newId();
    for (const method of ['PUT', 'PATCH']) {
      const res = await svc.request(method, `/api/2/things/${enc(id)}/attributes/a`, { body: 1 });
      expect(res.status).toBe(404);
      expect(res.json.error).toBe('things:thing.notfound');
    }
    expect((await svc.request('DELETE', `/api/2/things/${enc(id)}/attributes`)).status).toBe(404);
  });

  it('validates values per level', async () => {
    const id = await createThing();
    const cases: Array<[string, unknown, string]> = [
      ['attributes', [1, 2], 'json.format.invalid'],
      ['features/lamp/definition', [], 'things:feature.definition.empty'],
      ['features/lamp/definition', ['not an id'], 'things:feature.definition.identifier.invalid'],
      ['definition', 'nope', 'things:definition.identifier.invalid'],
      ['attributes', { 'a/b': 1 }, 'json.key.invalid'],
      ['features/lamp/properties', { ok: { 'bad\u0001key': 1 } }, 'json.key.invalid'],
      ['features/*', {}, 'json.key.invalid'],
      ['policyId', 'not a policy id', 'json.format.invalid'],
    ];
    for (const [path, value, code] of cases) {
      const res = await svc.request('PUT', `/api/2/things/${enc(id)}/${path}`, { body: value });
      expect(res.status, path).toBe(400);
      expect(res.json.error, `${path} ${JSON.stringify(value)}`).toBe(code);
    }
  });

  it('refuses a policyId that names no existing policy', async () => {
    const id = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}/policyId`, {
      body: 'org.eclipse.ditto:no-such-policy',
    });
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('policies:policy.notfound');
  });

  it('moves a thing to another existing policy', async () => {
    const first = await createThing();
    const second = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(second)}/policyId`, { body: first });
    expect(res.status).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(second)}/policyId`)).json).toBe(first);
  });
});

describe('merge patch (§2.4, §14.6)', () => {
  it('deletes with null, merges objects, replaces arrays and applies regex deletion', async () => {
    const id = await createThing({
      attributes: { keep: 1, drop: 2, list: [1, 2, 3], nested: { a: 1, b: 2 }, 'tmp-1': 1, 'tmp-2': 2 },
    });
    const res = await svc.request('PATCH', `/api/2/things/${enc(id)}/attributes`, {
      body: { drop: null, list: [9], nested: { b: null, c: 3 }, '{{ ~tmp-.*~ }}': null, added: true },
    });
    expect(res.status).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes`)).json).toEqual({
      keep: 1,
      list: [9],
      nested: { a: 1, c: 3 },
      added: true,
    });
  });

  it('merges at a leaf and deletes a leaf with a null patch', async () => {
    const id = await createThing();
    expect(
      (await svc.request('PATCH', `/api/2/things/${enc(id)}/features/lamp/properties/on`, { body: true }))
        .status,
    ).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/features/lamp/properties/on`)).json).toBe(
      true,
    );
    expect(
      (await svc.request('PATCH', `/api/2/things/${enc(id)}/attributes/manufacturer`, { body: null })).status,
    ).toBe(204);
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes/manufacturer`)).status).toBe(404);
  });

  it('requires application/merge-patch+json (415 mediatype.unsupported otherwise)', async () => {
    const id = await createThing();
    const res = await svc.request('PATCH', `/api/2/things/${enc(id)}/attributes`, {
      body: { a: 1 },
      contentType: 'application/json',
    });
    expect(res.status).toBe(415);
    expect(res.json.error).toBe('mediatype.unsupported');
  });

  it('publishes a merged event whose value is the patch, with the merge-patch content type', async () => {
    const id = await createThing();
    const events: any[] = [];
    const off = svc.services.bus.subscribeThingEvents((p) => p.event.thingId === id && events.push(p.event));
    // A client cannot set `ditto-originator`: Ditto sets it to the requester's first subject (§4.1).
    await svc.request('PATCH', `/api/2/things/${enc(id)}`, {
      body: { attributes: { x: null, y: 2 } },
      headers: { 'correlation-id': 'merge-1', 'ditto-originator': 'someone:else' },
    });
    off();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'merged',
      path: '/',
      value: { attributes: { x: null, y: 2 } },
      revision: 2,
    });
    expect(events[0].headers).toEqual({
      'correlation-id': 'merge-1',
      'content-type': 'application/merge-patch+json',
      'ditto-originator': 'nginx:ditto',
    });
    expect(Date.parse(events[0].timestamp)).not.toBeNaN();
  });
});

describe('if-equal (§2.2)', () => {
  const revision = async (id: string) =>
    (await svc.request('GET', `/api/2/things/${enc(id)}?fields=_revision`)).json._revision as number;

  it('skips a write that would change nothing with 412, no new revision and no event; updates by default', async () => {
    const id = await createThing({ attributes: { a: 1, nested: { x: 1, y: [1, 2] } } });
    const events: any[] = [];
    const off = svc.services.bus.subscribeThingEvents((p) => p.event.thingId === id && events.push(p.event));
    const same = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/nested`, {
      body: { y: [1, 2], x: 1 },
      headers: { 'if-equal': 'skip' },
    });
    expect(same.status).toBe(412);
    expect(same.json.error).toBe('things:precondition.failed');
    const samePatch = await svc.request('PATCH', `/api/2/things/${enc(id)}`, {
      body: { attributes: { a: 1 } },
      contentType: 'application/merge-patch+json',
      headers: { 'if-equal': 'skip' },
    });
    expect(samePatch.status).toBe(412);
    const wholeThing = (await svc.request('GET', `/api/2/things/${enc(id)}`)).json;
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(id)}`, {
          body: wholeThing,
          headers: { 'if-equal': 'skip' },
        })
      ).status,
    ).toBe(412);
    expect(await revision(id)).toBe(1);
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/a`, {
          body: 2,
          headers: { 'if-equal': 'skip' },
        })
      ).status,
    ).toBe(204);
    expect((await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/a`, { body: 2 })).status).toBe(204);
    off();
    expect(await revision(id)).toBe(3);
    expect(events.map((e) => e.revision)).toEqual([2, 3]);
  });

  it('skip-minimizing-merge publishes only the members a merge changes', async () => {
    const id = await createThing({ attributes: { a: 1, b: 2, nested: { x: 1 } } });
    const events: any[] = [];
    const off = svc.services.bus.subscribeThingEvents((p) => p.event.thingId === id && events.push(p.event));
    const patch = { attributes: { a: 1, b: 3, nested: { x: 1, z: 9 }, gone: null } };
    const res = await svc.request('PATCH', `/api/2/things/${enc(id)}`, {
      body: patch,
      contentType: 'application/merge-patch+json',
      headers: { 'if-equal': 'skip-minimizing-merge' },
    });
    off();
    expect(res.status).toBe(204);
    expect(events).toHaveLength(1);
    expect(events[0].value).toEqual({ attributes: { b: 3, nested: { z: 9 } } });
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes`)).json).toEqual({
      a: 1,
      b: 3,
      nested: { x: 1, z: 9 },
    });
  });

  it('refuses an unknown if-equal value with 400 header.invalid', async () => {
    const id = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/a`, {
      body: 1,
      headers: { 'if-equal': 'maybe' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('header.invalid');
  });
});

describe('ETags and conditional requests (§2.2, §14.5)', () => {
  it('answers 304 to a GET whose If-None-Match matches the current ETag, 200 otherwise', async () => {
    const id = await createThing();
    const res = await svc.request('GET', `/api/2/things/${enc(id)}`, {
      headers: { 'if-none-match': '"rev:1"' },
    });
    expect(res.status).toBe(304);
    expect(res.text).toBe('');
    expect(res.headers.get('etag')).toBe('"rev:1"');
    expect(
      (await svc.request('GET', `/api/2/things/${enc(id)}`, { headers: { 'if-none-match': '"rev:7"' } }))
        .status,
    ).toBe(200);
    const sub = await svc.request('GET', `/api/2/things/${enc(id)}/attributes`);
    const again = await svc.request('GET', `/api/2/things/${enc(id)}/attributes`, {
      headers: { 'if-none-match': sub.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });

  it('answers 412 to a write whose If-None-Match matches (If-None-Match: * is create-only)', async () => {
    const id = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}`, {
      body: {},
      headers: { 'if-none-match': '*' },
    });
    expect(res.status).toBe(412);
    expect(res.json.error).toBe('things:precondition.failed');
    const fresh = newId();
    expect(
      (
        await svc.request('PUT', `/api/2/things/${enc(fresh)}`, {
          body: {},
          headers: { 'if-none-match': '*' },
        })
      ).status,
    ).toBe(201);
  });

  it('applies a write only when If-Match names the current ETag', async () => {
    const id = await createThing();
    const stale = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/a`, {
      body: 1,
      headers: { 'if-match': '"rev:0"' },
    });
    expect(stale.status).toBe(412);
    const thingOk = await svc.request('PUT', `/api/2/things/${enc(id)}`, {
      body: {},
      headers: { 'if-match': '"rev:1"' },
    });
    expect(thingOk.status).toBe(204);
    const sub = await svc.request('GET', `/api/2/things/${enc(id)}/policyId`);
    const subOk = await svc.request('PUT', `/api/2/things/${enc(id)}/policyId`, {
      body: id,
      headers: { 'if-match': sub.headers.get('etag')! },
    });
    expect(subOk.status).toBe(204);
  });

  it('answers 412 (not 404) to If-Match: * on a missing thing', async () => {
    const res = await svc.request('PUT', `/api/2/things/${enc(newId())}`, {
      body: {},
      headers: { 'if-match': '*' },
    });
    expect(res.status).toBe(412);
    expect(res.json.error).toBe('things:precondition.failed');
  });
});

describe('field selectors (§2.3)', () => {
  it('selects pointers, groups and the features/* wildcard, omitting missing paths', async () => {
    const id = await createThing({
      attributes: { a: 1, b: { c: 2, d: 3 } },
      features: { f1: { properties: { on: true, x: 1 } }, f2: { properties: { on: false } }, f3: {} },
    });
    const res = await svc.request(
      'GET',
      `/api/2/things/${enc(id)}?fields=thingId,attributes/b(c,nope),features/*/properties/on,missing`,
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      thingId: id,
      attributes: { b: { c: 2 } },
      features: { f1: { properties: { on: true } }, f2: { properties: { on: false } } },
    });
  });

  it('brings out the special fields only when selected', async () => {
    const id = await createThing();
    const plain = await svc.request('GET', `/api/2/things/${enc(id)}`);
    expect(Object.keys(plain.json).sort()).toEqual([
      'attributes',
      'definition',
      'features',
      'policyId',
      'thingId',
    ]);
    const res = await svc.request(
      'GET',
      `/api/2/things/${enc(id)}?fields=_revision,_created,_modified,_namespace,thingId`,
    );
    expect(res.json).toMatchObject({ thingId: id, _revision: 1, _namespace: 'org.eclipse.ditto' });
    expect(Date.parse(res.json._created)).not.toBeNaN();
    expect(res.json._modified).toBe(res.json._created);
  });

  it('rejects an invalid selector with 400 json.fieldselector.invalid', async () => {
    const id = await createThing();
    const res = await svc.request('GET', `/api/2/things/${enc(id)}?fields=attributes(a`);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('json.fieldselector.invalid');
  });
});

describe('GET /api/2/things?ids=', () => {
  it('returns the things in request order, omitting missing ones', async () => {
    const a = await createThing();
    const b = await createThing();
    const res = await svc.request(
      'GET',
      `/api/2/things?ids=${enc(b)},${enc(newId())},${enc(a)}&fields=thingId`,
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual([{ thingId: b }, { thingId: a }]);
  });
});

describe('headers', () => {
  it('echoes correlation-id or generates one', async () => {
    const id = await createThing();
    expect(
      (
        await svc.request('GET', `/api/2/things/${enc(id)}`, { headers: { 'correlation-id': 'abc' } })
      ).headers.get('correlation-id'),
    ).toBe('abc');
    expect((await svc.request('GET', `/api/2/things/${enc(id)}`)).headers.get('correlation-id')).toMatch(
      /^[0-9a-f-]{36}$/,
    );
    expect(
      (await svc.request('GET', `/api/2/things/${enc(id)}?correlation-id=q`)).headers.get('correlation-id'),
    ).toBe('q');
  });

  it('answers 202 with no body for response-required=false and timeout=0, yet applies the write', async () => {
    const id = await createThing();
    const res = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/x?response-required=false`, {
      body: 5,
    });
    expect(res.status).toBe(202);
    expect(res.text).toBe('');
    const zero = await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/y`, {
      body: 6,
      headers: { timeout: '0' },
    });
    expect(zero.status).toBe(202);
    expect((await svc.request('GET', `/api/2/things/${enc(id)}/attributes`)).json).toMatchObject({
      x: 5,
      y: 6,
    });
  });

  it('surfaces errors of a fire-and-forget request', async () => {
    const res = await svc.request(
      'PUT',
      `/api/2/things/${enc(newId())}/attributes/x?response-required=false`,
      { body: 5 },
    );
    expect(res.status).toBe(404);
  });

  it('rejects a timeout above 60 s or malformed with 400 timeout.invalid', async () => {
    const id = await createThing();
    for (const t of ['61s', '2m', 'soon']) {
      const res = await svc.request('GET', `/api/2/things/${enc(id)}?timeout=${t}`);
      expect(res.status, t).toBe(400);
      expect(res.json.error).toBe('timeout.invalid');
    }
    expect((await svc.request('GET', `/api/2/things/${enc(id)}?timeout=250ms`)).status).toBe(200);
  });
});

describe('errors are Ditto error JSON (§2.11)', () => {
  it('answers 401 gateway:authentication.failed without or with wrong credentials', async () => {
    for (const auth of [null, 'ditto:wrong', 'nobody:x']) {
      const res = await svc.request('GET', '/api/2/things?ids=a:b', { auth });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ status: 401, error: 'gateway:authentication.failed' });
      expect(res.headers.get('www-authenticate')).toContain('Basic');
    }
  });

  it('answers malformed JSON with 400 json.invalid and wrong media types with 415', async () => {
    const id = newId();
    const bad = await svc.request('PUT', `/api/2/things/${enc(id)}`, { raw: '{"attributes":' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ status: 400, error: 'json.invalid' });
    const text = await svc.request('PUT', `/api/2/things/${enc(id)}`, {
      raw: '{}',
      contentType: 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(text.json.error).toBe('mediatype.unsupported');
  });

  it('answers unknown routes with 404 and wrong methods with 405, as error JSON', async () => {
    const res = await svc.request('GET', '/api/2/nothing-here');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ status: 404 });
    expect(typeof res.json.error).toBe('string');
    const method = await svc.request('POST', `/api/2/things/${enc(newId())}`, { body: {} });
    expect(method.status).toBe(405);
    expect(method.json.error).toBe('gateway:method.notallowed');
    const path = await svc.request('GET', `/api/2/things/${enc(newId())}/nonsense`);
    expect(path.status).toBe(404);
  });

  it('answers a thing over the size limit with 413 things:thing.toolarge', async () => {
    const res = await svc.request('PUT', `/api/2/things/${enc(newId())}`, {
      body: { attributes: { big: 'x'.repeat(110 * 1024) } },
    });
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('things:thing.toolarge');
    const huge = await svc.request('PUT', `/api/2/things/${enc(newId())}`, {
      raw: JSON.stringify({ attributes: { big: 'x'.repeat(1100 * 1024) } }),
    });
    expect(huge.status).toBe(413);
    expect(huge.json.status).toBe(413);
  });

  it('keeps the policy when a thing is deleted and lets another user not see it', async () => {
    const id = await createThing();
    expect((await svc.request('GET', `/api/2/things/${enc(id)}`, { auth: 'alice:alice' })).status).toBe(404);
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(id)}/attributes/x`, { body: 1, auth: 'alice:alice' }))
        .status,
    ).toBe(404);
  });
});
