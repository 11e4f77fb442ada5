/**
 * The same-origin rule of Ditto's streaming sessions (gateway StreamingSessionActor: a signal whose
 * `ditto-origin` is the session's own connection is not published to it) over real WebSockets: a session
 * never gets back the twin events of its own commands, nor its own live messages, commands and events;
 * every other session of the same user does. `ditto-origin` is internal: never read from a client, never
 * in a frame.
 */
import { expect, it } from 'vitest';
import { type Frame, type TestWs, useWsService } from './client.js';

const bed = useWsService();

let n = 0;
const newId = () => `org.eclipse.ditto:origin-${++n}-${Date.now()}`;
const topicOf = (id: string, rest: string) => `${id.replace(':', '/')}/things/${rest}`;
const isJson = (f: Frame): f is Record<string, any> => typeof f !== 'string';
const withCorrelation = (id: string) => (f: Frame) => isJson(f) && f.headers?.['correlation-id'] === id;
const noOriginHeader = (f: Frame) =>
  expect(
    Object.keys((f as Record<string, any>).headers ?? {}).filter(
      (h) => h.toLowerCase().includes('origin') && h !== 'ditto-originator',
    ),
  ).toEqual([]);

async function listening(control: string, user = 'ditto'): Promise<TestWs> {
  const c = await bed.ws(user);
  await c.control(control);
  return c;
}

it('answers a session its own command with the response and sends the event only to the other sessions of the user', async () => {
  const id = newId();
  const self = await listening('START-SEND-EVENTS');
  const other = await listening('START-SEND-EVENTS');

  const created = await self.request({
    topic: topicOf(id, 'twin/commands/create'),
    headers: { 'correlation-id': 'own-create' },
    path: '/',
    value: { attributes: { a: 1 } },
  });
  expect(created).toMatchObject({ topic: topicOf(id, 'twin/commands/create'), status: 201 });
  noOriginHeader(created);
  const modified = await self.request({
    topic: topicOf(id, 'twin/commands/modify'),
    headers: { 'correlation-id': 'own-modify' },
    path: '/attributes/a',
    value: 2,
  });
  expect(modified).toMatchObject({ topic: topicOf(id, 'twin/commands/modify'), status: 204 });

  // The other session of the same user gets both events, with the commands' correlation-ids.
  const createdEvent = await other.next(withCorrelation('own-create'));
  expect(createdEvent).toMatchObject({
    topic: topicOf(id, 'twin/events/created'),
    value: { attributes: { a: 1 } },
  });
  const modifiedEvent = await other.next(withCorrelation('own-modify'));
  expect(modifiedEvent).toMatchObject({
    topic: topicOf(id, 'twin/events/modified'),
    path: '/attributes/a',
    value: 2,
  });
  noOriginHeader(createdEvent);
  noOriginHeader(modifiedEvent);
  // The sender got exactly its two responses, no event.
  await self.expectNone((f) => isJson(f) && String(f.topic).includes('/events/'), 300);

  // A change made elsewhere (HTTP, the other session) reaches the first session.
  expect(
    (await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}/attributes/a`, { body: 3 }))
      .status,
  ).toBe(204);
  expect(await self.nextTopic(topicOf(id, 'twin/events/modified'))).toMatchObject({ value: 3 });
  await other.request({
    topic: topicOf(id, 'twin/commands/modify'),
    headers: { 'correlation-id': 'other-modify' },
    path: '/attributes/a',
    value: 4,
  });
  expect(await self.next(withCorrelation('other-modify'))).toMatchObject({
    topic: topicOf(id, 'twin/events/modified'),
    value: 4,
  });
  await other.expectNone(withCorrelation('other-modify'), 200);
});

it('keeps its own events from a session whatever ditto-origin header a client sends', async () => {
  const id = newId();
  const self = await listening('START-SEND-EVENTS');
  const other = await listening('START-SEND-EVENTS');
  // `ditto-origin` is not read from clients: naming no session, or pretending to be another, changes nothing.
  await self.request({
    topic: topicOf(id, 'twin/commands/create'),
    headers: { 'correlation-id': 'spoof-1', 'ditto-origin': 'ws-0-other' },
    path: '/',
    value: {},
  });
  const event = await other.next(withCorrelation('spoof-1'));
  noOriginHeader(event);
  await self.expectNone((f) => isJson(f) && String(f.topic).includes('/events/'), 300);
  const viaHttp = await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}/attributes/x`, {
    body: 1,
    headers: { 'ditto-origin': 'anything' },
  });
  expect(viaHttp.status).toBe(201);
  noOriginHeader(await self.nextTopic(topicOf(id, 'twin/events/created')));
  noOriginHeader(await other.nextTopic(topicOf(id, 'twin/events/created')));
});

