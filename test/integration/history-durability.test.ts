/**
 * History under kill -9 (the embedded journal is the history): the service runs as its own process, each
 * thing's writer sets `counter` to the write's number, the process is killed with SIGKILL mid-stream and
 * restarted. Every acknowledged revision must then be in the thing's history with its value (revision r holds
 * counter r - 1). The second run kills the service while history compaction rewrites journal files (a 1 s
 * retention compacted every 200 ms): whatever history still answers must be right, and current states intact.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { request } from '../helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../connectivity/helpers.js';

const dirs: string[] = [];
let running: ServiceProcess | undefined;
afterAll(async () => {
  await running?.stop('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Writer {
  thingId: string;
  /** The last acknowledged revision. */
  acked: number;
}

/** Writers for `things` things for `minMs` and until `enough` writes were acknowledged, then SIGKILL. */
async function writeAndKill(
  env: Record<string, string>,
  things: number,
  enough: number,
  minMs: number,
): Promise<Writer[]> {
  running = await startServiceProcess({ ...env, TWINBRIDGE_LOG_LEVEL: 'warn' });
  const base = running.url;
  const writers: Writer[] = Array.from({ length: things }, (_, i) => ({
    thingId: `history.crash:thing-${i}`,
    acked: 0,
  }));
  let killed = false;
  const loops = writers.map(async (w) => {
    expect(
      (await request(base, 'PUT', `/api/2/things/${w.thingId}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
    w.acked = 1;
    for (let seq = 1; !killed; seq++) {
      try {
        const res = await request(base, 'PUT', `/api/2/things/${w.thingId}/attributes/counter`, {
          body: seq,
        });
        if (res.status !== 204) throw new Error(`unexpected ${res.status} ${res.text}`);
        w.acked = seq + 1;
      } catch (err) {
        if (killed) return; // died with the process: never acknowledged
        throw err;
      }
    }
  });
  const total = () => writers.reduce((sum, w) => sum + w.acked, 0);
  await new Promise((resolve) => setTimeout(resolve, minMs));
  await waitFor(
    () => total() > enough,
    () => `more than ${enough} acknowledged writes (got ${total()})`,
    30_000,
  );
  killed = true;
  await running.stop('SIGKILL');
  await Promise.all(loops);
  return writers;
}

/** The thing's history as the SSE history stream gives it: revision → counter. */
async function historyOf(base: string, thingId: string): Promise<Map<number, number>> {
  const response = await fetch(
    `${base}/api/2/things/${thingId}?from-historical-revision=0&fields=_revision,attributes/counter`,
    {
      headers: {
        accept: 'text/event-stream',
        authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}`,
      },
    },
  );
  expect(response.status).toBe(200);
  const revisions = new Map<number, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('data:')) continue;
    const event = JSON.parse(line.slice(5)) as { _revision: number; attributes: { counter: number } };
    revisions.set(event._revision, event.attributes.counter);
  }
  return revisions;
}

it('keeps every acknowledged revision in history across a SIGKILL', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-history-crash-'));
  dirs.push(dataDir);
  const writers = await writeAndKill({ TWINBRIDGE_DATA_DIR: dataDir }, 20, 300, 1000);
  running = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  for (const w of writers) {
    const history = await historyOf(running.url, w.thingId);
    for (let r = 1; r <= w.acked; r++) expect(history.get(r), `${w.thingId} revision ${r}`).toBe(r - 1);
    // At most the one write in flight at the kill is there beyond the acknowledged ones.
    expect(history.size - w.acked).toBeLessThanOrEqual(1);
    const at = await request(
      running.url,
      'GET',
      `/api/2/things/${w.thingId}/attributes/counter?at-historical-revision=${Math.ceil(w.acked / 2)}`,
    );
    expect(at.json).toBe(Math.ceil(w.acked / 2) - 1);
  }
  await running.stop('SIGTERM');
  running = undefined;
}, 90_000);

it('recovers a consistent history after a SIGKILL during compaction', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-history-compact-'));
  dirs.push(dataDir);
  const env = {
    TWINBRIDGE_DATA_DIR: dataDir,
    TWINBRIDGE_HISTORY_RETENTION: '1s',
    TWINBRIDGE_HISTORY_COMPACTION_INTERVAL: '200ms',
  };
  // Long enough for several compactions (each rotates the journal, snapshots and rewrites files) to run.
  const writers = await writeAndKill(env, 10, 400, 3000);
  // Compaction ran: it rotated the journal to compact it (a snapshot; the size limit is far away).
  expect((await readdir(dataDir)).some((f) => f.startsWith('snapshot-'))).toBe(true);
  running = await startServiceProcess({ ...env, TWINBRIDGE_LOG_LEVEL: 'warn' });
  let pruned = 0;
  for (const w of writers) {
    const current = await request(
      running.url,
      'GET',
      `/api/2/things/${w.thingId}?fields=attributes/counter,_revision`,
    );
    expect([w.acked, w.acked + 1]).toContain(current.json._revision);
    expect(current.json.attributes.counter).toBe(current.json._revision - 1);
    const history = await historyOf(running.url, w.thingId);
    expect(history.get(current.json._revision)).toBe(current.json._revision - 1);
    for (const [revision, counter] of history)
      expect(counter, `${w.thingId} revision ${revision}`).toBe(revision - 1);
    if (!history.has(1)) pruned++;
  }
  expect(pruned).toBeGreaterThan(0);
  await running.stop('SIGTERM');
  running = undefined;
}, 90_000);
