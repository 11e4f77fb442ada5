/**
 * The shared parts of the at-least-once-through-a-crash tests (MQTT, Kafka, AMQP sources): a device sends
 * `messages` commands, message `seq` (1…messages) setting the counter of thing `seq % things` to `seq`,
 * while the Twinbridge process is killed with SIGKILL once and started again on the same data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { request } from '../helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { DEVOPS, waitFor } from './helpers.js';

/**
 * The Twinbridge process under test, on a data directory of its own: `restart` kills it with SIGKILL and
 * starts it again on the same data; `stop` kills it and removes the data.
 */
export interface CrashingService {
  /** The URL of the process running now. */
  readonly url: string;
  /** A probe of whether the connection's live status is `open` (false while the process restarts). */
  isOpen(connectionId: string): () => Promise<boolean>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCrashingService(): Promise<CrashingService> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-alo-'));
  const env = { TWINBRIDGE_DATA_DIR: dataDir };
  let running: ServiceProcess | undefined = await startServiceProcess(env);
  return {
    get url() {
      if (!running) throw new Error('the service is restarting');
      return running.url;
    },
    isOpen: (connectionId) => async () =>
      running !== undefined &&
      (await request(running.url, 'GET', `/api/2/connections/${connectionId}/status`, { auth: DEVOPS })).json
        ?.liveStatus === 'open',
    async restart() {
      const old = running!;
      running = undefined;
      await old.stop('SIGKILL');
      running = await startServiceProcess(env);
    },
    async stop() {
      await running?.stop('SIGKILL');
      running = undefined;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates the things `<ns>:<prefix>-<k>` with counter 0 and returns their IDs (thing k at index k). */
export async function createCounterThings(
  url: string,
  ns: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const thingIds = Array.from({ length: count }, (_, k) => `${ns}:${prefix}-${k}`);
  for (const thingId of thingIds) {
    expect(
      (await request(url, 'PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
  }
  return thingIds;
}

/**
 * Restarts the service (SIGKILL, then started again) once, when the count `published` reaches a quarter of
 * `total`; `done` waits for the restart and checks that the kill landed mid-stream.
 */
export function crashOnce(
  total: number,
  service: CrashingService,
): { published(count: number): void; done(): Promise<void> } {
  let killedAt = -1;
  let restarting: Promise<void> | undefined;
  return {
    published(count) {
      if (restarting !== undefined || count < total / 4) return;
      killedAt = count;
      restarting = service.restart();
    },
    async done() {
      await restarting;
      expect(killedAt).toBeGreaterThan(0);
      expect(killedAt).toBeLessThan(total);
    },
  };
}

/**
 * Waits until every thing holds its last sequence number, then checks that its revision counts every one
 * of its messages (a redelivered one twice): none was lost.
 */
export async function expectNoneLost(
  url: string,
  thingIds: readonly string[],
  messages: number,
  timeoutMs: number,
): Promise<void> {
  const things = thingIds.length;
  const lastOf = (k: number) => messages - ((messages - k) % things);
  const pattern = `${thingIds[0].slice(0, thingIds[0].lastIndexOf('-') + 1)}*`;
  await waitFor(
    async () => {
      const res = await request(
        url,
        'GET',
        `/api/2/search/things?filter=${encodeURIComponent(`like(thingId,"${pattern}")`)}&fields=thingId,attributes&option=size(200)`,
      );
      if (res.status !== 200) return false;
      const items = res.json.items as Array<{ thingId: string; attributes: { counter: number } }>;
      return (
        items.length === things &&
        items.every(
          (t) => t.attributes.counter === lastOf(Number(t.thingId.slice(t.thingId.lastIndexOf('-') + 1))),
        )
      );
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
