/**
 * The streaming subscription state machine (src/history/subscriptions.ts) with an in-memory item source:
 * the rules whose timing a real transport cannot show quickly (idle timeout, lingering after the end,
 * cumulative demand, one read at a time).
 */
import { describe, expect, it } from 'vitest';
import { StreamingSubscriptions } from '../../../src/history/subscriptions.js';
import type { StreamingCommand } from '../../../src/model/signals.js';
import { renderProtocolMessage, type ProtocolJson } from '../../../src/protocol/index.js';

const auth = { subjects: ['nginx:ditto'] };
const base = {
  entityType: 'thing' as const,
  entityId: 'ns:t',
  path: '/',
  headers: { 'correlation-id': 'c' },
};
const subscribe: StreamingCommand & { path: string } = { ...base, type: 'subscribeForPersistedEvents' };
const request = (subscriptionId: string, demand: number): StreamingCommand & { path: string } => ({
  ...base,
  type: 'request',
  subscriptionId,
  demand,
});

function harness(items: number, options: { idleMs?: number; zombieMs?: number } = {}) {
  const sent: ProtocolJson[] = [];
  let reading = 0;
  let maxReading = 0;
  const subscriptions = new StreamingSubscriptions({
    open: async () =>
      (async function* () {
        for (let i = 1; i <= items; i++) {
          reading++;
          maxReading = Math.max(maxReading, reading);
          await new Promise((resolve) => setImmediate(resolve));
          reading--;
          yield { revision: i };
        }
      })(),
    send: (message) => void sent.push(renderProtocolMessage(message)),
    log: () => undefined,
    ...options,
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  const actions = () => sent.map((m) => m.topic.split('/').at(-1));
  return { subscriptions, sent, settle, actions, maxReading: () => maxReading };
}

describe('streaming subscriptions', () => {
  it('adds up the demand of requests and reads one item at a time', async () => {
    const h = harness(5);
    h.subscriptions.handle(subscribe, auth);
    h.subscriptions.handle(request('0', 2), auth);
    h.subscriptions.handle(request('0', 1), auth);
    await h.settle();
    expect(h.actions()).toEqual(['created', 'next', 'next', 'next']);
    h.subscriptions.handle(request('0', 9), auth);
    await h.settle();
    expect(h.actions()).toEqual(['created', 'next', 'next', 'next', 'next', 'next', 'complete']);
    expect(
      h.sent
        .filter((m) => m.topic.endsWith('/next'))
        .map((m) => (m.value as { item: { revision: number } }).item.revision),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(h.maxReading()).toBe(1);
  });

  it('completes right after the last item when the demand was exactly the number of items', async () => {
    const h = harness(3);
    h.subscriptions.handle(subscribe, auth);
    h.subscriptions.handle(request('0', 3), auth);
    await h.settle();
    expect(h.actions()).toEqual(['created', 'next', 'next', 'next', 'complete']);
  });

  it('fails a subscription that gets no request within the idle time with streaming.subscription.timeout', async () => {
    const h = harness(5, { idleMs: 30 });
    h.subscriptions.handle(subscribe, auth);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(h.actions()).toEqual(['created', 'failed']);
    expect(h.sent[1].value).toMatchObject({
      subscriptionId: '0',
      error: { status: 408, error: 'streaming.subscription.timeout' },
    });
  });

  it('keeps an ended subscription a while (requests then fail with a protocol error), then forgets it', async () => {
    const h = harness(1, { zombieMs: 40 });
    h.subscriptions.handle(subscribe, auth);
    h.subscriptions.handle(request('0', 5), auth);
    await h.settle();
    h.subscriptions.handle(request('0', 1), auth);
    expect((h.sent.at(-1)!.value as { error: { error: string } }).error.error).toBe(
      'streaming.subscription.protocol.error',
    );
    await new Promise((resolve) => setTimeout(resolve, 80));
    h.subscriptions.handle(request('0', 1), auth);
    expect((h.sent.at(-1)!.value as { error: { error: string } }).error.error).toBe(
      'streaming.subscription.not.found',
    );
  });

  it('sends nothing after close', async () => {
    const h = harness(3);
    h.subscriptions.handle(subscribe, auth);
    h.subscriptions.close();
    h.subscriptions.handle(request('0', 3), auth);
    await h.settle();
    expect(h.actions()).toEqual(['created']);
  });
});
