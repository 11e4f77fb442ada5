/**
 * Basic users, `x-ditto-pre-authenticated` from trusted and untrusted peers (ditto-interfaces.md §8), the
 * devops realm, and the whoami / checkPermissions endpoints (§2.10).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';

let untrusted: TestService;
let trusted: TestService;
beforeAll(async () => {
  untrusted = await startTestService({ TWINBRIDGE_USERS: 'ditto:ditto,alice:s3cret-pw' });
  trusted = await startTestService({ TWINBRIDGE_TRUSTED_PROXIES: '127.0.0.1' });
});
afterAll(async () => {
  await untrusted?.close();
  await trusted?.close();
});

const enc = encodeURIComponent;

describe('basic authentication', () => {
  it('acts as nginx:<user>', async () => {
    const res = await untrusted.request('GET', '/api/2/whoami', { auth: 'alice:s3cret-pw' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ defaultSubject: 'nginx:alice', subjects: ['nginx:alice'] });
  });

  it('refuses missing and wrong credentials with 401 gateway:authentication.failed, never echoing the password', async () => {
    const missing = await untrusted.request('GET', '/api/2/whoami', { auth: null });
    expect(missing.status).toBe(401);
    expect(missing.json.error).toBe('gateway:authentication.failed');
    const wrong = await untrusted.request('GET', '/api/2/whoami', { auth: 'alice:wrong-password-xyz' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('wrong-password-xyz');
    expect(wrong.text).not.toContain('s3cret-pw');
  });

  it('does not let the devops user use the things or policies API', async () => {
    const res = await untrusted.request('GET', '/api/2/whoami', { auth: 'devops:foobar' });
    expect(res.status).toBe(401);
    const put = await untrusted.request('PUT', `/api/2/policies/${enc('ns:devops-try')}`, {
      auth: 'devops:foobar',
      body: { entries: {} },
    });
    expect(put.status).toBe(401);
  });
});

describe('x-ditto-pre-authenticated', () => {
  it('is ignored from an untrusted peer: without other credentials 401', async () => {
    const res = await untrusted.request('GET', '/api/2/whoami', {
      auth: null,
      headers: { 'x-ditto-pre-authenticated': 'nginx:ditto' },
    });
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('gateway:authentication.failed');
  });

  it('is ignored from an untrusted peer: basic credentials decide the subject', async () => {
    const res = await untrusted.request('GET', '/api/2/whoami', {
      auth: 'alice:s3cret-pw',
      headers: { 'x-ditto-pre-authenticated': 'nginx:ditto' },
    });
    expect(res.json.subjects).toEqual(['nginx:alice']);
  });

  it('is the single subject when sent by a trusted proxy', async () => {
    const res = await trusted.request('GET', '/api/2/whoami', {
      auth: null,
      headers: { 'x-ditto-pre-authenticated': 'pre:tenant-reader' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ defaultSubject: 'pre:tenant-reader', subjects: ['pre:tenant-reader'] });
  });

  it('is refused with 401 when malformed, even from a trusted proxy', async () => {
    const res = await trusted.request('GET', '/api/2/whoami', {
      auth: null,
      headers: { 'x-ditto-pre-authenticated': 'no-issuer' },
    });
    expect(res.status).toBe(401);
  });

  it('acts as the given subject on things', async () => {
    const thingId = `org.eclipse.ditto:pre-${Date.now()}`;
    const as = (subject: string) => ({ auth: null, headers: { 'x-ditto-pre-authenticated': subject } });
    expect(
      (await trusted.request('PUT', `/api/2/things/${enc(thingId)}`, { ...as('pre:owner'), body: {} }))
        .status,
    ).toBe(201);
    expect((await trusted.request('GET', `/api/2/things/${enc(thingId)}`, as('pre:owner'))).status).toBe(200);
    expect((await trusted.request('GET', `/api/2/things/${enc(thingId)}`, as('pre:other'))).status).toBe(404);
  });
});

describe('checkPermissions', () => {
  it('answers per named check whether the caller holds the permissions', async () => {
    const policyId = `org.eclipse.ditto:perm-${Date.now()}`;
    const RW = { grant: ['READ', 'WRITE'], revoke: [] };
    await untrusted.request('PUT', `/api/2/policies/${enc(policyId)}`, {
      body: {
        entries: {
          owner: { subjects: { 'nginx:ditto': { type: 'o' } }, resources: { 'thing:/': RW, 'policy:/': RW } },
          reader: {
            subjects: { 'nginx:alice': { type: 'r' } },
            resources: {
              'thing:/attributes': { grant: ['READ'], revoke: [] },
              'message:/inbox': { grant: ['WRITE'], revoke: [] },
            },
          },
        },
      },
    });
    const thingId = `org.eclipse.ditto:perm-thing-${Date.now()}`;
    await untrusted.request('PUT', `/api/2/things/${enc(thingId)}`, { body: { policyId } });
    const checks = {
      readAttributes: { resource: 'thing:/attributes/x', entityId: thingId, hasPermissions: ['READ'] },
      writeAttributes: { resource: 'thing:/attributes', entityId: thingId, hasPermissions: ['WRITE'] },
      readWhole: { resource: 'thing:/', entityId: thingId, hasPermissions: ['READ'] },
      sendMessage: {
        resource: 'message:/inbox/messages/hello',
        entityId: thingId,
        hasPermissions: ['WRITE'],
      },
      readPolicy: { resource: 'policy:/', entityId: policyId, hasPermissions: ['READ'] },
      missingThing: { resource: 'thing:/', entityId: 'org.eclipse.ditto:nope', hasPermissions: ['READ'] },
    };
    const res = await untrusted.request('POST', '/api/2/checkPermissions', {
      auth: 'alice:s3cret-pw',
      body: checks,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      readAttributes: true,
      writeAttributes: false,
      readWhole: false,
      sendMessage: true,
      readPolicy: false,
      missingThing: false,
    });
    const owner = await untrusted.request('POST', '/api/2/checkPermissions', { body: checks });
    expect(owner.json).toMatchObject({
      readWhole: true,
      writeAttributes: true,
      readPolicy: true,
      sendMessage: false,
    });
  });

  it('rejects a malformed check with 400', async () => {
    const res = await untrusted.request('POST', '/api/2/checkPermissions', {
      body: { x: { resource: 'thing:/', entityId: 'a:b', hasPermissions: ['FLY'] } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('json.format.invalid');
  });
});
