/**
 * Issue 19 item 12: a thing can be put under an existing policy (created with its policyId, or moved to it
 * by PUT …/policyId, PUT of the thing, a merge, a WebSocket or connection command) only by a requester
 * with WRITE on that policy's `policy:/`. A missing policy and one the requester cannot read answer
 * alike (404 policies:policy.notfound, no existence oracle); a readable one without WRITE is 403
 * policies:policy.notmodifiable. Nothing changes in either case.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import {
  createOpenConnection,
  DEVOPS,
  metric,
  modifyCommand,
  mqttConnection,
  uniquePrefix,
  waitFor,
} from '../connectivity/helpers.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs } from '../ws/client.js';

let svc: TestService;
keepBrokersUp('mqtt');
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.close();
});

const RW = { grant: ['READ', 'WRITE'], revoke: [] };
const R = { grant: ['READ'], revoke: [] };
const ALICE = 'alice:alice';
const VICTIM = 'org.eclipse.ditto:victim-policy'; // ditto's; alice has no entry
const READABLE = 'org.eclipse.ditto:readable-policy'; // alice may read, not write
const SHARED = 'org.eclipse.ditto:shared-policy'; // alice may write policy:/
const MISSING = 'org.eclipse.ditto:missing-policy';
const THING = 'org.eclipse.ditto:alices-thing';

beforeAll(async () => {
  const owner = {
    subjects: { 'nginx:ditto': { type: 'owner' } },
    resources: { 'thing:/': RW, 'policy:/': RW },
  };
  const put = async (id: string, entries: Record<string, unknown>) =>
    expect((await svc.request('PUT', `/api/2/policies/${id}`, { body: { entries } })).status).toBe(201);
  await put(VICTIM, { OWNER: owner });
  await put(READABLE, {
    OWNER: owner,
    ALICE: { subjects: { 'nginx:alice': { type: 'reader' } }, resources: { 'thing:/': RW, 'policy:/': R } },
  });
  await put(SHARED, {
    OWNER: owner,
    ALICE: { subjects: { 'nginx:alice': { type: 'admin' } }, resources: { 'thing:/': RW, 'policy:/': RW } },
  });
  expect(
    (await svc.request('PUT', `/api/2/things/${THING}`, { auth: ALICE, body: { attributes: { a: 1 } } }))
      .status,
  ).toBe(201);
});

const policyIdOf = async () =>
  (await svc.request('GET', `/api/2/things/${THING}/policyId`, { auth: ALICE })).json;

/** The error without the policy ID it names, to compare the answers for two IDs. */
const shape = (res: { status: number; json: any }, id: string) => ({
  status: res.status,
  ...res.json,
  message: res.json.message.replace(id, '<id>'),
});

