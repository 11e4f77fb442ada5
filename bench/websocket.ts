/**
 * WebSocket fan-out benchmark (ditto-interfaces.md §5): 1,000 sessions subscribed with START-SEND-EVENTS
 * (clients in a second process), a stream of twin changes at increasing rates, and per step the
 * deliveries per second and the delivery latency (change issued → event received) percentiles.
 * Also the memory per idle session. Bounded to about a minute.
 *
 *   npm run bench -- websocket   (or, with the Node.js flags of `npm start`, as this process hosts the service:
 *   node --max-semi-space-size=64 --import tsx bench/websocket.ts [sessions=1000] [secondsPerStep=6])
 * Target on the 2-core reference machine: ≥ 100,000 deliveries/s with p99 < 50 ms.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import type * as AppModule from '../src/app.js';
import type * as ConfigModule from '../src/config/config.js';
import type * as ServicesModule from '../src/services.js';
import { built } from './support/built.js';

const self = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------------------------------- client side

/** Child process: opens the sessions, counts events and records latencies in 1 ms bins. */
async function client(url: string, sessions: number): Promise<void> {
  const histogram = new Uint32Array(10_000);
  const fanout = new Uint32Array(10_000);
  let received = 0;
  const sockets: WebSocket[] = [];
  const auth = `Basic ${Buffer.from('ditto:ditto').toString('base64')}`;
  // Parsing is kept minimal (byte search, no JSON.parse) so the client process measures the server.
  const VALUE = Buffer.from('"value":');
  const PUBLISHED = Buffer.from('"x-published":"');
  const ACK = 'START-SEND-EVENTS:ACK';
  const numberAt = (data: Buffer, marker: Buffer): number => {
    const at = data.indexOf(marker);
    if (at < 0) return NaN;
    let n = 0;
    for (let i = at + marker.length; i < data.length; i++) {
      const c = data[i];
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    return n;
  };
  for (let i = 0; i < sessions; i++) {
    const socket = new WebSocket(url, { headers: { authorization: auth }, perMessageDeflate: false });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data: Buffer) => {
        if (data.length === ACK.length && data.toString() === ACK) return resolve();
        const issued = numberAt(data, VALUE);
        if (Number.isNaN(issued)) return;
        received++;
        const now = Date.now();
        histogram[Math.min(histogram.length - 1, Math.max(0, now - issued))]++;
        const published = numberAt(data, PUBLISHED);
        if (!Number.isNaN(published)) fanout[Math.min(fanout.length - 1, Math.max(0, now - published))]++;
      });
      socket.once('open', () => socket.send('START-SEND-EVENTS'));
    });
  }
  process.send!({ type: 'ready' });
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'report') {
      process.send!({
        type: 'report',
        received,
        histogram: Array.from(histogram),
        fanout: Array.from(fanout),
        cpu: process.cpuUsage(),
      });
      received = 0;
      histogram.fill(0);
      fanout.fill(0);
    } else if (msg.type === 'exit') {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
  });
}

// ------------------------------------------------------------------------------------------- server side

function percentile(histogram: number[], total: number, p: number): number {
  let seen = 0;
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms];
    if (seen >= total * p) return ms;
  }
  return histogram.length;
}

