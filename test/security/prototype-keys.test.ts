/**
 * Issue 19 item 13: keys a client chooses (policy labels, attributes, features, properties, check names,
 * headers, connection fields) never land on an object's prototype. `__proto__` as a policy label is
 * refused with 400 policies:label.invalid; everywhere else it round-trips as data, and names of
 * Object.prototype (`constructor`, `toString`) are ordinary keys that exist only when written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs } from '../ws/client.js';
import { DEVOPS } from '../connectivity/helpers.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.close();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const all = { grant: ['READ', 'WRITE'], revoke: [] };
const entry = { subjects: { 'nginx:ditto': { type: 't' } }, resources: { 'policy:/': all, 'thing:/': all } };

describe('policy labels', () => {
  it('refuses __proto__ as a label with 400 policies:label.invalid, in a policy and as an entry, storing nothing', async () => {
    const id = 'org.eclipse.ditto:proto-policy';
    const body = `{"entries":{"__proto__":${JSON.stringify(entry)},"OWNER":${JSON.stringify(entry)}}}`;
    const refused = await svc.request('PUT', `/api/2/policies/${id}`, { raw: body });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toBe('policies:label.invalid');
    expect((await svc.request('GET', `/api/2/policies/${id}`)).status).toBe(404);

    expect(
      (await svc.request('PUT', `/api/2/policies/${id}`, { body: { entries: { OWNER: entry } } })).status,
    ).toBe(201);
    const asEntry = await svc.request('PUT', `/api/2/policies/${id}/entries/__proto__`, { body: entry });
    expect(asEntry.status).toBe(400);
    expect(asEntry.json.error).toBe('policies:label.invalid');
    const inline = await svc.request('PUT', '/api/2/things/org.eclipse.ditto:proto-inline', {
      raw: `{"_policy":{"entries":{"__proto__":${JSON.stringify(entry)}}}}`,
    });
    expect(inline.status).toBe(400);
    expect(inline.json.error).toBe('policies:label.invalid');
    expect((await svc.request('GET', `/api/2/policies/${id}`)).json.entries).toEqual({ OWNER: entry });
    expect((await svc.request('GET', '/api/2/things/org.eclipse.ditto:proto-inline')).status).toBe(404);
  });

  it('keeps constructor and prototype as ordinary labels, absent until written', async () => {
    const id = 'org.eclipse.ditto:proto-labels';
    expect(
      (await svc.request('PUT', `/api/2/policies/${id}`, { body: { entries: { OWNER: entry } } })).status,
    ).toBe(201);
    for (const label of ['constructor', 'prototype', 'toString']) {
      const missing = await svc.request('PUT', `/api/2/policies/${id}/entries/${label}/subjects`, {
        body: entry.subjects,
      });
      expect(missing.status, label).toBe(404);
      expect(missing.json.error).toBe('policies:entry.notfound');
      expect(
        (await svc.request('PUT', `/api/2/policies/${id}/entries/${label}`, { body: entry })).status,
      ).toBe(201);
    }
    const policy = (await svc.request('GET', `/api/2/policies/${id}`)).json;
    expect(Object.keys(policy.entries)).toEqual(['OWNER', 'constructor', 'prototype', 'toString']);
  });

  it('round-trips __proto__ among the other fields of a policy', async () => {
    const id = 'org.eclipse.ditto:proto-fields';
    const raw = `{"entries":{"OWNER":{"subjects":{"nginx:ditto":{"type":"t","__proto__":{"a":1}}},"resources":{"policy:/":{"grant":["READ","WRITE"],"revoke":[]}}}},"__proto__":{"b":2}}`;
    expect((await svc.request('PUT', `/api/2/policies/${id}`, { raw })).status).toBe(201);
    const text = (await svc.request('GET', `/api/2/policies/${id}`)).text;
    expect(JSON.parse(text)).toEqual(JSON.parse(`{"policyId":"${id}",${raw.slice(1)}`));
  });
});

describe('thing keys', () => {
  const id = 'org.eclipse.ditto:proto-thing';
  const raw =
    '{"attributes":{"__proto__":{"polluted":1},"constructor":2},"features":{"__proto__":{"properties":{"__proto__":3}}}}';

  it('round-trip __proto__ over PUT, PATCH and WebSocket without polluting prototypes', async () => {
    expect((await svc.request('PUT', `/api/2/things/${id}`, { raw })).status).toBe(201);
    expect(
      (
        await svc.request('PATCH', `/api/2/things/${id}`, {
          raw: '{"attributes":{"__proto__":{"more":true}}}',
          contentType: 'application/merge-patch+json',
        })
      ).status,
    ).toBe(204);
    const ws = await connectWs(svc.url);
    try {
      const answer = await ws.request({
        topic: 'org.eclipse.ditto/proto-thing/things/twin/commands/modify',
        path: '/features/__proto__/properties/__proto__',
        value: { deep: 4 },
      });
      expect(answer.status).toBe(204);
    } finally {
      ws.socket.close();
    }
    const thing = JSON.parse((await svc.request('GET', `/api/2/things/${id}`)).text);
    expect(Object.getPrototypeOf(thing.attributes)).toBe(Object.prototype);
    expect(Object.hasOwn(thing.attributes, '__proto__')).toBe(true);
    expect(JSON.stringify(thing)).toBe(
      `{"thingId":"${id}","policyId":"${id}","attributes":{"__proto__":{"polluted":1,"more":true},"constructor":2},"features":{"__proto__":{"properties":{"__proto__":{"deep":4}}}}}`,
    );
    expect((await svc.request('GET', `/api/2/things/${id}/attributes/__proto__/polluted`)).json).toBe(1);
    expect((await svc.request('GET', `/api/2/things/${id}/attributes/toString`)).status).toBe(404);
  });

  it('round-trips __proto__ as a check name of checkPermissions', async () => {
    const check = { resource: 'thing:/', entityId: id, hasPermissions: ['READ'] };
    const res = await svc.request('POST', '/api/2/checkPermissions', {
      raw: `{"__proto__":${JSON.stringify(check)},"other":${JSON.stringify(check)}}`,
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"__proto__":true,"other":true}');
  });
});

describe('connection definitions', () => {
  const base =
    '"connectionType":"mqtt","connectionStatus":"closed","uri":"tcp://127.0.0.1:1","sources":[{"addresses":["a/#"],"qos":1,"authorizationContext":["nginx:ditto"]}]';
  it('refuses __proto__ where the schema names the fields, and round-trips it where fields are free', async () => {
    for (const raw of [`{${base},"__proto__":{}}`, `{${base},"specificConfig":{"__proto__":"x"}}`]) {
      const res = await svc.request('POST', '/api/2/connections', { raw, auth: DEVOPS });
      expect(res.status, raw).toBe(400);
      expect(res.json.error).toBe('connectivity:connection.configuration.invalid');
    }
    const created = await svc.request('POST', '/api/2/connections', {
      raw: `{${base},"credentials":{"type":"client-cert","__proto__":{"x":1}}}`,
      auth: DEVOPS,
    });
    expect(created.status).toBe(201);
    const read = await svc.request('GET', `/api/2/connections/${created.json.id}`, { auth: DEVOPS });
    expect(read.text).toContain('"credentials":{"type":"client-cert","__proto__":{"x":1}}');
  });
});
