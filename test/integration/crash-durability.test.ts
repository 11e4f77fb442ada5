/**
 * Durability under kill -9 (issue 2): the service runs as its own process, clients write continuously,
 * the process is killed with SIGKILL mid-stream and restarted; every write that got a 2xx must be there
 * with its revision. Each thing has one writer, so at most one write per thing is in flight at the kill:
 * after the restart a thing holds either its last acknowledged value or that in-flight one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { request } from '../helpers/app.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../connectivity/helpers.js';

let dataDir: string;
let running: ServiceProcess | undefined;
afterAll(async () => {
  await running?.stop('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Writer {
  thingId: string;
  acked: { value: number; revision: number } | undefined;
  inFlight: number | undefined;
}

it('keeps every acknowledged write and its revision across a SIGKILL', async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tb-crash-'));
  running = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  const base = running.url;
  const writers: Writer[] = Array.from({ length: 40 }, (_, i) => ({
    thingId: `crash.test:thing-${i}`,
    acked: undefined,
    inFlight: undefined,
  }));
  let killed = false;
  const loops = writers.map(async (w) => {
    const created = await request(base, 'PUT', `/api/2/things/${w.thingId}`, {
      body: { attributes: { counter: 0 } },
    });
    expect(created.status).toBe(201);
    w.acked = { value: 0, revision: 1 };
    for (let seq = 1; !killed; seq++) {
      w.inFlight = seq;
      try {
        const res = await request(base, 'PUT', `/api/2/things/${w.thingId}/attributes/counter`, {
          body: seq,
        });
        if (res.status !== 204) throw new Error(`unexpected ${res.status} ${res.text}`);
        w.acked = { value: seq, revision: seq + 1 };
        w.inFlight = undefined;
      } catch (err) {
        if (killed) return; // the connection died with the process: this write was never acknowledged
        throw err;
      }
    }
  });
  // Let the writers run for 2.5 s and until more than 200 writes were acknowledged (fewer fit into 2.5 s on a
  // loaded machine), then kill the process without warning.
  const totalAcked = () => writers.reduce((sum, w) => sum + (w.acked?.value ?? 0), 0);
  await new Promise((r) => setTimeout(r, 2500));
  await waitFor(
    () => totalAcked() > 200,
    () => `more than 200 acknowledged writes (got ${totalAcked()})`,
    20_000,
  );
  killed = true;
  await running.stop('SIGKILL');
  await Promise.all(loops);
  expect(totalAcked()).toBeGreaterThan(200);

  running = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  for (const w of writers) {
    const res = await request(
      running.url,
      'GET',
      `/api/2/things/${w.thingId}?fields=attributes/counter,_revision`,
    );
    expect(res.status, w.thingId).toBe(200);
    const { counter } = res.json.attributes;
    const acceptable = [w.acked!.value, ...(w.inFlight !== undefined ? [w.inFlight] : [])];
    expect(acceptable, `${w.thingId} holds ${counter}`).toContain(counter);
    // The revision matches the value: creation was revision 1 and each write added one.
    expect(res.json._revision).toBe(counter + 1);
  }
  await running.stop('SIGTERM');
  running = undefined;
}, 60_000);
