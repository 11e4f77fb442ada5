/**
 * Eclipse Ditto's official JavaScript client (`@eclipse-ditto/ditto-javascript-client-node` 3.9) against the
 * running service, unchanged: over WebSocket it matches responses to requests by `correlation-id`, so it
 * works only if a session never gets the events of its own commands back (Ditto's same-origin rule) — an
 * event with the request's correlation-id would be taken for the response. A second session of the same user
 * gets the events. Over HTTP a few common calls, whose changes reach the WebSocket sessions.
 */
import {
  DittoNodeClient,
  NodeHttpBasicAuth,
  NodeWebSocket,
  NodeWebSocketBasicAuth,
  Thing,
  type DittoWebSocketTwinClient,
  type ProtocolResponseValue,
} from '@eclipse-ditto/ditto-javascript-client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../connectivity/helpers.js';
import { startTestService, type TestService } from '../helpers/app.js';

// The client's close() leaves a rejection nobody handles (3.9.1: a closed NodeWebSocket's reconnect rejects
// with 'Reconnect disabled' and the resilience handler rethrows it). A closed client here does not reconnect
// and does not reject; everything the tests observe happens before close().
interface Reconnecting {
  shouldReconnect: boolean;
  reconnect(retry: number): Promise<unknown>;
}
const socketPrototype = NodeWebSocket.prototype as unknown as Reconnecting;
const reconnect = socketPrototype.reconnect;
socketPrototype.reconnect = function (this: Reconnecting, retry: number) {
  return this.shouldReconnect ? reconnect.call(this, retry) : new Promise<never>(() => undefined);
};

let svc: TestService;
const clients: DittoWebSocketTwinClient[] = [];
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await svc?.close();
});

const domain = () => new URL(svc.url).host;

/** A twin-channel WebSocket client of user ditto that has requested events and records those of `thingId`. */
async function wsClient(
  thingId: string,
): Promise<{ client: DittoWebSocketTwinClient; events: ProtocolResponseValue[] }> {
  const client = DittoNodeClient.newWebSocketClient()
    .withoutTls()
    .withDomain(domain())
    .withAuthProvider(NodeWebSocketBasicAuth.newInstance('ditto', 'ditto'))
    .withBuffer(10)
    .twinChannel()
    .build();
  clients.push(client);
  const events: ProtocolResponseValue[] = [];
  const handle = client.getEventsHandle();
  await handle.requestEvents();
  handle.subscribeToThing(thingId, (event) => events.push(event));
  return { client, events };
}

const httpClient = () =>
  DittoNodeClient.newHttpClient()
    .withoutTls()
    .withDomain(domain())
    .withAuthProvider(NodeHttpBasicAuth.newInstance('ditto', 'ditto'))
    .build();

it('answers the JS client over WebSocket with the responses of its commands and sends the events to the second session', async () => {
  const thingId = `org.eclipse.ditto:js-client-${Date.now()}`;
  const self = await wsClient(thingId);
  const other = await wsClient(thingId);
  const things = self.client.getThingsHandle();

  const created = await things.putThing(new Thing(thingId, undefined, { temperature: 20 }));
  expect(created.status).toBe(201);
  const put = await things.putAttribute(thingId, 'temperature', 21);
  expect(put.status).toBe(204);
  expect(await things.getAttribute(thingId, 'temperature')).toBe(21);
  const merged = await things.patchAttributes(thingId, { humidity: 40 });
  expect(merged.status).toBe(204);
  const deleted = await things.deleteAttribute(thingId, 'temperature');
  expect(deleted.status).toBe(204);
  const thing = await things.getThing(thingId);
  expect(thing.attributes).toEqual({ humidity: 40 });

  await waitFor(
    () => other.events.length >= 4,
    () => `four events on the second session, got ${JSON.stringify(other.events)}`,
  );
  expect(other.events.map((e) => [e.topic.split('/').pop(), e.path])).toEqual([
    ['created', '/'],
    ['modified', '/attributes/temperature'],
    ['merged', '/attributes'],
    ['deleted', '/attributes/temperature'],
  ]);
  expect(other.events[1].value).toBe(21);
  // Nothing came back to the session that sent the commands.
  await new Promise((r) => setTimeout(r, 300));
  expect(self.events).toEqual([]);
});

it('answers common calls over HTTP and its changes reach every WebSocket session', async () => {
  const thingId = `org.eclipse.ditto:js-http-${Date.now()}`;
  const session = await wsClient(thingId);
  const things = httpClient().getThingsHandle();

  expect((await things.putThing(new Thing(thingId, undefined, { on: false }))).status).toBe(201);
  expect((await things.putAttribute(thingId, 'on', true)).status).toBe(204);
  expect(await things.getAttribute(thingId, 'on')).toBe(true);
  const thing = await things.getThing(thingId);
  expect(thing.thingId).toBe(thingId);
  expect(thing.attributes).toEqual({ on: true });
  expect(thing.policyId).toBe(thingId);
  await expect(things.getAttribute(thingId, 'missing')).rejects.toMatchObject({ status: 404 });

  await waitFor(
    () => session.events.length >= 2,
    () => `two events, got ${JSON.stringify(session.events)}`,
  );
  expect(session.events.map((e) => e.topic.split('/').pop())).toEqual(['created', 'modified']);
});
