/**
 * Mapper-registry micro-benchmark (bounded to ~8 s; run: node --import tsx bench/mapping-registry.ts).
 * What the registry adds on the inbound hot path (fan-out, conditions, limits, envelope check of every
 * result) on top of the mappers themselves. Messages per second, wall clock, 200 messages in flight:
 *   - Ditto alias (payload parse + protocol envelope check);
 *   - JavaScript definition (typical telemetry script, batched by the engine) vs the engine called directly;
 *   - the same JavaScript definition with one incoming condition;
 *   - fan-out to two JavaScript definitions (two isolates, both map every message).
 */
import type * as JavaScriptMapping from '../src/mapping/javascript/index.js';
import type * as Registry from '../src/mapping/registry.js';
import { built } from './support/built.js';

const { createJavaScriptMapper } = await built<typeof JavaScriptMapping>('src/mapping/javascript/index.ts');
const { createMapperRegistry } = await built<typeof Registry>('src/mapping/registry.ts');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.2);
const IN_FLIGHT = 200;

const SCRIPT = `
function mapToDittoProtocolMsg(headers, textPayload) {
  var data = JSON.parse(textPayload);
  var id = data.deviceId.split(':');
  return Ditto.buildDittoProtocolMsg(id[0], id[1], 'things', 'twin', 'commands', 'modify',
    '/features/environment/properties', { 'correlation-id': headers['correlation-id'] },
    { temperature: data.temp, humidity: data.hum });
}`;

const telemetry = Array.from({ length: 1000 }, (_, i) => ({
  headers: { 'content-type': 'application/json', 'correlation-id': `c-${i}`, mode: 'on' },
  textPayload: JSON.stringify({
    deviceId: `org.acme:sensor-${i % 100}`,
    temp: 20 + (i % 10) / 10,
    hum: 40 + (i % 7),
  }),
}));
const protocol = telemetry.map((m, i) => ({
  headers: { 'content-type': 'application/vnd.eclipse.ditto+json' },
  textPayload: JSON.stringify({
    topic: `org.acme/sensor-${i % 100}/things/twin/commands/modify`,
    headers: { 'correlation-id': `c-${i}` },
    path: '/features/environment/properties',
    value: { temperature: 20, humidity: 41 },
  }),
}));

async function measure(name: string, round: (offset: number) => Promise<unknown>): Promise<void> {
  const warmUntil = Date.now() + 300;
  let offset = 0;
  while (Date.now() < warmUntil) await round((offset += IN_FLIGHT) % 1000);
  let count = 0;
  const start = process.hrtime.bigint();
  const until = Date.now() + SECONDS * 1000;
  while (Date.now() < until) {
    await round((offset += IN_FLIGHT) % 1000);
    count += IN_FLIGHT;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${name.padEnd(44)} ${Math.round(count / seconds)
      .toLocaleString('en-US')
      .padStart(10)} msg/s`,
  );
}

const batch = <T>(items: T[], offset: number) => items.slice(offset, offset + IN_FLIGHT);
const definitions = {
  js: { mappingEngine: 'JavaScript', options: { incomingScript: SCRIPT, outgoingScript: '' } },
  jsIf: {
    mappingEngine: 'JavaScript',
    options: { incomingScript: SCRIPT, outgoingScript: '' },
    incomingConditions: { on: "fn:filter(header:mode,'eq','on')" },
  },
};
const registry = await createMapperRegistry(definitions, { connectionId: 'bench' });
const direct = await createJavaScriptMapper({ incomingScript: SCRIPT, outgoingScript: '' });

await measure('Ditto alias', (o) =>
  Promise.all(batch(protocol, o).map((m) => registry.mapIncoming(['Ditto'], m))),
);
await measure('JavaScript engine called directly', (o) =>
  Promise.all(batch(telemetry, o).map((m) => direct.mapIncoming(m))),
);
await measure('JavaScript through the registry', (o) =>
  Promise.all(batch(telemetry, o).map((m) => registry.mapIncoming(['js'], m))),
);
await measure('JavaScript + 1 condition through the registry', (o) =>
  Promise.all(batch(telemetry, o).map((m) => registry.mapIncoming(['jsIf'], m))),
);
await measure('fan-out js + jsIf (per original message)', (o) =>
  Promise.all(batch(telemetry, o).map((m) => registry.mapIncoming(['js', 'jsIf'], m))),
);
direct.close();
await registry.close();
