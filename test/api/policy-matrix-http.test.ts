/**
 * The policy decision matrix (test/unit/policies/matrix.ts) through HTTP: every case about `thing:`
 * resources becomes a real policy and thing, and the case's subjects act on it over a real socket.
 *
 * Setup runs as `matrix:admin` (an extra entry `matrix-admin` owns thing:/ and policy:/; grants to another
 * subject change nothing for the case's subjects, §7.3). Callers with one subject authenticate with
 * `x-ditto-pre-authenticated` from the trusted loopback proxy; callers with several subjects (all
 * `nginx:`) with a JWT whose claim expands to them (§8). A subject without `issuer:` (not representable by
 * any authentication) is dropped: it can only ever match nothing.
 *
 * Mapping of checks to HTTP:
 * - `partial`: GET of the resource's path is 200 iff expected, else 404;
 * - `read`:    GET of the resource's path returns exactly the stored value iff expected (else 404 or a
 *              pruned value) — the thing holds data at every path the policy names, so a revoke below
 *              always removes something;
 * - `write`:   PUT of the resource's path is 2xx iff expected, else 403/404;
 * - `filter`:  the value is stored at the path and GET returns exactly the expected JSON (or 404).
 *
 * And for every case, search and event delivery show the caller exactly what GET of the whole thing shows
 * (§7.3: search results and events are filtered and pruned like reads): the search for the thing returns
 * the same pruned JSON or nothing, and a WebSocket session of the caller receives the `modified` event of
 * the whole thing with the same pruned value, or no event when GET is 404.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policies/model.js';
import { splitPath } from '../../src/policies/resource.js';
import { getAt, setAt } from '../../src/util/json-pointer.js';
import { startTestService, type TestService, type RequestOptions } from '../helpers/app.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/jwks.js';
import { MATRIX_NOW, matrix, type MatrixCase } from '../unit/policies/matrix.js';

let svc: TestService;
let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await startIdentityProvider();
  svc = await startTestService({
    TWINBRIDGE_TRUSTED_PROXIES: '127.0.0.1',
    TWINBRIDGE_OIDC_ISSUERS: JSON.stringify({
      nginx: { issuer: idp.issuer, authSubjects: ['{{ jwt:names }}'] },
    }),
  });
});
afterAll(async () => {
  await svc?.close();
  await idp?.close();
});

const ADMIN = 'matrix:admin';
const RW = { grant: ['READ', 'WRITE'], revoke: [] };
const enc = encodeURIComponent;
const run = `${Date.now()}`;

const thingCases = matrix.filter((c) =>
  c.check.kind === 'filter' ? (c.check.type ?? 'thing') === 'thing' : c.check.resource.startsWith('thing:'),
);

async function as(subjects: readonly string[]): Promise<RequestOptions> {
  const representable = subjects.filter((s) => s.indexOf(':') > 0);
  if (representable.length === 1)
    return { auth: null, headers: { 'x-ditto-pre-authenticated': representable[0] } };
  if (!representable.every((s) => s.startsWith('nginx:')))
    throw new Error(`cannot authenticate as ${subjects.join(', ')}`);
  const token = await idp.sign({ sub: 'matrix', names: representable.map((s) => s.slice('nginx:'.length)) });
  return { auth: null, headers: { authorization: `Bearer ${token}` } };
}
const admin: RequestOptions = { auth: null, headers: { 'x-ditto-pre-authenticated': ADMIN } };

/** The case's policy JSON with unique IDs, shifted expiries (1 s in the matrix = 1 h from now) and the admin entry. */
function prepare(policy: Policy, ids: Map<string, string>, caseNow: string, importable?: 'never'): Policy {
  let text = JSON.stringify(policy);
  for (const [from, to] of ids) text = text.split(JSON.stringify(from)).join(JSON.stringify(to));
  const json = JSON.parse(text) as Policy;
  for (const entry of Object.values(json.entries)) {
    for (const subject of Object.values(entry.subjects)) {
      if (subject.expiry)
        subject.expiry = new Date(
          Date.now() + (Date.parse(subject.expiry) - Date.parse(caseNow)) * 3600,
        ).toISOString();
    }
  }
  json.entries['matrix-admin'] = {
    subjects: { [ADMIN]: { type: 'test setup' } },
    resources: { 'thing:/': RW, 'policy:/': RW },
    ...(importable ? { importable } : {}),
  } as Policy['entries'][string];
  return json;
}