describe('moving a thing to a policy', () => {
  const attempts: Array<[string, (policyId: string) => Promise<{ status: number; json: any }>]> = [
    [
      'PUT …/policyId',
      (p) => svc.request('PUT', `/api/2/things/${THING}/policyId`, { auth: ALICE, body: p }),
    ],
    [
      'PUT of the thing',
      (p) =>
        svc.request('PUT', `/api/2/things/${THING}`, {
          auth: ALICE,
          body: { policyId: p, attributes: { a: 1 } },
        }),
    ],
    [
      'PATCH of the thing',
      (p) => svc.request('PATCH', `/api/2/things/${THING}`, { auth: ALICE, body: { policyId: p } }),
    ],
    [
      'PATCH …/policyId',
      (p) => svc.request('PATCH', `/api/2/things/${THING}/policyId`, { auth: ALICE, body: p }),
    ],
  ];

  it.each(attempts)(
    'by %s answers a missing and an unreadable policy alike with 404, changing nothing',
    async (_name, attempt) => {
      const unreadable = await attempt(VICTIM);
      const missing = await attempt(MISSING);
      expect(unreadable.status).toBe(404);
      expect(unreadable.json.error).toBe('policies:policy.notfound');
      expect(shape(unreadable, VICTIM)).toEqual(shape(missing, MISSING));
      expect(await policyIdOf()).toBe(THING);
    },
  );

  it.each(attempts)(
    'by %s answers a readable policy without WRITE on policy:/ with 403',
    async (_name, attempt) => {
      const res = await attempt(READABLE);
      expect(res.status).toBe(403);
      expect(res.json.error).toBe('policies:policy.notmodifiable');
      expect(await policyIdOf()).toBe(THING);
    },
  );

  it('over WebSocket answers alike and changes nothing', async () => {
    const ws = await connectWs(svc.url, 'alice');
    try {
      const command = (value: string) => ({
        topic: 'org.eclipse.ditto/alices-thing/things/twin/commands/modify',
        path: '/policyId',
        value,
      });
      const unreadable = await ws.request(command(VICTIM));
      const missing = await ws.request(command(MISSING));
      expect(unreadable).toMatchObject({ status: 404, value: { error: 'policies:policy.notfound' } });
      expect(missing).toMatchObject({ status: 404, value: { error: 'policies:policy.notfound' } });
      expect((await ws.request(command(READABLE))).value.error).toBe('policies:policy.notmodifiable');
    } finally {
      ws.socket.close();
    }
    expect(await policyIdOf()).toBe(THING);
  });

  it('from a connection source acting as the requester is dropped, changing nothing', async () => {
    const broker = await getBroker('mqtt');
    const device = await mqtt.connectAsync(broker.url, { clientId: uniquePrefix('policy-id-device') });
    try {
      const prefix = uniquePrefix('policy-id');
      const connection = await createOpenConnection(
        svc.request,
        mqttConnection({ uri: broker.url, prefix, target: null, subject: 'nginx:alice' }),
      );
      await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(THING, '/policyId', VICTIM), {
        qos: 1,
      });
      await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(THING, '/attributes/a', 2), {
        qos: 1,
      });
      await waitFor(
        async () =>
          (await svc.request('GET', `/api/2/things/${THING}/attributes/a`, { auth: ALICE })).json === 2,
        'the later command applied',
      );
      const metrics = await waitFor(async () => {
        const m = (await svc.request('GET', `/api/2/connections/${connection}/metrics`, { auth: DEVOPS }))
          .json;
        return metric(m, 'inbound', 'acknowledged') >= 2 ? m : undefined;
      }, 'both acknowledged');
      expect(metric(metrics, 'inbound', 'dropped', 'failure')).toBe(1);
    } finally {
      await device.endAsync();
    }
    expect(await policyIdOf()).toBe(THING);
  });

  it('succeeds for a policy the requester administers', async () => {
    expect(
      (await svc.request('PUT', `/api/2/things/${THING}/policyId`, { auth: ALICE, body: SHARED })).status,
    ).toBe(204);
    expect(await policyIdOf()).toBe(SHARED);
    expect(
      (await svc.request('PUT', `/api/2/things/${THING}/policyId`, { auth: ALICE, body: THING })).status,
    ).toBe(204);
  });
});

describe('creating a thing with a policyId', () => {
  it('answers a missing and an unreadable policy alike with 404, a readable one without WRITE with 403, storing nothing', async () => {
    const create = (id: string, policyId: string) =>
      svc.request('PUT', `/api/2/things/org.eclipse.ditto:${id}`, { auth: ALICE, body: { policyId } });
    const unreadable = await create('new-1', VICTIM);
    const missing = await create('new-2', MISSING);
    expect(unreadable.status).toBe(404);
    expect(shape(unreadable, VICTIM)).toEqual(shape(missing, MISSING));
    const readable = await create('new-3', READABLE);
    expect(readable.status).toBe(403);
    expect(readable.json.error).toBe('policies:policy.notmodifiable');
    const posted = await svc.request('POST', '/api/2/things', { auth: ALICE, body: { policyId: VICTIM } });
    expect(shape(posted, VICTIM)).toEqual(shape(missing, MISSING));
    for (const id of ['new-1', 'new-2', 'new-3'])
      expect((await svc.request('GET', `/api/2/things/org.eclipse.ditto:${id}`)).status).toBe(404);
    expect((await create('new-4', SHARED)).status).toBe(201);
  });
});