async function main(): Promise<void> {
  const sessions = Number(process.argv[2] ?? 1000);
  const secondsPerStep = Number(process.argv[3] ?? 6);
  // The service as `npm start` runs it (dist/), hosted in this process.
  const { buildApp } = await built<typeof AppModule>('src/app.ts');
  const { loadConfig } = await built<typeof ConfigModule>('src/config/config.ts');
  const { createServices } = await built<typeof ServicesModule>('src/services.ts');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-ws-'));
  const config = loadConfig({ TWINBRIDGE_USERS: 'ditto:ditto', TWINBRIDGE_DATA_DIR: dataDir });
  const services = await createServices(config, pino({ level: 'silent' }));
  const app = await buildApp(services);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const auth = { subjects: ['nginx:ditto'] };
  // Instrumentation: stamp each event when it is published on the bus (after it is durable), so clients can
  // tell the fan-out latency (bus → client) from the end-to-end latency (command issued → client).
  const publish = services.bus.publishThingEvent.bind(services.bus);
  services.bus.publishThingEvent = (published) => {
    published.event.headers = { ...published.event.headers, 'x-published': String(Date.now()) };
    const t0 = process.hrtime.bigint();
    publish(published);
    dispatchNs += Number(process.hrtime.bigint() - t0);
    dispatched++;
  };
  let dispatchNs = 0;
  let dispatched = 0;
  const things = Array.from({ length: 100 }, (_, i) => `bench.ws:thing-${i}`);
  for (const thingId of things)
    await services.things.execute(
      { thingId, channel: 'twin', action: 'modify', path: '/', value: { attributes: { t: 0 } }, headers: {} },
      auth,
    );

  // A real gc() for stable memory numbers, also when run without --expose-gc (npm run bench).
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  gc?.();
  const before = process.memoryUsage();
  const child = fork(self, ['client', base.replace('http', 'ws') + '/ws/2', String(sessions)], {
    execArgv: ['--import', 'tsx'],
  });
  const messages: Array<(m: any) => void> = [];
  child.on('message', (m) => messages.shift()?.(m));
  const nextMessage = () => new Promise<any>((resolve) => messages.push(resolve));
  const connectStarted = Date.now();
  await nextMessage(); // ready
  const connectMs = Date.now() - connectStarted;
  gc?.();
  await new Promise((r) => setTimeout(r, 500));
  gc?.();
  const after = process.memoryUsage();
  const perSessionHeap = (after.heapUsed - before.heapUsed) / sessions;
  const perSessionRss = (after.rss - before.rss) / sessions;

  console.log(`${sessions} sessions connected and subscribed in ${connectMs} ms`);
  console.log(
    `memory per idle session: heap ${(perSessionHeap / 1024).toFixed(1)} KiB, rss ${(perSessionRss / 1024).toFixed(1)} KiB${gc ? '' : ' (run with --expose-gc for stable numbers)'}`,
  );
  console.log('');
  console.log('Latency: end-to-end = change issued → event received (includes the durable write, fsync);');
  console.log(
    '         fan-out    = event published on the bus (durable) → event received by the client process.',
  );
  console.log('');
  console.log(
    '| changes/s offered | deliveries/s | end-to-end p50 / p99 / max ms | fan-out p50 / p99 / max ms | CPU server / clients |',
  );
  console.log('|---:|---:|---:|---:|---:|');

  const rates = [50, 100, 200, 400];
  for (const rate of rates) {
    await new Promise((r) => setTimeout(r, 300));
    child.send({ type: 'report' }); // reset counters
    await nextMessage();
    const clientCpuBefore = (
      (await (async () => (child.send({ type: 'report' }), nextMessage()))()) as { cpu: NodeJS.CpuUsage }
    ).cpu;
    const serverCpuBefore = process.cpuUsage();
    const started = Date.now();
    let issued = 0;
    let k = 0;
    // A tick every 10 ms issues the changes due by then (spread over the things).
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.floor(((Date.now() - started) / 1000) * rate);
        while (issued < due) {
          const thingId = things[k++ % things.length];
          issued++;
          void services.things.execute(
            {
              thingId,
              channel: 'twin',
              action: 'modify',
              path: '/attributes/t',
              value: Date.now(),
              headers: {},
            },
            auth,
          );
        }
        if (Date.now() - started >= secondsPerStep * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const issueSeconds = (Date.now() - started) / 1000;
    // Wait for the tail to arrive (at most 3 s).
    await new Promise((r) => setTimeout(r, 1000));
    child.send({ type: 'report' });
    const report = (await nextMessage()) as {
      received: number;
      histogram: number[];
      fanout: number[];
      cpu: NodeJS.CpuUsage;
    };
    const serverCpu = process.cpuUsage(serverCpuBefore);
    const wall = (Date.now() - started) * 1000;
    const cpuShare = (u: NodeJS.CpuUsage) => `${Math.round(((u.user + u.system) / wall) * 100)}%`;
    const clientCpu = {
      user: report.cpu.user - clientCpuBefore.user,
      system: report.cpu.system - clientCpuBefore.system,
    };
    const expected = issued * sessions;
    const seconds = issueSeconds;
    const stats = (h: number[]) => {
      let max = 0;
      h.forEach((c, ms) => c > 0 && (max = ms));
      return `${percentile(h, report.received, 0.5)} / ${percentile(h, report.received, 0.99)} / ${max}`;
    };
    const complete = report.received >= expected ? '' : ` (${expected - report.received} missing)`;
    if (process.env.BENCH_DEBUG)
      console.error(
        `dispatch: ${(dispatchNs / Math.max(1, dispatched) / 1e6).toFixed(2)} ms per event (server CPU in the bus listener)`,
      );
    dispatchNs = 0;
    dispatched = 0;
    console.log(
      `| ${rate} | ${(report.received / seconds).toFixed(0)}${complete} | ${stats(report.histogram)} | ${stats(report.fanout)} | ${cpuShare(serverCpu)} / ${cpuShare(clientCpu)} |`,
    );
  }
  child.send({ type: 'exit' });
  await app.close();
  await services.close();
  await rm(dataDir, { recursive: true, force: true });
}

if (process.argv[2] === 'client') void client(process.argv[3], Number(process.argv[4]));
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