/** A thing with data at every thing path the policies name, at the checked path, and the case's value. */
function thingFor(c: MatrixCase, policies: Policy[]): Record<string, unknown> {
  let thing: unknown = {
    attributes: {
      location: 'kitchen',
      secret: { pin: 1234, hint: 'h' },
      public: { name: 'lamp' },
      other: 1,
      tags: ['a', 'b'],
    },
    features: {
      lamp: { properties: { on: true, brightness: 80 }, desiredProperties: { on: false } },
      meter: { properties: { power: 3.5 } },
    },
  };
  const paths = policies.flatMap((p) => Object.values(p.entries).flatMap((e) => Object.keys(e.resources)));
  if (c.check.kind !== 'filter') paths.push(c.check.resource);
  for (const key of paths) {
    if (!key.startsWith('thing:')) continue;
    const segments = splitPath(key.slice('thing:'.length));
    if (segments.length > 0 && getAt(thing, segments) === undefined)
      thing = setAt(thing, segments, filler(segments));
  }
  if (c.check.kind === 'filter') {
    const segments = splitPath(c.check.path);
    thing = segments.length === 0 ? { ...(c.check.value as object) } : setAt(thing, segments, c.check.value);
  }
  return thing as Record<string, unknown>;
}

/** A valid value for a missing path: features and their properties must be objects (§1.3). */
function filler(segments: string[]): unknown {
  if (segments[0] === 'features' && segments.length === 2) return { properties: { v: 'v' } };
  if (segments[0] === 'features' && segments.length === 3) return { v: 'v' };
  return 'v';
}

/** A WebSocket session of the caller subscribed to the events of one thing; resolves once ACKed. */
async function subscribe(
  caller: RequestOptions,
  thingId: string,
): Promise<{ events: any[]; close: () => void }> {
  const ws = new WebSocket(`${svc.url.replace('http', 'ws')}/ws/2`, { headers: caller.headers });
  const events: any[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(`START-SEND-EVENTS?filter=${enc(`eq(thingId,"${thingId}")`)}`));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === 'START-SEND-EVENTS:ACK') resolve();
      else if (text.startsWith('{')) events.push(JSON.parse(text));
    });
  });
  return { events, close: () => ws.close() };
}

/** How many cases checked search and events for a readable and for an unreadable thing. */
const exercised = { readable: 0, hidden: 0 };

