/**
 * Policy announcements over WebSocket (ditto-interfaces.md §4.7, §7.1): `subjectDeletion` before a
 * subject expires (`beforeExpiry`), when it is deleted (`whenDeleted`, by its expiry or by a client), only
 * to sessions authenticated as that subject that sent START-SEND-POLICY-ANNOUNCEMENTS; the expired subject
 * is removed from the stored policy.
 */
import { expect, it } from 'vitest';
import { expectValid } from '../unit/protocol/schemas.js';
import { type TestWs, useWsService } from './client.js';

const bed = useWsService();

const owner = {
  subjects: { 'nginx:ditto': { type: 'generated' } },
  resources: {
    'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
    'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
  },
};
const reader = (subject: Record<string, unknown>) => ({
  subjects: { 'nginx:bob': { type: 'temporary access', ...subject } },
  resources: { 'thing:/': { grant: ['READ'], revoke: [] } },
});

async function listen(user: string, control = 'START-SEND-POLICY-ANNOUNCEMENTS'): Promise<TestWs> {
  const c = await bed.ws(user);
  await c.control(control);
  return c;
}

it('announces a coming expiry, removes the expired subject and announces its deletion', async () => {
  const policyId = 'org.announce:expiring';
  const bob = await listen('bob');
  const ditto = await listen('ditto');
  const expiry = new Date(Date.now() + 2500).toISOString();
  const put = await bed.svc.request('PUT', `/api/2/policies/${policyId}`, {
    body: {
      entries: {
        owner,
        temporary: reader({ expiry, announcement: { beforeExpiry: '2s', whenDeleted: true } }),
      },
    },
  });
  expect(put.status).toBe(201);

  const coming = await bob.nextTopic('/policies/announcements/subjectDeletion', () => true, 5000);
  expect(coming.topic).toBe('org.announce/expiring/policies/announcements/subjectDeletion');
  expect(coming.value).toEqual({ deleteAt: expiry, subjectIds: ['nginx:bob'] });
  expectValid('protocol-envelope.json', coming);
  expect(Date.now()).toBeLessThan(Date.parse(expiry));

  const deleted = await bob.nextTopic('/policies/announcements/subjectDeletion', () => true, 5000);
  expect(deleted.value.subjectIds).toEqual(['nginx:bob']);
  expect(Date.parse(deleted.value.deleteAt)).toBeGreaterThanOrEqual(Date.parse(expiry));
  const stored = await bed.svc.request('GET', `/api/2/policies/${policyId}/entries/temporary/subjects`);
  expect(stored.status).toBe(200);
  expect(stored.json).toEqual({});
  // Only the announced subject's sessions get it.
  await ditto.expectNone((f) => typeof f !== 'string' && String(f.topic).includes('/announcements/'), 300);
}, 15_000);

it('announces a subject a client deletes when it asks for whenDeleted, and not otherwise', async () => {
  const policyId = 'org.announce:deleted';
  const bob = await listen('bob');
  expect(
    (
      await bed.svc.request('PUT', `/api/2/policies/${policyId}`, {
        body: { entries: { owner, temporary: reader({ announcement: { whenDeleted: true } }) } },
      })
    ).status,
  ).toBe(201);
  expect(
    (await bed.svc.request('DELETE', `/api/2/policies/${policyId}/entries/temporary/subjects/nginx:bob`))
      .status,
  ).toBe(204);
  const deleted = await bob.nextTopic('/policies/announcements/subjectDeletion', (f) =>
    f.topic.startsWith('org.announce/deleted/'),
  );
  expect(deleted.value.subjectIds).toEqual(['nginx:bob']);

  // Without whenDeleted, and for a session that did not subscribe: nothing.
  const quiet = await bed.ws('bob');
  // The entry stayed (without subjects): this PUT modifies it.
  expect(
    (await bed.svc.request('PUT', `/api/2/policies/${policyId}/entries/temporary`, { body: reader({}) }))
      .status,
  ).toBe(204);
  expect((await bed.svc.request('DELETE', `/api/2/policies/${policyId}/entries/temporary`)).status).toBe(204);
  await bob.expectNone(
    (f) => typeof f !== 'string' && String(f.topic).startsWith('org.announce/deleted/'),
    300,
  );
  await quiet.expectNone(() => true, 100);
});

it('stops announcing after STOP-SEND-POLICY-ANNOUNCEMENTS and filters by namespace', async () => {
  const other = await listen('bob', 'START-SEND-POLICY-ANNOUNCEMENTS?namespaces=org.elsewhere');
  const stopped = await listen('bob');
  await stopped.control('STOP-SEND-POLICY-ANNOUNCEMENTS');
  const policyId = 'org.announce:stopped';
  expect(
    (
      await bed.svc.request('PUT', `/api/2/policies/${policyId}`, {
        body: { entries: { owner, temporary: reader({ announcement: { whenDeleted: true } }) } },
      })
    ).status,
  ).toBe(201);
  expect((await bed.svc.request('DELETE', `/api/2/policies/${policyId}/entries/temporary`)).status).toBe(204);
  await other.expectNone((f) => typeof f !== 'string', 300);
  await stopped.expectNone((f) => typeof f !== 'string', 100);
});
