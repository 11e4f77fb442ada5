/**
 * The order of the connection pipelines (pure logic, with a fake registry, executor, enforcer and publisher):
 * - inbound (src/connectivity/inbound.ts): commands reach the things service in the order the broker
 *   delivered their messages, whether the mappers answered synchronously (built-in) or not (JavaScript),
 *   also when both kinds alternate;
 * - outbound (src/connectivity/outbound.ts, a subscriber of the streaming registry): events reach the
 *   publisher in the order they were published, also when one of them waits for its policy to load.
 */
import { describe, expect, it } from 'vitest';
import { SignalBus } from '../../src/bus/signal-bus.js';
import { ConnectivityEvents } from '../../src/connectivity/events.js';
import { InboundPipeline } from '../../src/connectivity/inbound.js';
import { OutboundPipeline } from '../../src/connectivity/outbound.js';
import type { MapperRegistry } from '../../src/connectivity/mapping-port.js';
import type { Source } from '../../src/connectivity/model.js';
import type { ThingEvent } from '../../src/model/signals.js';
import { createEnforcer } from '../../src/policies/enforcer.js';
import { compileTemplate } from '../../src/placeholders/index.js';
import { parseProtocolMessage } from '../../src/protocol/index.js';
import { OutboundWindow } from '../../src/connectivity/window.js';
import { SubscriberRegistry } from '../../src/streaming/registry.js';
import type { ThingEnforcer } from '../../src/things/policy-directory.js';
import { waitFor } from './helpers.js';

const source: Source = {
  index: 0,
  addresses: ['in'],
  consumerCount: 1,
  qos: 1,
  authorizationContext: [compileTemplate('nginx:ditto')],
  acknowledgementRequests: { includes: [] },
  declaredAcks: [],
  headerMapping: [],
  payloadMapping: [],
};

/** Messages whose payload starts with "slow" are mapped after a delay (like a JavaScript mapper). */
const registry: MapperRegistry = {
  mapIncoming(_ids, message) {
    const text = message.textPayload ?? '';
    const json = {
      topic: 'org.eclipse/t1/things/twin/commands/modify',
      headers: { 'correlation-id': text },
      path: '/attributes/n',
      value: text,
    };
    const outcome = [{ mapper: 'Ditto', result: [json], messages: [parseProtocolMessage(json)] }];
    return text.startsWith('slow')
      ? new Promise((resolve) => setTimeout(() => resolve(outcome), 5))
      : outcome;
  },
  mapOutgoing: () => [],
  close: async () => undefined,
};

function pipeline(executed: string[]): InboundPipeline {
  return new InboundPipeline({
    connectionId: 'c',
    source,
    registry,
    execute: async (command) => {
      executed.push(String(command.value));
      return {
        thingId: command.thingId,
        channel: 'twin',
        action: command.action,
        path: command.path,
        status: 204,
        headers: {},
      };
    },
    events: new ConnectivityEvents(),
    maxInFlight: 100,
    maxPayloadBytes: 1024,
    replyPublisher: () => undefined,
    replies: new OutboundWindow(100),
    log: () => undefined,
  });
}

describe('inbound order', () => {
  it('hands commands on in arrival order when synchronous and asynchronous mappings alternate', async () => {
    const executed: string[] = [];
    const acked: string[] = [];
    const p = pipeline(executed);
    const payloads = ['a', 'slow-b', 'c', 'd', 'slow-e', 'slow-f', 'g'];
    for (const text of payloads) {
      p.deliver({
        address: 'in',
        headers: {},
        payload: Buffer.from(text),
        text: 'utf-8',
        ack: () => acked.push(text),
        nack: () => acked.push(`nack ${text}`),
      });
    }
    // 'a' needs no promise of its own: it is started before deliver returns.
    expect(executed).toEqual(['a']);
    await new Promise((r) => setTimeout(r, 50));
    expect(executed).toEqual(payloads);
    expect([...acked].sort()).toEqual([...payloads].sort());
    // Back to synchronous dispatch once nothing waits on the sequential stage.
    p.deliver({
      address: 'in',
      headers: {},
      payload: Buffer.from('h'),
      text: 'utf-8',
      ack: () => acked.push('h'),
      nack: () => acked.push('nack h'),
    });
    expect(executed.at(-1)).toBe('h');
  });
});

describe('outbound order', () => {
  it('publishes events in order when one waits for its policy to load', async () => {
    const enforcer = createEnforcer({
      policyId: 'org.eclipse:p',
      entries: {
        all: {
          subjects: { 'nginx:ditto': { type: 'test' } },
          resources: { 'thing:/': { grant: ['READ'], revoke: [] } },
        },
      },
    } as never);
    const published: string[] = [];
    // The policy of the second event is not cached yet: it loads asynchronously.
    const loaded = new Set(['org.eclipse:p']);
    const policies = {
      enforcerOfHead: (policyId: string | undefined): ThingEnforcer | undefined =>
        policyId !== undefined && loaded.has(policyId) ? enforcer : undefined,
      load: (policyId: string) =>
        new Promise<void>((resolve) => setTimeout(() => resolve(void loaded.add(policyId)), 5)),
    };
    const bus = new SignalBus((err) => {
      throw err;
    });
    const subscribers = new SubscriberRegistry({
      bus,
      policies: policies as never,
      onError: (err) => expect.unreachable(String(err)),
    });
    const target = new OutboundPipeline({
      connectionId: 'c',
      target: {
        index: 0,
        address: 'out',
        addressTemplate: compileTemplate('out'),
        topics: [{ kind: 'twin.events' }],
        authorizationContext: ['nginx:ditto'],
        headerMapping: [],
        payloadMapping: [],
        qos: 1,
      },
      registry: {
        mapIncoming: () => [],
        mapOutgoing: (_ids, json) => [
          { mapper: 'Ditto', result: [{ headers: {}, textPayload: JSON.stringify(json.value) }] },
        ],
        close: async () => undefined,
      },
      events: new ConnectivityEvents(),
      publisher: () => ({
        write: async (message) => {
          published.push(message.payload.toString());
        },
      }),
      window: new OutboundWindow(100),
      subscribers,
      log: () => undefined,
    });
    target.start();
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
    for (const n of [1, 2, 3, 4])
      bus.publishThingEvent({
        event: event(n),
        policyId: n === 2 ? 'org.eclipse:slow' : 'org.eclipse:p',
        thing: undefined,
      });
    // The first event needs no promise before its write; the others wait behind the second.
    expect(published).toEqual(['1']);
    await waitFor(() => published.length === 4, 'all four published');
    await target.drain();
    expect(published).toEqual(['1', '2', '3', '4']);
    subscribers.close();
  });
});