/** Search and event delivery show the caller what GET of the whole thing shows (or nothing). */
async function checkSearchAndEvents(
  caller: RequestOptions,
  thingId: string,
  stored: Record<string, unknown>,
): Promise<void> {
  const get = await svc.request('GET', `/api/2/things/${enc(thingId)}`, caller);
  const visible = get.status === 200 ? get.json : undefined;
  expect([200, 404]).toContain(get.status);
  exercised[visible === undefined ? 'hidden' : 'readable']++;
  const search = await svc.request(
    'GET',
    `/api/2/search/things?filter=${enc(`eq(thingId,"${thingId}")`)}`,
    caller,
  );
  expect(search.status).toBe(200);
  expect(search.json.items).toStrictEqual(visible === undefined ? [] : [visible]);

  const session = await subscribe(caller, thingId);
  const watcher = await subscribe(admin, thingId);
  try {
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(thingId)}`, { ...admin, body: stored })).status,
    ).toBe(204);
    const deadline = Date.now() + 5000;
    while (watcher.events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(watcher.events).toHaveLength(1);
    // The caller's session got its copy in the same delivery round, if any, but over another socket: it may
    // arrive after the watcher's. Wait for it when one is due; give its socket a moment either way.
    const sessionDeadline = Date.now() + 5000;
    while (visible !== undefined && session.events.length === 0 && Date.now() < sessionDeadline)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    if (visible === undefined) {
      expect(session.events).toEqual([]);
    } else {
      expect(session.events).toHaveLength(1);
      expect(session.events[0].topic).toMatch(/\/things\/twin\/events\/modified$/);
      expect(session.events[0].value).toStrictEqual(visible);
    }
  } finally {
    session.close();
    watcher.close();
  }
}

describe('policy decision matrix through HTTP (ditto-interfaces.md §7.3, §14 items 2–3)', () => {
  it('covers the thing cases of the matrix', () => {
    expect(thingCases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(thingCases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const policyId = `matrix:policy-${run}-${i}`;
    const thingId = `matrix:thing-${run}-${i}`;
    const ids = new Map<string, string>([[c.policy.policyId, policyId]]);
    for (const id of Object.keys(c.policy.imports ?? {}))
      ids.set(id, `matrix:imported-${run}-${i}-${id.replace(/\W/g, '_')}`);
    const now = c.now ?? MATRIX_NOW;

    for (const [id, imported] of Object.entries(c.imported ?? {})) {
      const body = prepare(imported, ids, now, 'never');
      const res = await svc.request('PUT', `/api/2/policies/${enc(ids.get(id)!)}`, { ...admin, body });
      expect(res.status).toBe(201);
    }
    // ditto: §7.4 a policy can only import existing policies whose entries its writer may READ; an import of a
    // missing policy is made by importing one and deleting it afterwards.
    const missing = Object.keys(c.policy.imports ?? {}).filter((id) => c.imported?.[id] === undefined);
    for (const id of missing) {
      const body = prepare({ policyId: id, entries: {} }, ids, now, 'never');
      expect(
        (await svc.request('PUT', `/api/2/policies/${enc(ids.get(id)!)}`, { ...admin, body })).status,
      ).toBe(201);
    }
    const policy = prepare(c.policy, ids, now);
    expect(
      (await svc.request('PUT', `/api/2/policies/${enc(policyId)}`, { ...admin, body: policy })).status,
    ).toBe(201);
    for (const id of missing)
      expect((await svc.request('DELETE', `/api/2/policies/${enc(ids.get(id)!)}`, admin)).status).toBe(204);

    const thing = thingFor(c, [c.policy, ...Object.values(c.imported ?? {})]);
    const originalThingId = typeof thing.thingId === 'string' ? thing.thingId : undefined;
    const stored = { ...thing, thingId, policyId };
    expect(
      (await svc.request('PUT', `/api/2/things/${enc(thingId)}`, { ...admin, body: stored })).status,
    ).toBe(201);

    const caller = await as(c.subjects);
    await checkSearchAndEvents(caller, thingId, stored);
    const { check } = c;
    if (check.kind === 'filter') {
      const res = await svc.request(
        'GET',
        `/api/2/things/${enc(thingId)}${check.path === '/' ? '' : check.path}`,
        caller,
      );
      if (c.expected === undefined) {
        expect(res.status).toBe(404);
      } else {
        expect(res.status).toBe(200);
        let expected = c.expected as Record<string, unknown>;
        if (check.path === '/') {
          // The stored thing has this case's IDs; the expectation names the matrix's.
          expected = JSON.parse(
            JSON.stringify(expected).split(JSON.stringify(originalThingId)).join(JSON.stringify(thingId)),
          );
          if ('policyId' in expected) expected = { ...expected, policyId };
        }
        expect(res.json).toStrictEqual(expected);
      }
      return;
    }
    const segments = splitPath(check.resource.slice('thing:'.length));
    const url = `/api/2/things/${enc(thingId)}${segments.length ? '/' + segments.join('/') : ''}`;
    const value = segments.length === 0 ? stored : getAt(stored, segments);
    if (check.kind === 'partial') {
      const res = await svc.request('GET', url, caller);
      expect(res.status).toBe(c.expected ? 200 : 404);
    } else if (check.kind === 'read') {
      const res = await svc.request('GET', url, caller);
      if (c.expected) {
        expect(res.status).toBe(200);
        expect(res.json).toStrictEqual(value);
      } else if (res.status === 200) {
        expect(res.json).not.toStrictEqual(value);
      } else {
        expect(res.status).toBe(404);
      }
    } else {
      const res = await svc.request('PUT', url, { ...caller, body: value });
      if (c.expected) expect([201, 204]).toContain(res.status);
      else expect([403, 404]).toContain(res.status);
    }
  });

  it('checked search and events both for readable and for hidden things', () => {
    expect(exercised.readable).toBeGreaterThan(20);
    expect(exercised.hidden).toBeGreaterThan(5);
  });
});
