// Ditto's JavaScript mapping API (ditto-interfaces.md §12.2, §14 item 14), exercised with scripts written
// the way Ditto's documentation describes them.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createJavaScriptMapper,
  optionFlag,
  type DittoProtocolMessage,
  type JavaScriptMapper,
  type JavaScriptMapperOptions,
} from '../../../src/mapping/javascript/index.js';
import { isDittoError } from '../../../src/errors/ditto-error.js';

const mappers: JavaScriptMapper[] = [];
async function mapper(options: JavaScriptMapperOptions, limits = {}): Promise<JavaScriptMapper> {
  const created = await createJavaScriptMapper(options, limits);
  mappers.push(created);
  return created;
}
afterEach(() => {
  for (const m of mappers.splice(0)) m.close();
});

async function failure(
  promise: Promise<unknown>,
): Promise<{ error: string; status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (!isDittoError(error)) throw error;
    return { error: error.error, status: error.status, message: error.message };
  }
  throw new Error('expected the promise to reject');
}

const json = (payload: unknown, headers: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/json', ...headers },
  textPayload: JSON.stringify(payload),
});

const telemetryScript = `
function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  const data = JSON.parse(textPayload);
  const [namespace, name] = data.device.split(':');
  return Ditto.buildDittoProtocolMsg(namespace, name, 'things', 'twin', 'commands', 'modify',
    '/features/climate/properties', { 'correlation-id': headers['correlation-id'], 'response-required': false },
    { temperature: data.t, humidity: data.h });
}`;

const event: DittoProtocolMessage = {
  topic: 'org.acme/boiler-7/things/twin/events/modified',
  path: '/features/climate/properties/temperature',
  headers: { 'correlation-id': 'c-9', 'content-type': 'application/json' },
  value: 21.5,
  revision: 42,
  timestamp: '2026-01-01T00:00:00Z',
};

