/**
 * The outbound pipeline below the brokers (pure logic: the real streaming registry and bus, a fake mapper
 * registry and publisher): targets get twin events through the registry like WebSocket sessions, rendered
 * once per shape for all of them, and the runtime's in-flight window bounds what a target holds.
 */
import { describe, expect, it } from 'vitest';
import { SignalBus } from '../../src/bus/signal-bus.js';
import type { WriteResponse } from '../../src/connectivity/connector.js';
import { ConnectivityEvents, type MessageEvent } from '../../src/connectivity/events.js';
import type { MapperRegistry } from '../../src/connectivity/mapping-port.js';
import type { Target } from '../../src/connectivity/model.js';
import { OutboundPipeline } from '../../src/connectivity/outbound.js';
import { OutboundWindow } from '../../src/connectivity/window.js';
import type { ThingEvent } from '../../src/model/signals.js';
import { compileTemplate } from '../../src/placeholders/index.js';
import { createEnforcer } from '../../src/policies/enforcer.js';
import { SubscriberRegistry } from '../../src/streaming/registry.js';

const enforcer = createEnforcer({
  policyId: 'org.eclipse:p',
  entries: {
    all: {
      subjects: { 'nginx:ditto': { type: 'test' } },
      resources: { 'thing:/': { grant: ['READ'], revoke: [] } },
    },
  },
} as never);
const target = (index: number): Target => ({
  index,
  address: `out/${index}`,
  addressTemplate: compileTemplate(`out/${index}`),
  topics: [{ kind: 'twin.events' }],
  authorizationContext: ['nginx:ditto'],
  headerMapping: [],
  payloadMapping: [],
  qos: 1,
});
const event = (n: number): ThingEvent => ({
  thingId: 'org.eclipse:t1',
  channel: 'twin',
  action: 'modified',
  path: '/attributes/n',
  value: n,
  revision: n,
  timestamp: '2026-01-01T00:00:00Z',
  headers: { 'correlation-id': `c${n}` },
});

function setUp() {
  const bus = new SignalBus((err) => {
    throw err;
  });
  const subscribers = new SubscriberRegistry({
    bus,
    policies: { enforcerOfHead: () => enforcer, load: async () => undefined } as never,
    onError: (err) => expect.unreachable(String(err)),
  });
  const events = new ConnectivityEvents();
  const seen: MessageEvent[] = [];
  events.on('message', (e) => seen.push(e));
  return { bus, subscribers, events, seen };
}

describe('outbound through the streaming registry', () => {
  it('renders an event once for all targets of the same shape and hands the mappers its text', () => {
    const { bus, subscribers, events } = setUp();
    const calls: Array<{ json: unknown; text: string | undefined }> = [];
    const registry: MapperRegistry = {
      mapIncoming: () => [],
      mapOutgoing: (_ids, json, text) => {
        calls.push({ json, text });
        return [{ mapper: 'Ditto', result: [{ headers: {}, textPayload: text }] }];
      },
      close: async () => undefined,
    };
    const written: string[] = [];
    const pipelines = [0, 1].map(
      (i) =>
        new OutboundPipeline({
          connectionId: 'c',
          target: target(i),
          registry,
          events,
          publisher: () => ({ write: async (m) => void written.push(m.payload.toString()) }),
          window: new OutboundWindow(10),
          subscribers,
          log: () => undefined,
        }),
    );
    for (const p of pipelines) p.start();
    bus.publishThingEvent({
      event: event(7),
      policyId: 'org.eclipse:p',
      thing: { thingId: 'org.eclipse:t1', attributes: { n: 7 } },
    });
    expect(calls).toHaveLength(2);
    expect(calls[1].json).toBe(calls[0].json);
    expect(calls[1].text).toBe(calls[0].text);
    expect(JSON.parse(calls[0].text!)).toMatchObject({
      topic: 'org.eclipse/t1/things/twin/events/modified',
      path: '/attributes/n',
      value: 7,
    });
    expect(written).toEqual([calls[0].text, calls[0].text]);
    subscribers.close();
  });

  it('drops a signal that finds the window full, counts it, and takes signals again once the broker confirmed', async () => {
    const { bus, subscribers, events, seen } = setUp();
    const confirms: Array<() => void> = [];
    const written: string[] = [];
    const window = new OutboundWindow(2);
    const pipeline = new OutboundPipeline({
      connectionId: 'c',
      target: target(0),
      registry: {
        mapIncoming: () => [],
        mapOutgoing: (_ids, json) => [
          { mapper: 'Ditto', result: [{ headers: {}, textPayload: String(json.value) }] },
        ],
        close: async () => undefined,
      },
      events,
      publisher: () => ({
        write: (m) => {
          written.push(m.payload.toString());
          return new Promise<WriteResponse | void>((resolve) => confirms.push(resolve));
        },
      }),
      window,
      subscribers,
      log: () => undefined,
    });
    pipeline.start();
    for (const n of [1, 2, 3])
      bus.publishThingEvent({ event: event(n), policyId: 'org.eclipse:p', thing: undefined });
    expect(written).toEqual(['1', '2']);
    expect(window.inFlight).toBe(2);
    expect(
      seen.filter((e) => e.type === 'dropped').map((e) => [e.success, e.correlationId, e.message]),
    ).toEqual([[false, 'c3', 'Dropped: more than 2 messages are in flight for this target.']]);
    confirms.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(window.inFlight).toBe(1);
    bus.publishThingEvent({ event: event(4), policyId: 'org.eclipse:p', thing: undefined });
    expect(written).toEqual(['1', '2', '4']);
    for (const confirm of confirms.splice(0)) confirm();
    await new Promise((r) => setImmediate(r));
    expect(window.inFlight).toBe(0);
    expect(seen.filter((e) => e.type === 'published' && e.success)).toHaveLength(3);
    subscribers.close();
  });
});
