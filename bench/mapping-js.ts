/**
 * JavaScript payload-mapping micro-benchmark (~40 s; run: node --import tsx bench/mapping-js.ts; BENCH_SECONDS
 * sets the seconds per row).
 *
 * Maps a typical telemetry message (parse ~100 B of JSON, build one `modify` command) and prints messages
 * per second, wall clock and per core (CPU time of all threads of this process, so isolated-vm's own
 * threads are counted), for:
 *   - direct:   the same script evaluated in Node's own realm and called without any sandbox (the ceiling);
 *   - sandbox:  Twinbridge's mapper (isolated-vm isolate, per-message time budget, JSON round trip,
 *               validation), fed N messages per tick so they are batched; with the text only, and with
 *               text and bytes as MQTT and Kafka sources give them;
 *   - the candidate technologies that were measured to choose the sandbox (node:vm with `timeout`,
 *     node:vm inside a worker thread, isolated-vm one call per message), unless `--no-compare`.
 * Target (issue 9): ≥ 100,000 messages/s on one core through the sandbox.
 */
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import ivm from 'isolated-vm';
import type * as JavaScriptMapping from '../src/mapping/javascript/index.js';
import type * as RuntimeSource from '../src/mapping/javascript/runtime-source.js';
import { built } from './support/built.js';

const { createJavaScriptMapper } = await built<typeof JavaScriptMapping>('src/mapping/javascript/index.ts');
const { DEFAULT_INCOMING, DITTO_SCOPE } = await built<typeof RuntimeSource>(
  'src/mapping/javascript/runtime-source.ts',
);

const SCRIPT = `
function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  const data = JSON.parse(textPayload);
  const [namespace, name] = data.deviceId.split(':');
  return Ditto.buildDittoProtocolMsg(namespace, name, 'things', 'twin', 'commands', 'modify',
    '/features/environment/properties',
    { 'correlation-id': headers['correlation-id'], 'response-required': false },
    { temperature: data.temp, humidity: data.hum, ts: data.ts });
}`;

// 1.5 s per row gave 80,000–120,000 msg/s for the same code from run to run; 5 s varies far less.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const COMPARE = !process.argv.includes('--no-compare');

const messages = Array.from({ length: 1000 }, (_, i) => ({
  headers: { 'content-type': 'application/json', 'correlation-id': `c-${i}` },
  textPayload: JSON.stringify({
    deviceId: `org.acme:sensor-${i % 100}`,
    temp: 20 + (i % 10) / 10,
    hum: 40 + (i % 7),
    ts: 1_700_000_000_000 + i,
  }),
  contentType: 'application/json',
}));

interface Row {
  name: string;
  wall: number;
  perCore: number;
}
const rows: Row[] = [];

