// Runs every mapping fixture in mappings/*/fixtures.json through the JavaScript mapping engine
// (ditto-interfaces.md §12.2). A folder's incoming.js / outgoing.js are its incomingScript / outgoingScript.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createJavaScriptMapper,
  type DittoProtocolMessage,
  type ExternalMessage,
  type JavaScriptMapper,
  type JavaScriptMapperOptions,
} from '../src/mapping/javascript/index.js';

interface Fixture {
  name: string;
  direction: 'incoming' | 'outgoing';
  input: Record<string, unknown>;
  expected?: unknown[];
  expectedError?: string;
}

const root = dirname(fileURLToPath(import.meta.url));
const folders = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'fixtures.json')))
  .map((entry) => entry.name);

const read = (folder: string, file: string) =>
  existsSync(join(root, folder, file)) ? readFileSync(join(root, folder, file), 'utf8') : '';
const hexToBytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

/** Fixture input → ExternalMessage (`bytePayloadHex` → bytes). */
function externalInput(input: Record<string, unknown>): ExternalMessage {
  const { bytePayloadHex, ...rest } = input as Record<string, unknown> & { bytePayloadHex?: string };
  const message = rest as unknown as ExternalMessage;
  if (bytePayloadHex !== undefined) message.bytePayload = hexToBytes(bytePayloadHex);
  return message;
}

/** Outbound results in fixture form (bytes as `bytePayloadHex`). */
function comparable(messages: ExternalMessage[]): unknown[] {
  return messages.map(({ bytePayload, ...rest }) =>
    bytePayload ? { ...rest, bytePayloadHex: Buffer.from(bytePayload).toString('hex') } : rest,
  );
}

const mappers: JavaScriptMapper[] = [];
afterAll(() => mappers.forEach((m) => m.close()));

it('finds the mapping folders', () => {
  expect(folders.length).toBeGreaterThanOrEqual(5);
});

for (const folder of folders) {
  describe(folder, () => {
    const { options, cases } = JSON.parse(read(folder, 'fixtures.json')) as {
      options: JavaScriptMapperOptions;
      cases: Fixture[];
    };
    let mapper: Promise<JavaScriptMapper> | undefined;
    const getMapper = () =>
      (mapper ??= createJavaScriptMapper({
        ...options,
        incomingScript: read(folder, 'incoming.js'),
        outgoingScript: read(folder, 'outgoing.js'),
      }).then((m) => (mappers.push(m), m)));

    for (const fixture of cases) {
      it(fixture.name, async () => {
        const m = await getMapper();
        const result =
          fixture.direction === 'incoming'
            ? m.mapIncoming(externalInput(fixture.input))
            : m.mapOutgoing(fixture.input as DittoProtocolMessage).then(comparable);
        if (fixture.expectedError !== undefined) {
          await expect(result).rejects.toThrow(fixture.expectedError);
        } else {
          expect(await result).toEqual(fixture.expected);
        }
      });
    }
  });
}
