/**
 * The shared parts of the at-least-once-through-a-crash tests (MQTT, Kafka, AMQP sources): a device sends
 * `messages` commands, message `seq` (1…messages) setting the counter of thing `seq % things` to `seq`,
 * while the Twinbridge process is killed with SIGKILL once and started again on the same data.
 */
import { expect } from 'vitest';
import { request } from '../helpers/app.js';
import { waitFor } from './helpers.js';

/** Creates the things `<ns>:<prefix>-<k>` with counter 0 and returns their IDs (thing k at index k). */
export async function createCounterThings(url: string, ns: string, prefix: string, count: number): Promise<string[]> {
  const thingIds = Array.from({ length: count }, (_, k) => `${ns}:${prefix}-${k}`);
  for (const thingId of thingIds) {
    expect((await request(url, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } })).status).toBe(201);
  }
  return thingIds;
}

/**
 * Calls `restart` (kill the process with SIGKILL, start it again) once, when the count `published` reaches a
 * quarter of `total`; `done` waits for the restart and answers the count at the kill.
 */
export function crashOnce(total: number, restart: () => Promise<void>): { published(count: number): void; done(): Promise<number> } {
  let killedAt = -1;
  let restarting: Promise<void> | undefined;
  return {
    published(count) {
      if (restarting !== undefined || count < total / 4) return;
      killedAt = count;
      restarting = restart();
    },
    async done() {
      await restarting;
      return killedAt;
    },
  };
}

/**
 * Waits until every thing holds its last sequence number, then checks that its revision counts every one
 * of its messages (a redelivered one twice): none was lost.
 */
export async function expectNoneLost(url: string, thingIds: readonly string[], messages: number, timeoutMs: number): Promise<void> {
  const things = thingIds.length;
  const lastOf = (k: number) => messages - ((messages - k) % things);
  const pattern = `${thingIds[0].slice(0, thingIds[0].lastIndexOf('-') + 1)}*`;
  await waitFor(
    async () => {
      const res = await request(url, 'GET', `/api/2/search/things?filter=${encodeURIComponent(`like(thingId,"${pattern}")`)}&fields=thingId,attributes&option=size(200)`);
      if (res.status !== 200) return false;
      const items = res.json.items as Array<{ thingId: string; attributes: { counter: number } }>;
      return items.length === things && items.every((t) => t.attributes.counter === lastOf(Number(t.thingId.slice(t.thingId.lastIndexOf('-') + 1))));
    },
    'every thing holds its last sequence number',
    timeoutMs,
    500,
  );
  for (const [k, thingId] of thingIds.entries()) {
    const res = await request(url, 'GET', `/api/2/things/${thingId}?fields=attributes/counter,_revision`);
    expect(res.json.attributes.counter, thingId).toBe(lastOf(k));
    expect(res.json._revision, thingId).toBeGreaterThanOrEqual(1 + messages / things);
  }
}
