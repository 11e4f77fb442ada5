/**
 * Scale-out (docs/scale-out.md): three Twinbridge processes on one PostgreSQL schema. Any instance serves
 * any request; concurrent read-modify-writes from all three lose no update; a change made on one instance
 * reaches a WebSocket on another.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import { connectWs, type TestWs } from '../ws/client.js';
import { startClusterKit, type ClusterKit } from './cluster-kit.js';

let kit: ClusterKit;
keepBrokersUp('postgres');

beforeAll(async () => {
  const postgres = await getBroker('postgres');
  kit = await startClusterKit(postgres.url, 3, { TWINBRIDGE_USERS: 'ditto:ditto,bob:bob' });
});
afterAll(async () => {
  await kit?.stop();
});

it('reads on every instance what was written on one', async () => {
  const thingId = 'org.cluster:read-anywhere';
  expect(
    (await kit.request(0, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { where: 'node-1' } } }))
      .status,
  ).toBe(201);
  for (const i of [1, 2]) {
    const res = await kit.request(i, 'GET', `/api/2/things/${thingId}/attributes/where`);
    expect(res).toMatchObject({ status: 200, json: 'node-1' });
  }
  // …and an instance that cached the thing's head writes on top of the other instances' changes.
  expect(
    (await kit.request(1, 'PUT', `/api/2/things/${thingId}/attributes/where`, { body: 'node-2' })).status,
  ).toBe(204);
  expect(
    (
      await kit.request(0, 'PATCH', `/api/2/things/${thingId}`, {
        body: { attributes: { also: 1 } },
        headers: { 'content-type': 'application/merge-patch+json' },
      })
    ).status,
  ).toBe(204);
  const thing = await kit.request(2, 'GET', `/api/2/things/${thingId}?fields=attributes,_revision`);
  expect(thing.json).toEqual({ attributes: { where: 'node-2', also: 1 }, _revision: 3 });
});

it('loses no update when 100 read-modify-writes of one counter race on three instances', async () => {
  const thingId = 'org.cluster:counter';
  expect(
    (await kit.request(0, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  let conflicts = 0;
  // Each increment reads the counter and its ETag on one instance and writes counter+1 with If-Match on
  // the same instance; a 412 means someone else won that round: read again. A lost update would leave
  // the counter below 100 although 100 writes succeeded.
  const increment = async (i: number) => {
    const node = i % 3;
    for (;;) {
      const read = await kit.request(node, 'GET', `/api/2/things/${thingId}/attributes/counter`);
      expect(read.status).toBe(200);
      const write = await kit.request(node, 'PUT', `/api/2/things/${thingId}/attributes/counter`, {
        body: (read.json as number) + 1,
        headers: { 'if-match': read.headers.get('etag')! },
      });
      if (write.status === 204) return;
      expect(write, JSON.stringify(write.json)).toMatchObject({ status: 412 });
      conflicts++;
      await new Promise((r) => setTimeout(r, Math.random() * 20));
    }
  };
  await Promise.all(Array.from({ length: 100 }, (_, i) => increment(i)));
  for (const node of [0, 1, 2]) {
    const thing = await kit.request(
      node,
      'GET',
      `/api/2/things/${thingId}?fields=attributes/counter,_revision`,
    );
    expect(thing.json).toEqual({ attributes: { counter: 100 }, _revision: 101 });
  }
  const journal = await kit.query<{ revision: string }>(
    `select revision from journal where kind = 'thing' and id = $1 order by seq`,
    [thingId],
  );
  expect(journal.map((r) => Number(r.revision))).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  expect(conflicts).toBeGreaterThan(0); // the instances really did race
}, 120_000);

it('delivers an event made on one instance to a WebSocket on another, in revision order', async () => {
  const thingId = 'org.cluster:ws';
  let ws: TestWs | undefined;
  try {
    ws = await connectWs(kit.instances[2].url);
    await ws.control('START-SEND-EVENTS');
    expect(
      (await kit.request(0, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { n: 0 } } })).status,
    ).toBe(201);
    for (let n = 1; n <= 5; n++) {
      expect(
        (await kit.request(n % 2, 'PUT', `/api/2/things/${thingId}/attributes/n`, { body: n })).status,
      ).toBe(204);
    }
    const created = await ws.nextTopic('/things/twin/events/created', (f) => f.value?.thingId === thingId);
    expect(created.revision).toBe(1);
    for (let n = 1; n <= 5; n++) {
      const modified = await ws.nextTopic('/things/twin/events/modified', (f) =>
        f.topic.startsWith('org.cluster/ws/'),
      );
      expect({ revision: modified.revision, value: modified.value }).toEqual({ revision: n + 1, value: n });
    }
  } finally {
    await ws?.close();
  }
});

it('enforces a policy changed on another instance as soon as the change is read (within seconds, not a cache expiry)', async () => {
  const thingId = 'org.cluster:policy';
  expect(
    (await kit.request(0, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { secret: 1 } } })).status,
  ).toBe(201);
  // Instance 2 caches the policy (and its compiled enforcer) by writing the thing; bob may not yet.
  expect(
    (await kit.request(1, 'PUT', `/api/2/things/${thingId}/attributes/seen`, { body: true })).status,
  ).toBe(201);
  expect(
    (await kit.request(1, 'PUT', `/api/2/things/${thingId}/attributes/bob`, { body: true, auth: 'bob:bob' }))
      .status,
  ).toBe(404);
  const readers = {
    subjects: { 'nginx:bob': { type: 'reader' } },
    resources: { 'thing:/': { grant: ['READ', 'WRITE'], revoke: [] } },
  };
  expect(
    (await kit.request(0, 'PUT', `/api/2/policies/${thingId}/entries/readers`, { body: readers })).status,
  ).toBe(201);
  // Instance 2 learns of the change from PostgreSQL's notification (docs/scale-out.md): about a
  // millisecond on a quiet machine, more while the test run loads it; never the 60 s of a cache expiry.
  const deadline = Date.now() + 5000;
  let status: number;
  do {
    status = (
      await kit.request(1, 'PUT', `/api/2/things/${thingId}/attributes/bob`, { body: true, auth: 'bob:bob' })
    ).status;
  } while (status === 404 && Date.now() < deadline);
  expect(status).toBe(201);
}, 30_000);