describe('inbound mapping', () => {
  it('maps JSON telemetry to a modify command with the default wrapper', async () => {
    const m = await mapper({ incomingScript: telemetryScript, outgoingScript: '' });
    const out = await m.mapIncoming(
      json({ device: 'org.acme:boiler-7', t: 21.5, h: 40 }, { 'correlation-id': 'abc' }),
    );
    expect(out).toEqual([
      {
        topic: 'org.acme/boiler-7/things/twin/commands/modify',
        path: '/features/climate/properties',
        headers: { 'correlation-id': 'abc', 'response-required': false },
        value: { temperature: 21.5, humidity: 40 },
      },
    ]);
  });

  it('calls a script-defined mapToDittoProtocolMsgWrapper with the whole external message', async () => {
    const m = await mapper({
      incomingScript: `
        function mapToDittoProtocolMsgWrapper(externalMsg) {
          return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/attributes/seen',
            {}, { headers: externalMsg.headers, text: externalMsg.textPayload, bytes: externalMsg.bytePayload, type: externalMsg.contentType });
        }`,
    });
    const [out] = await m.mapIncoming({
      headers: { 'content-type': 'text/plain', x: '1' },
      textPayload: 'hello',
    });
    expect(out.value).toEqual({
      headers: { 'content-type': 'text/plain', x: '1' },
      text: 'hello',
      bytes: null,
      type: 'text/plain',
    });
  });

  it('returns every message of an array result and nothing for null or undefined', async () => {
    const m = await mapper({
      incomingScript: `
        function mapToDittoProtocolMsg(headers, textPayload) {
          if (textPayload === 'none') return null;
          if (textPayload === 'nothing') return undefined;
          return [1, 2].map((i) => Ditto.buildDittoProtocolMsg('ns', 'd' + i, 'things', 'twin', 'commands', 'modify', '/attributes/i', {}, i));
        }`,
    });
    const text = (t: string) => ({ headers: { 'content-type': 'text/plain' }, textPayload: t });
    expect((await m.mapIncoming(text('two'))).map((x) => x.topic)).toEqual([
      'ns/d1/things/twin/commands/modify',
      'ns/d2/things/twin/commands/modify',
    ]);
    expect(await m.mapIncoming(text('none'))).toEqual([]);
    expect(await m.mapIncoming(text('nothing'))).toEqual([]);
  });

  it('JSON round-trips results: undefined fields vanish, Dates become strings, missing headers become {}', async () => {
    const m = await mapper({
      incomingScript: `
        function mapToDittoProtocolMsg() {
          return { topic: 'ns/n/things/twin/commands/modify', path: '/attributes/at', value: new Date(0), status: undefined };
        }`,
    });
    expect(await m.mapIncoming(json({}))).toEqual([
      {
        topic: 'ns/n/things/twin/commands/modify',
        path: '/attributes/at',
        headers: {},
        value: '1970-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('gives a message with bytes only an ArrayBuffer and no text', async () => {
    const m = await mapper({
      incomingScript: `
        function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
          const view = new DataView(bytePayload);
          return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/attributes/v', {},
            { isBuffer: bytePayload instanceof ArrayBuffer, text: textPayload, u16: view.getUint16(0), type: contentType });
        }`,
    });
    const [out] = await m.mapIncoming({
      headers: { 'content-type': 'application/octet-stream' },
      bytePayload: new Uint8Array([0x08, 0xbd]),
    });
    expect(out.value).toEqual({ isBuffer: true, text: null, u16: 0x08bd, type: 'application/octet-stream' });
  });

  it('passes the forms the message has, whatever its content type: text, bytes or both (as Ditto scripts get them)', async () => {
    const m = await mapper({
      incomingScript: `function mapToDittoProtocolMsg(h, textPayload, bytePayload) {
        return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/attributes/t', {},
          [textPayload, bytePayload === null ? null : Array.from(new Uint8Array(bytePayload))]);
      }`,
    });
    const [both] = await m.mapIncoming({
      headers: { 'content-type': 'application/octet-stream' },
      textPayload: '\ufffd*',
      bytePayload: new Uint8Array([0xff, 0x2a]),
    });
    expect(both.value).toEqual(['\ufffd*', [0xff, 0x2a]]);
    const [textOnly] = await m.mapIncoming({
      headers: { 'content-type': 'application/octet-stream' },
      textPayload: 'é',
    });
    expect(textOnly.value).toEqual(['é', null]);
    const [neither] = await m.mapIncoming({ headers: {} });
    expect(neither.value).toEqual([null, null]);
  });

  it('fails a result without a string topic or path, or with non-object headers', async () => {
    const m = await mapper({
      incomingScript: `function mapToDittoProtocolMsg(h, t) {
        if (t === 'topic') return { path: '/' , headers: {} };
        if (t === 'path') return { topic: 'a/b/things/twin/commands/modify', path: 7 };
        if (t === 'headers') return { topic: 'a/b/things/twin/commands/modify', path: '/', headers: 'x' };
        return 'just a string';
      }`,
    });
    const text = (t: string) => m.mapIncoming({ headers: { 'content-type': 'text/plain' }, textPayload: t });
    expect((await failure(text('topic'))).message).toContain('<topic>');
    expect((await failure(text('path'))).message).toContain('<path>');
    expect((await failure(text('headers'))).message).toContain('<headers>');
    expect(await failure(text('string'))).toMatchObject({
      error: 'connectivity:message.mapping.failed',
      status: 400,
    });
  });

  it('reports the reason and the script line of an exception', async () => {
    const m = await mapper({
      incomingScript:
        'function mapToDittoProtocolMsg(h, t) {\n  const x = JSON.parse(t);\n  throw new TypeError("no field " + x.f);\n}',
    });
    const f = await failure(m.mapIncoming(json({ f: 'temp' })));
    expect(f.error).toBe('connectivity:message.mapping.failed');
    expect(f.message).toContain('TypeError: no field temp');
    expect(f.message).toContain('script line 3');
  });

  it('uses the default mapToDittoProtocolMsg when the script only defines outgoing functions', async () => {
    const m = await mapper({ incomingScript: 'var unrelated = 1;' });
    const protocol = { topic: 'a/b/things/twin/commands/delete', path: '/', headers: {} };
    const ditto = {
      headers: { 'content-type': 'application/vnd.eclipse.ditto+json' },
      textPayload: JSON.stringify(protocol),
    };
    expect(await m.mapIncoming(ditto)).toEqual([protocol]);
    expect(await m.mapIncoming(json(protocol))).toEqual([]);
  });
});

describe('outbound mapping', () => {
  it('splits the topic for mapFromDittoProtocolMsg and coerces header values to strings', async () => {
    const m = await mapper({
      outgoingScript: `
        function mapFromDittoProtocolMsg(namespace, name, group, channel, criterion, action, path, dittoHeaders, value, status, extra) {
          return Ditto.buildExternalMsg({ n: 1, o: { a: [1] }, b: true, s: 'x', cid: dittoHeaders['correlation-id'] },
            JSON.stringify([namespace, name, group, channel, criterion, action, path, value, status, extra]), null, 'application/json');
        }`,
    });
    const [out] = await m.mapOutgoing(event);
    expect(out.headers).toEqual({
      n: '1',
      o: '{"a":[1]}',
      b: 'true',
      s: 'x',
      cid: 'c-9',
      'content-type': 'application/json',
    });
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(out.textPayload!)).toEqual([
      'org.acme',
      'boiler-7',
      'things',
      'twin',
      'events',
      'modified',
      '/features/climate/properties/temperature',
      21.5,
      null,
      null,
    ]);
    const [policy] = await m.mapOutgoing({
      topic: 'org.acme/p1/policies/commands/modify',
      path: '/',
      headers: {},
      value: {},
      status: 204,
    });
    expect(JSON.parse(policy.textPayload!).slice(0, 6)).toEqual([
      'org.acme',
      'p1',
      'policies',
      'none',
      'commands',
      'modify',
    ]);
    expect(JSON.parse(policy.textPayload!)[8]).toBe(204);
  });

  it('passes the full message, revision included, to a script-defined wrapper', async () => {
    const m = await mapper({
      outgoingScript: `function mapFromDittoProtocolMsgWrapper(msg) {
        return { headers: {}, textPayload: msg.revision + '@' + msg.timestamp };
      }`,
    });
    expect(await m.mapOutgoing(event)).toEqual([{ headers: {}, textPayload: '42@2026-01-01T00:00:00Z' }]);
  });

  it('prefers bytePayload over textPayload and accepts ArrayBuffers, typed arrays and number arrays', async () => {
    const m = await mapper({
      outgoingScript: `function mapFromDittoProtocolMsg(ns, name, g, c, cr, action, path, h, value) {
        const bytes = value === 1 ? new Uint8Array([1, 2, 3]).buffer : value === 2 ? new Uint16Array([0x0102]) : [255, 256, -1];
        return Ditto.buildExternalMsg({}, 'text that loses', bytes, 'application/octet-stream');
      }`,
    });
    const run = async (value: number) => (await m.mapOutgoing({ ...event, value }))[0];
    const first = await run(1);
    expect(first.textPayload).toBeUndefined();
    expect([...first.bytePayload!]).toEqual([1, 2, 3]);
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect([...(await run(2)).bytePayload!]).toEqual([0x02, 0x01]);
    expect([...(await run(3)).bytePayload!]).toEqual([255, 0, 255]);
  });

  it('drops on null, returns arrays, and fails when neither payload is defined', async () => {
    const m = await mapper({
      outgoingScript: `function mapFromDittoProtocolMsg(ns, name, g, c, cr, action, path, h, value) {
        if (value === 'drop') return null;
        if (value === 'many') return [Ditto.buildExternalMsg({}, 'a'), Ditto.buildExternalMsg({}, 'b')];
        return Ditto.buildExternalMsg({}, undefined, undefined, 'text/plain');
      }`,
    });
    expect(await m.mapOutgoing({ ...event, value: 'drop' })).toEqual([]);
    expect((await m.mapOutgoing({ ...event, value: 'many' })).map((x) => x.textPayload)).toEqual(['a', 'b']);
    expect((await failure(m.mapOutgoing({ ...event, value: 'none' }))).message).toContain(
      'neither <bytePayload> nor <textPayload>',
    );
  });
});

describe('empty scripts (Ditto pass-through)', () => {
  it('parses inbound text or UTF-8 bytes as Ditto Protocol JSON and drops an empty message', async () => {
    const m = await mapper({ incomingScript: '', outgoingScript: '' });
    const protocol = {
      topic: 'a/b/things/twin/commands/modify',
      path: '/attributes/x',
      headers: { 'correlation-id': '1' },
      value: 'ä',
    };
    expect(await m.mapIncoming({ headers: {}, textPayload: JSON.stringify(protocol) })).toEqual([protocol]);
    expect(
      await m.mapIncoming({
        headers: { 'content-type': 'application/octet-stream' },
        bytePayload: new TextEncoder().encode(JSON.stringify(protocol)),
      }),
    ).toEqual([protocol]);
    expect(await m.mapIncoming({ headers: {} })).toEqual([]);
    expect((await failure(m.mapIncoming({ headers: {}, textPayload: 'not json' }))).error).toBe(
      'connectivity:message.mapping.failed',
    );
  });

  it('sends the outbound message as Ditto Protocol JSON text', async () => {
    const m = await mapper({ incomingScript: '', outgoingScript: '' });
    const [out] = await m.mapOutgoing(event);
    expect(JSON.parse(out.textPayload!)).toEqual(event);
    expect(out.contentType).toBe('application/vnd.eclipse.ditto+json');
    expect(out.headers).toEqual({
      'correlation-id': 'c-9',
      'content-type': 'application/vnd.eclipse.ditto+json',
    });
  });
});

describe('Ditto helpers and libraries', () => {
  it('converts between ArrayBuffers and strings byte by byte (Latin-1, charCode & 0xFF)', async () => {
    const m = await mapper({
      incomingScript: `function mapToDittoProtocolMsg(h, t, bytePayload) {
        const s = Ditto.arrayBufferToString(bytePayload);
        const back = new Uint8Array(Ditto.stringToArrayBuffer(s + '\\u0141'));
        return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/attributes/s', {}, { s: s, codes: Array.from(back) });
      }`,
    });
    const [out] = await m.mapIncoming({
      headers: { 'content-type': 'application/octet-stream' },
      bytePayload: new Uint8Array([0x41, 0xe4, 0xff]),
    });
    expect(out.value).toEqual({ s: 'A\u00e4\u00ff', codes: [0x41, 0xe4, 0xff, 0x41] });
  });

  it('offers bytebuffer.js and long.js for binary frames when loaded', async () => {
    const m = await mapper({
      loadBytebufferJS: 'true',
      loadLongJS: true,
      incomingScript: `function mapToDittoProtocolMsg(h, t, bytePayload) {
        const bb = Ditto.asByteBuffer(bytePayload);
        const v = {
          u8: bb.readUint8(), i16be: bb.readInt16(), u16le: bb.LE().readUint16(), f32: bb.BE().readFloat32(),
          i64: bb.readInt64().toString(), u32at: bb.readUint32(0), off: bb.offset,
          hex: dcodeIO.ByteBuffer.wrap([0xca, 0xfe]).toString('hex'),
          b64: dcodeIO.ByteBuffer.wrap('hi', 'utf8').toString('base64'),
          utf8: dcodeIO.ByteBuffer.fromBinary('\\x4f\\x4b').toString('utf8'),
          long: dcodeIO.Long.fromBits(0xffffffff, 0x7fffffff).toString(),
          num: dcodeIO.Long.fromBits(5, 1).toNumber(),
          le64: dcodeIO.ByteBuffer.allocate(8).writeInt64(dcodeIO.Long.fromNumber(-2), 0).LE().readInt64(0).toString()
        };
        return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/attributes/v', {}, v);
      }`,
    });
    const frame = Buffer.alloc(17);
    frame.writeUInt8(7, 0);
    frame.writeInt16BE(-300, 1);
    frame.writeUInt16LE(513, 3);
    frame.writeFloatBE(1.5, 5);
    frame.writeBigInt64BE(-5n, 9);
    const [out] = await m.mapIncoming({
      headers: { 'content-type': 'application/octet-stream' },
      bytePayload: frame,
    });
    expect(out.value).toEqual({
      u8: 7,
      i16be: -300,
      u16le: 513,
      f32: 1.5,
      i64: '-5',
      u32at: frame.readUInt32BE(0),
      off: 17,
      hex: 'cafe',
      b64: 'aGk=',
      utf8: 'OK',
      long: '9223372036854775807',
      num: 4294967301,
      le64: '-72057594037927937',
    });
  });

  it('encodes an outbound binary frame with bytebuffer.js in both byte orders', async () => {
    const m = await mapper({
      loadBytebufferJS: true,
      loadLongJS: 'true',
      outgoingScript: `function mapFromDittoProtocolMsg(ns, name, g, c, cr, action, path, h, value) {
        const bb = new dcodeIO.ByteBuffer(32);
        bb.writeInt8(-2).writeUint16(0x0102).LE().writeUint16(0x0102).writeInt32(-7).BE()
          .writeFloat64(value).writeUint64(dcodeIO.Long.fromString('18446744073709551615', true))
          .writeVString('ok');
        return Ditto.buildExternalMsg({}, null, bb.flip().toBuffer(), 'application/octet-stream');
      }`,
    });
    const [out] = await m.mapOutgoing({ ...event, value: 0.1 });
    const expected = Buffer.alloc(26);
    expected.writeInt8(-2, 0);
    expected.writeUInt16BE(0x0102, 1);
    expected.writeUInt16LE(0x0102, 3);
    expected.writeInt32LE(-7, 5);
    expected.writeDoubleBE(0.1, 9);
    expected.writeBigUInt64BE(18446744073709551615n, 17);
    expected.writeUInt8(2, 25);
    expect(Buffer.from(out.bytePayload!).toString('hex')).toBe(
      expected.toString('hex') + Buffer.from('ok').toString('hex'),
    );
  });

  it('does not define dcodeIO unless a library option is true', async () => {
    const m = await mapper({
      loadBytebufferJS: 'false',
      incomingScript: `function mapToDittoProtocolMsg() {
        return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/a', {}, typeof dcodeIO);
      }`,
    });
    expect((await m.mapIncoming(json({})))[0].value).toBe('undefined');
  });

  it('reads the library options like Ditto (boolean or case-insensitive "true")', () => {
    expect([
      optionFlag(true),
      optionFlag('TRUE'),
      optionFlag('true'),
      optionFlag('false'),
      optionFlag(undefined),
      optionFlag('yes'),
    ]).toEqual([true, true, true, false, false, false]);
  });
});

describe('configuration', () => {
  it('rejects a script over 50,000 bytes with connectivity:message.mapper.config.invalid', async () => {
    const big = `// ${'é'.repeat(25_000)}\nfunction mapToDittoProtocolMsg() { return null; }`;
    const error = await createJavaScriptMapper({ incomingScript: big }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDittoError(error) && error.toJSON()).toMatchObject({
      status: 400,
      error: 'connectivity:message.mapper.config.invalid',
    });
  });

  it('rejects a script with a syntax error, naming its line', async () => {
    const error = await createJavaScriptMapper({
      outgoingScript: 'function mapFromDittoProtocolMsg() {\n  return {;\n}',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDittoError(error) && error.error).toBe('connectivity:message.mapper.config.failed');
    expect((error as Error).message).toMatch(/outgoingScript.*line 2/);
  });

  it('rejects a script that loops forever while loading', async () => {
    const error = await createJavaScriptMapper(
      { incomingScript: 'while (true) {}' },
      { maxExecutionTimeMs: 100 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDittoError(error) && error.error).toBe('connectivity:message.mapper.config.failed');
  });
});

describe('batching and limits', () => {
  it('maps more messages than one batch holds, in order', async () => {
    const m = await mapper({ incomingScript: telemetryScript }, { maxBatchSize: 16 });
    const outcomes = await m.mapIncomingBatch(
      Array.from({ length: 100 }, (_, i) => json({ device: `ns:d${i}`, t: i, h: 0 })),
    );
    expect(outcomes.map((o) => o.ok && o.value[0].topic)).toEqual(
      Array.from({ length: 100 }, (_, i) => `ns/d${i}/things/twin/commands/modify`),
    );
  });

  it('gives every message of a batch its own time budget', async () => {
    const m = await mapper(
      {
        incomingScript: `function mapToDittoProtocolMsg(h, t) {
          const end = Date.now() + Number(t);
          while (Date.now() < end) {}
          return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/a', {}, t);
        }`,
      },
      { maxExecutionTimeMs: 300 },
    );
    const text = (t: string) => ({ headers: { 'content-type': 'text/plain' }, textPayload: t });
    const outcomes = await m.mapIncomingBatch([
      text('100'),
      text('100'),
      text('100'),
      text('1000'),
      text('1'),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, true]);
  });

  it('rejects calls after close', async () => {
    const m = await mapper({ incomingScript: telemetryScript });
    m.close();
    await expect(m.mapIncoming(json({ device: 'a:b' }))).rejects.toThrow(/closed/);
  });
});
