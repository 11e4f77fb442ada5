/**
 * Writes connectors/<folder>/README.md for every built-in connector from its definition (config schema and
 * capabilities; STYLE lesson 3). `npm run docs:connectors`; a test fails when a README is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connectors } from '../connectors/index.js';
import type { AnyConnector } from '../src/connectivity/index.js';
import { connectorReadme } from '../src/connectivity/docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const FOLDERS: Record<string, { folder: string; title: string }> = {
  mqtt: { folder: 'mqtt', title: 'MQTT 3.1.1 and MQTT 5 (`mqtt`, `mqtt-5`)' },
  'mqtt-5': { folder: 'mqtt', title: 'MQTT 3.1.1 and MQTT 5 (`mqtt`, `mqtt-5`)' },
  kafka: { folder: 'kafka', title: 'Kafka (`kafka`)' },
  'amqp-091': { folder: 'amqp-091', title: 'AMQP 0.9.1 (`amqp-091`)' },
  'amqp-10': { folder: 'amqp-10', title: 'AMQP 1.0 (`amqp-10`)' },
  'http-push': { folder: 'http-push', title: 'HTTP push (`http-push`)' },
};

/** The README text of each connector folder, from the built-in connector list. */
export function connectorReadmes(): Map<string, string> {
  const byFolder = new Map<string, { title: string; defs: AnyConnector[] }>();
  for (const c of connectors) {
    const place = FOLDERS[c.type];
    if (!place) throw new Error(`scripts/connectors-doc.ts: no folder known for connector type ${c.type}`);
    const entry = byFolder.get(place.folder) ?? { title: place.title, defs: [] };
    entry.defs.push(c);
    byFolder.set(place.folder, entry);
  }
  return new Map(
    [...byFolder].map(([folder, { title, defs }]) => [
      path.join(root, 'connectors', folder, 'README.md'),
      connectorReadme(defs, title),
    ]),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [file, text] of connectorReadmes()) writeFileSync(file, text);
  console.log('connector READMEs written');
}
