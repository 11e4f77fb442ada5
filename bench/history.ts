/**
 * History benchmark (issue 20): the 100-revision history of one thing streamed through the real API of a
 * Twinbridge process (embedded store) — over SSE (`from-historical-revision=0`, request sent → stream ended)
 * and over the WebSocket streaming subscription (subscribe → created → request 100 → 100 next → complete) —
 * beside, in the same run, a GET at a historical revision and a GET of the current thing. Rounds one after
 * the other from this (second) process; every round is counted.
 *
 *   npm run bench -- history      (or: node --import tsx bench/history.ts [rounds=50])
 * Target: a 100-revision stream answers in < 50 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServiceProcess } from '../test/helpers/service-process.js';

const rounds = Number(process.argv[2] ?? 50);
const REVISIONS = 100;
const THING = 'bench:history';
const auth = `Basic ${Buffer.from('ditto:ditto').toString('base64')}`;
const thingBody = {
  attributes: { manufacturer: 'ACME', serial: 'SN-0001', location: { lat: 52.52, lon: 13.405 } },
  features: { env: { properties: { temperature: 20, humidity: 40 } } },
};

interface Row {
  name: string;
  ms: number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timed(name: string, run: () => Promise<void>): Promise<Row> {
  await run(); // warm-up, not counted
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await run();
    ms.push(performance.now() - started);
  }
  return { name, ms };
}

/** The SSE history stream of the thing, read to its end; checks it held every revision. */
async function sse(base: string): Promise<void> {
  const response = await fetch(`${base}/api/2/things/${THING}?from-historical-revision=0`, {
    headers: { accept: 'text/event-stream', authorization: auth },
  });
  const text = await response.text();
  const events = text.split('\n').filter((l) => l.startsWith('data:')).length;
  if (events !== REVISIONS) throw new Error(`SSE gave ${events} events, not ${REVISIONS}`);
}

/** A WebSocket session that runs one streaming subscription at a time. */
async function wsClient(base: string): Promise<{ stream(): Promise<void>; close(): void }> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/2`, {
    headers: { authorization: auth },
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let onMessage: (text: string) => void = () => undefined;
  socket.on('message', (data) => onMessage(data.toString()));
  const [ns, name] = THING.split(':');
  const topic = `${ns}/${name}/things/twin/streaming`;
  return {
    stream: () =>
      new Promise<void>((resolve, reject) => {
        let next = 0;
        onMessage = (text) => {
          const message = JSON.parse(text) as { topic: string; value?: { subscriptionId: string } };
          if (message.topic === `${topic}/created`)
            socket.send(
              JSON.stringify({
                topic: `${topic}/request`,
                path: '/',
                value: { subscriptionId: message.value!.subscriptionId, demand: REVISIONS },
              }),
            );
          else if (message.topic === `${topic}/next`) next++;
          else if (message.topic !== `${topic}/complete`)
            reject(new Error(`unexpected: ${text.slice(0, 300)}`));
          else if (next === REVISIONS) resolve();
          else reject(new Error(`WebSocket gave ${next} items, not ${REVISIONS}`));
        };
        socket.send(JSON.stringify({ topic: `${topic}/subscribeForPersistedEvents`, path: '/', value: {} }));
      }),
    close: () => socket.close(),
  };
}

async function get(url: string): Promise<void> {
  const response = await fetch(url, { headers: { authorization: auth } });
  await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-bench-history-'));
  const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: dataDir, TWINBRIDGE_LOG_LEVEL: 'warn' });
  try {
    const put = (p: string, body: unknown) =>
      fetch(`${service.url}/api/2/things/${THING}${p}`, {
        method: 'PUT',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    if ((await put('', thingBody)).status !== 201) throw new Error('create failed');
    for (let r = 2; r <= REVISIONS; r++) {
      if ((await put('/features/env/properties/temperature', 20 + r / 10)).status !== 204)
        throw new Error('modify failed');
    }
    const ws = await wsClient(service.url);
    const rows: Row[] = [];
    try {
      rows.push(await timed(`SSE, ${REVISIONS} revisions`, () => sse(service.url)));
      rows.push(await timed(`WebSocket streaming subscription, ${REVISIONS} revisions`, () => ws.stream()));
      rows.push(
        await timed('GET at-historical-revision=50', () =>
          get(`${service.url}/api/2/things/${THING}?at-historical-revision=50`),
        ),
      );
      rows.push(await timed('GET current thing (peer)', () => get(`${service.url}/api/2/things/${THING}`)));
    } finally {
      ws.close();
    }
    console.log(
      `\nHistory of one thing (${REVISIONS} revisions, embedded store), ${rounds} rounds per row one after the other, client in a second process`,
    );
    console.log('| benchmark | p50 ms | p99 ms | max ms |');
    console.log('|---|---:|---:|---:|');
    for (const { name, ms } of rows) {
      const sorted = [...ms].sort((a, b) => a - b);
      console.log(
        `| ${name} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${sorted.at(-1)!.toFixed(1)} |`,
      );
    }
    const worst = Math.max(...rows.slice(0, 2).map((r) => [...r.ms].sort((a, b) => a - b).at(-1)!));
    console.log(
      `\n${REVISIONS}-revision stream, slowest round over SSE and WebSocket: ${worst.toFixed(1)} ms (target < 50 ms)`,
    );
  } finally {
    await service.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