it('passes an event of its own command to the next member of its consumer group', async () => {
  const self = await listening('START-SEND-EVENTS?group=origin');
  const other = await listening('START-SEND-EVENTS?group=origin');
  // Several things: the ring puts some on each member, and every one of them must reach the other member.
  const ids = Array.from({ length: 8 }, () => newId());
  for (const id of ids)
    await self.request({ topic: topicOf(id, 'twin/commands/create'), path: '/', value: {} });
  for (const id of ids) await other.nextTopic(topicOf(id, 'twin/events/created'));
  await self.expectNone((f) => isJson(f) && String(f.topic).includes('/events/'), 300);
});

it('sends live commands, messages and events to the other sessions, never back to the sender', async () => {
  const id = newId();
  expect(
    (
      await bed.svc.request('PUT', `/api/2/things/${encodeURIComponent(id)}`, {
        body: { attributes: { on: false } },
      })
    ).status,
  ).toBe(201);
  const self = await bed.ws();
  const other = await bed.ws();
  for (const c of [self, other]) {
    await c.control('START-SEND-LIVE-COMMANDS');
    await c.control('START-SEND-LIVE-EVENTS');
    await c.control('START-SEND-MESSAGES');
  }

  const command = self.request({
    topic: topicOf(id, 'live/commands/modify'),
    headers: { 'correlation-id': 'live-cmd', 'ditto-origin': 'x' },
    path: '/attributes/on',
    value: true,
  });
  const forwarded = await other.next(withCorrelation('live-cmd'));
  expect(forwarded).toMatchObject({ topic: topicOf(id, 'live/commands/modify'), value: true });
  noOriginHeader(forwarded);
  other.send({
    topic: topicOf(id, 'live/commands/modify'),
    headers: { 'correlation-id': 'live-cmd' },
    path: '/attributes/on',
    status: 204,
  });
  expect(await command).toMatchObject({ topic: topicOf(id, 'live/commands/modify'), status: 204 });

  self.send({
    topic: topicOf(id, 'live/events/modified'),
    headers: { 'correlation-id': 'live-evt' },
    path: '/attributes/on',
    value: true,
    revision: 1,
  });
  expect(await other.next(withCorrelation('live-evt'))).toMatchObject({
    topic: topicOf(id, 'live/events/modified'),
    value: true,
  });

  self.send({
    topic: topicOf(id, 'live/messages/hello'),
    headers: { 'correlation-id': 'live-msg', 'content-type': 'text/plain', 'response-required': false },
    path: '/inbox/messages/hello',
    value: 'hi',
  });
  expect(await other.next(withCorrelation('live-msg'))).toMatchObject({
    topic: topicOf(id, 'live/messages/hello'),
    value: 'hi',
  });

  // The sender saw only the response to its command.
  await self.expectNone((f) => isJson(f) && f.status === undefined, 300);
});

it('announces the deletion of its subject to the session that deleted the policy, as Ditto issues announcements from the policy', async () => {
  const policyId = 'org.eclipse.ditto:origin-announce';
  const owner = {
    subjects: { 'nginx:ditto': { type: 'generated', announcement: { whenDeleted: true } } },
    resources: { 'policy:/': { grant: ['READ', 'WRITE'], revoke: [] } },
  };
  expect(
    (await bed.svc.request('PUT', `/api/2/policies/${policyId}`, { body: { entries: { owner } } })).status,
  ).toBe(201);
  const self = await listening('START-SEND-POLICY-ANNOUNCEMENTS');
  const deleted = await self.request({
    topic: 'org.eclipse.ditto/origin-announce/policies/commands/delete',
    headers: { 'correlation-id': 'del-policy' },
    path: '/',
  });
  expect(deleted.status).toBe(204);
  const announcement = await self.nextTopic('/policies/announcements/subjectDeletion');
  expect(announcement.value.subjectIds).toEqual(['nginx:ditto']);
  // Its own correlation-id: a client cannot take it for the response of the command.
  expect(announcement.headers['correlation-id']).not.toBe('del-policy');
  noOriginHeader(announcement);
});
