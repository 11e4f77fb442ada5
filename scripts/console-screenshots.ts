/**
 * `npm run docs:console`: the screenshots of the web console in docs/console/ (shown in the README). Starts
 * the service with a few things, a policy and an MQTT connection to the test Mosquitto (scripts/brokers)
 * with a minute of telemetry, then takes one picture per page in Debian's Chromium.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { startServer } from './brokers/index.js';
import { ensureChromium } from './browser.js';
import { build } from './build.js';
import { fromEnvironment, localEndpoint, localServers } from '../test/brokers/env.js';
import { startTestService } from '../test/helpers/app.js';
import { launchBrowser, pasteIntoEditor as paste } from '../test/helpers/browser.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'docs/console');
const TRAFFIC_MS = Number(process.env.TRAFFIC_MS ?? 60_000);

const INCOMING = `function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  const data = JSON.parse(textPayload);
  return Ditto.buildDittoProtocolMsg('org.example', data.device, 'things', 'twin', 'commands', 'modify',
    '/features/environment/properties', headers, { temperature: data.t, humidity: data.h });
}`;

async function main(): Promise<void> {
  const chromium = await ensureChromium();
  if ('unavailable' in chromium) throw new Error(chromium.unavailable);
  await build();
  const broker = fromEnvironment('mqtt') ?? localEndpoint('mqtt');
  if (broker.source === 'local') await startServer(localServers.mqtt);
  const service = await startTestService({ TWINBRIDGE_DEVOPS_USERS: 'devops:foobar,ditto:ditto' });
  const api = (method: string, p: string, body?: unknown, auth = 'ditto:ditto') =>
    service.request(method, p, { body, auth });
  try {
    await api('PUT', '/api/2/policies/org.example:building', {
      entries: {
        owner: {
          subjects: { 'nginx:ditto': { type: 'building operator' } },
          resources: {
            'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'policy:/': { grant: ['READ', 'WRITE'], revoke: [] },
            'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
          },
        },
        dashboard: {
          subjects: { 'nginx:dashboard': { type: 'read-only dashboard' } },
          resources: {
            'thing:/features': { grant: ['READ'], revoke: [] },
            'thing:/attributes/serial': { grant: [], revoke: ['READ'] },
          },
        },
      },
    });
    const rooms = ['kitchen', 'lab', 'lobby', 'office', 'server-room', 'warehouse'];
    for (const [i, room] of rooms.entries()) {
      await api('PUT', `/api/2/things/org.example:sensor-${i + 1}`, {
        policyId: 'org.example:building',
        attributes: { location: room, floor: 1 + (i % 3), serial: `TB-${4200 + i}` },
        features: {
          environment: { properties: { temperature: 20 + i, humidity: 40 + i } },
          battery: { properties: { level: 90 - i * 7 } },
        },
      });
    }
    await api('PUT', '/api/2/things/com.acme:gateway-1', {
      attributes: { vendor: 'ACME', firmware: '2.4.1' },
      features: { uplink: { properties: { rssi: -61 } } },
    });
    const created = await api(
      'POST',
      '/api/2/connections',
      {
        name: 'Building sensors (MQTT)',
        connectionType: 'mqtt',
        connectionStatus: 'open',
        uri: broker.url.replace(/^mqtt:/, 'tcp:'),
        specificConfig: { clientId: 'twinbridge-docs' },
        mappingDefinitions: {
          telemetry: {
            mappingEngine: 'JavaScript',
            options: { incomingScript: INCOMING, outgoingScript: '' },
          },
        },
        sources: [
          {
            addresses: ['docs/sensors/+'],
            qos: 1,
            authorizationContext: ['nginx:ditto'],
            payloadMapping: ['telemetry'],
          },
        ],
        targets: [
          {
            address: 'docs/events/{{ thing:id }}',
            topics: ['_/_/things/twin/events'],
            qos: 1,
            authorizationContext: ['nginx:ditto'],
          },
        ],
      },
      'devops:foobar',
    );
    const connectionId = created.json.id as string;
    await traffic(broker.url, rooms.length);

    const { context, close } = await launchBrowser();
    try {
      const page = await context.newPage();
      await mkdir(out, { recursive: true });
      const shot = async (name: string, fullPage = false) => {
        await writeFile(path.join(out, `${name}.png`), await page.screenshot({ type: 'png', fullPage }));
        console.log(`docs/console/${name}.png`);
      };
      await page.goto(`${service.url}/ui/`);
      await page.getByLabel('Username', { exact: true }).fill('ditto');
      await page.getByLabel('Password', { exact: true }).fill('ditto');
      await shot('sign-in');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('tr[data-thing-id]').first().waitFor();
      await shot('things');
      await page.getByRole('link', { name: 'org.example:sensor-1' }).click();
      await page.getByText('Live', { exact: true }).waitFor();
      await api('PUT', '/api/2/things/org.example:sensor-1/attributes/floor', 2);
      await page.locator('[data-pointer="/attributes/floor"]', { hasText: '2' }).waitFor();
      await shot('thing');
      await page.goto(`${service.url}/ui/policies/org.example:building`);
      await page.locator('tr[data-entry="dashboard"]').waitFor();
      await page.getByLabel('Path', { exact: true }).fill('/attributes/serial');
      await page.getByRole('button', { name: 'Check for me' }).click();
      await page.locator('#check-answer').waitFor();
      await shot('policy');
      await page.goto(`${service.url}/ui/overview`);
      await page.locator('#chart-inbound canvas').waitFor();
      await shot('overview');
      await page.goto(`${service.url}/ui/connections`);
      await page.locator('[data-connection-id] [data-status="open"]').waitFor();
      await shot('connections');
      await page.goto(`${service.url}/ui/connections/${connectionId}?tab=metrics`);
      await page.locator('#connection-chart canvas').waitFor();
      await shot('connection-metrics');
      await page.goto(`${service.url}/ui/connections/new`);
      await badConnection(page);
      await shot('connection-error');
      await page.goto(`${service.url}/ui/mapping`);
      await paste(page, 'incoming-script', BROKEN);
      await page.getByRole('button', { name: 'Map message' }).click();
      await page.locator('[data-editor="incoming-script"] .cm-inline-error').waitFor();
      await shot('mapping-tester', true);
    } finally {
      await close();
    }
  } finally {
    await service.close();
  }
}

/** Telemetry from `devices` sensors for TRAFFIC_MS, at a rate that changes over time. */
async function traffic(url: string, devices: number): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: 'twinbridge-docs-devices' });
  const started = Date.now();
  let n = 0;
  while (Date.now() - started < TRAFFIC_MS) {
    const phase = (Date.now() - started) / TRAFFIC_MS;
    const perTick = 1 + Math.round(4 * Math.sin(phase * Math.PI));
    for (let k = 0; k < perTick; k++) {
      const device = `sensor-${1 + (n++ % devices)}`;
      await client.publishAsync(
        `docs/sensors/${device}`,
        JSON.stringify({
          device,
          t: 20 + Math.round(Math.random() * 40) / 10,
          h: 40 + Math.round(Math.random() * 100) / 10,
        }),
        { qos: 1 },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.endAsync();
}

/** The sample script with a mistake on line 5 (the payload has no `temp`). */
const BROKEN = `function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  const data = JSON.parse(textPayload);
  const [namespace, name] = data.device.split(':');
  const path = '/features/temperature/properties';
  const value = { celsius: data.temp.value };
  return Ditto.buildDittoProtocolMsg(namespace, name, 'things', 'twin', 'commands', 'modify', path, headers, value);
}`;

/** A new connection whose URI the service refuses: the message shows at the "uri" line. */
async function badConnection(page: Page): Promise<void> {
  await paste(
    page,
    'connection-json',
    JSON.stringify(
      {
        name: 'Factory floor',
        connectionType: 'mqtt-5',
        connectionStatus: 'open',
        uri: 'tcp//broker.example:1883',
        sources: [{ addresses: ['factory/+/telemetry'], qos: 1, authorizationContext: ['nginx:ditto'] }],
      },
      null,
      2,
    ),
  );
  await page.getByRole('button', { name: 'Create connection' }).click();
  await page.locator('.cm-inline-error').waitFor();
}

await main();
