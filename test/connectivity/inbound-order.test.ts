/**
 * The inbound pipeline's order (src/connectivity/inbound.ts): commands reach the things service in the order
 * the broker delivered their messages, whether the mappers answered synchronously (built-in) or not
 * (JavaScript), and also when both kinds alternate. A fake registry and executor (pure logic).
 */
import { describe, expect, it } from 'vitest';
import { ConnectivityEvents } from '../../src/connectivity/events.js';
import { InboundPipeline } from '../../src/connectivity/inbound.js';
import type { MapperRegistry } from '../../src/connectivity/mapping-port.js';
import type { Source } from '../../src/connectivity/model.js';
import { compileTemplate } from '../../src/placeholders/index.js';
import { parseProtocolMessage } from '../../src/protocol/index.js';

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
    const json = { topic: 'org.eclipse/t1/things/twin/commands/modify', headers: { 'correlation-id': text }, path: '/attributes/n', value: text };
    const outcome = [{ mapper: 'Ditto', result: [json], messages: [parseProtocolMessage(json)] }];
    return text.startsWith('slow') ? new Promise((resolve) => setTimeout(() => resolve(outcome), 5)) : outcome;
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
      return { thingId: command.thingId, channel: 'twin', action: command.action, path: command.path, status: 204, headers: {} };
    },
    events: new ConnectivityEvents(),
    maxInFlight: 100,
    maxPayloadBytes: 1024,
    replyPublisher: () => undefined,
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
      p.deliver({ address: 'in', headers: {}, payload: Buffer.from(text), ack: () => acked.push(text), nack: () => acked.push(`nack ${text}`) });
    }
    // 'a' needs no promise of its own: it is started before deliver returns.
    expect(executed).toEqual(['a']);
    await new Promise((r) => setTimeout(r, 50));
    expect(executed).toEqual(payloads);
    expect([...acked].sort()).toEqual([...payloads].sort());
    // Back to synchronous dispatch once nothing waits on the sequential stage.
    p.deliver({ address: 'in', headers: {}, payload: Buffer.from('h'), ack: () => acked.push('h'), nack: () => acked.push('nack h') });
    expect(executed.at(-1)).toBe('h');
  });
});
