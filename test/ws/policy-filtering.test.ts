/**
 * Events are delivered per subscriber according to the thing's policy (ditto-interfaces.md §5
 * "Outgoing", §7.3, 3.9 partial events): full READ sees the whole event, partial READ a pruned one, no
 * READ nothing at all.
 */
import { expect, it } from 'vitest';
import { type TestWs, useWsService } from './client.js';

const bed = useWsService();

const policy = {
  entries: {
    owner: {
      subjects: { 'nginx:ditto': { type: 'generated' } },
      resources: {
        'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
        'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
        'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
      },
    },
    partial: {
      subjects: { 'nginx:bob': { type: 'generated' } },
      resources: { 'thing:/attributes/public': { grant: ['READ'], revoke: [] } },
    },
  },
};

async function subscribe(user: string): Promise<TestWs> {
  const c = await bed.ws(user);
  await c.control('START-SEND-EVENTS');
  return c;
}

it('prunes events to the readable part for partial READ and hides them without READ', async () => {
  const owner = await subscribe('ditto');
  const bob = await subscribe('bob');
  const alice = await subscribe('alice');
  const id = `org.eclipse.ditto:policy-filter-${Date.now()}`;
  const created = await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, {
    body: { _policy: policy, attributes: { public: { name: 'lamp' }, secret: 42 } },
  });
  expect(created.status).toBe(201);
  const merge = await bed.svc.request('PATCH', `/api/2/things/${encodeURIComponent(id)}/attributes`, {
    body: { public: { name: 'lamp 2' }, secret: 43 },
  });
  expect(merge.status).toBe(204);

  const topic = `${id.replace(':', '/')}/things/twin/events/`;
  expect((await owner.nextTopic(topic + 'created')).value.attributes).toEqual({
    public: { name: 'lamp' },
    secret: 42,
  });
  expect((await owner.nextTopic(topic + 'merged')).value).toEqual({ public: { name: 'lamp 2' }, secret: 43 });

  const bobCreated = await bob.nextTopic(topic + 'created');
  expect(bobCreated.value).toEqual({ thingId: id, attributes: { public: { name: 'lamp' } } });
  const bobMerged = await bob.nextTopic(topic + 'merged');
  expect(bobMerged.value).toEqual({ public: { name: 'lamp 2' } });

  // An event that touches only what bob cannot read is not delivered to him at all.
  await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}/attributes/secret`, { body: 44 });
  await owner.nextTopic(topic + 'modified');
  await bob.expectNone((f) => typeof f !== 'string' && String(f.topic) === topic + 'modified');

  await alice.expectNone((f) => typeof f !== 'string' && String(f.topic).startsWith(id.replace(':', '/')));
});

it('evaluates a filter on the pruned view, so hidden fields cannot be probed', async () => {
  const bob = await bed.ws('bob');
  await bob.control(`START-SEND-EVENTS?filter=${encodeURIComponent('eq(attributes/secret,42)')}`);
  const id = `org.eclipse.ditto:policy-probe-${Date.now()}`;
  await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, {
    body: { _policy: policy, attributes: { public: { name: 'x' }, secret: 42 } },
  });
  await bob.expectNone((f) => typeof f !== 'string' && String(f.topic).startsWith(id.replace(':', '/')), 400);
});