/** Runs `round` (which maps `perRound` messages) repeatedly for SECONDS after a short warm-up. */
async function measure(
  name: string,
  perRound: number,
  round: () => unknown | Promise<unknown>,
): Promise<Row> {
  const warmUntil = Date.now() + 300;
  while (Date.now() < warmUntil) await round();
  let count = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const until = Date.now() + SECONDS * 1000;
  while (Date.now() < until) {
    await round();
    count += perRound;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const row = { name, wall: count / seconds, perCore: count / ((cpu.user + cpu.system) / 1e6) };
  rows.push(row);
  return row;
}

// direct: the same sources evaluated in this realm (no sandbox, no limits), with the JSON round trip Ditto does.
const direct = vm.runInThisContext(
  `(function () { ${DITTO_SCOPE}\n${DEFAULT_INCOMING}\n${SCRIPT}\n return mapToDittoProtocolMsgWrapper; })()`,
) as (m: unknown) => unknown;
await measure('direct call in Node (no sandbox)', messages.length, () => {
  for (const m of messages) JSON.parse(JSON.stringify(direct({ ...m, bytePayload: null })));
});

const mapper = await createJavaScriptMapper({ incomingScript: SCRIPT, outgoingScript: '' });
const check = await mapper.mapIncoming(messages[0]);
if (check[0]?.topic !== 'org.acme/sensor-0/things/twin/commands/modify')
  throw new Error(`unexpected mapping: ${JSON.stringify(check)}`);
await measure('sandbox: mapIncoming x1000 per tick', messages.length, () =>
  Promise.all(messages.map((m) => mapper.mapIncoming(m))),
);
await measure('sandbox: mapIncoming one at a time', 100, async () => {
  for (let i = 0; i < 100; i++) await mapper.mapIncoming(messages[i]);
});
// MQTT and Kafka sources hand scripts the payload as text and as bytes (src/mapping/payload.ts).
const withBytes = messages.map((m) => ({ ...m, bytePayload: Buffer.from(m.textPayload) }));
await measure('sandbox: x1000 per tick, text and bytes', withBytes.length, () =>
  Promise.all(withBytes.map((m) => mapper.mapIncoming(m))),
);
mapper.close();

if (COMPARE) {
  const wrapped = `${DITTO_SCOPE}\n${DEFAULT_INCOMING}\n${SCRIPT}
    function __one(s) { return JSON.stringify(mapToDittoProtocolMsgWrapper(JSON.parse(s))); }
    function __batch(s) { const a = JSON.parse(s); let o = ''; for (let i = 0; i < a.length; i++) o += (i ? ',' : '') + JSON.stringify(mapToDittoProtocolMsgWrapper(a[i])); return '[' + o + ']'; }`;
  const strings = messages.map((m) => JSON.stringify({ ...m, bytePayload: null }));
  const batches: string[] = [];
  for (let i = 0; i < messages.length; i += 100) batches.push(`[${strings.slice(i, i + 100).join(',')}]`);

  const context = vm.createContext({});
  new vm.Script(wrapped).runInContext(context);
  const perMessage = new vm.Script('__one(__in)');
  await measure('candidate: node:vm, timeout per message', 100, () => {
    for (let i = 0; i < 100; i++) {
      context.__in = strings[i];
      perMessage.runInContext(context, { timeout: 500 });
    }
  });
  const perBatch = new vm.Script('__batch(__in)');
  await measure('candidate: node:vm, timeout per 100 msgs', messages.length, () => {
    for (const b of batches) {
      context.__in = b;
      JSON.parse(perBatch.runInContext(context, { timeout: 500 }));
    }
  });

  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads'); const vm = require('node:vm');
     const c = vm.createContext({}); new vm.Script(${JSON.stringify(wrapped)}).runInContext(c);
     const b = vm.runInContext('__batch', c); parentPort.on('message', (m) => parentPort.postMessage(b(m)));`,
    { eval: true, resourceLimits: { maxOldGenerationSizeMb: 32 } },
  );
  const ask = (b: string) =>
    new Promise<string>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(b);
    });
  await measure('candidate: worker + node:vm, 100 msgs/post', messages.length, async () => {
    for (const b of batches) JSON.parse(await ask(b));
  });
  await worker.terminate();

  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  const ictx = await isolate.createContext();
  await (await isolate.compileScript(wrapped)).run(ictx);
  const one = (await ictx.global.get('__one', { reference: true })) as ivm.Reference<(s: string) => string>;
  await measure('candidate: isolated-vm, sync call per msg', 100, () => {
    for (let i = 0; i < 100; i++)
      JSON.parse(one.applySync(undefined, [strings[i]], { timeout: 500 }) as string);
  });
  isolate.dispose();
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
console.log(
  `\n${pad('variant', 44)} ${'msg/s wall'.padStart(10)} ${'msg/s/core'.padStart(10)} ${'vs direct'.padStart(9)}`,
);
const base = rows[0].perCore;
for (const r of rows)
  console.log(
    `${pad(r.name, 44)} ${num(r.wall)} ${num(r.perCore)} ${(r.perCore / base).toFixed(2).padStart(9)}`,
  );
const sandboxRow = rows[1];
console.log(
  `\nsandbox per core: ${num(sandboxRow.perCore).trim()} msg/s (target ≥ 100,000: ${sandboxRow.perCore >= 100_000 ? 'met' : 'NOT met'})`,
);
