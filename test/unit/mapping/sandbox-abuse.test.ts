// Escape and abuse attempts against the JavaScript mapping sandbox (ditto-interfaces.md §12.2: no host
// access, limits per message). Every attempt must fail only its own message: a good message mapped right
// after it through the same mapper must still map correctly, and the host must stay untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJavaScriptMapper, type JavaScriptMapper } from '../../../src/mapping/javascript/index.js';
import { isDittoError } from '../../../src/errors/ditto-error.js';

// One mapper for all attempts: `payload.attack` selects the attempt, anything else is a good message.
const SCRIPT = String.raw`
var attacks = {
  constructorChain: function () { return this.constructor.constructor('return process')().exit(1); },
  functionPrototypeChain: function () { return (function () {}).constructor('return this')().process.mainModule.require('fs'); },
  headersConstructorChain: function (headers) { return headers.constructor.constructor('return process')().env; },
  errorPrepareStackTrace: function () {
    Error.prepareStackTrace = function (e, frames) { return frames.map(function (f) { return f.getThis(); }); };
    var stack = new Error('x').stack;
    Error.prepareStackTrace = undefined;
    return stack.filter(function (t) { return t && t.process; })[0].process.exit(1);
  },
  requireModule: function () { return require('child_process').execSync('id'); },
  dynamicImport: function () { return import('node:fs'); },
  evalProcess: function () { return eval('process.binding("fs")'); },
  functionConstructor: function () { return new Function('return globalThis.process || global.process')().pid; },
  timers: function () { setTimeout(function () {}, 10); return null; },
  endlessLoop: function () { while (true) {} },
  loopThatCatchesEverything: function () { for (;;) { try { while (true) {} } catch (e) { /* keep going */ } } },
  deepRecursion: function () { function down(n) { return down(n + 1) + 1; } return down(0); },
  memoryBomb: function () { var keep = []; for (;;) keep.push(new Array(1e5).fill(Math.random())); },
  hugeArrayBuffer: function () { return { len: new ArrayBuffer(2 * 1024 * 1024 * 1024).byteLength }; },
  hugeOutput: function () { return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/a', {}, 'x'.repeat(5e6)); },
  tooManyMessages: function () {
    var out = [];
    for (var i = 0; i < 11; i++) out.push(Ditto.buildDittoProtocolMsg('ns', 'n' + i, 'things', 'twin', 'commands', 'modify', '/a', {}, i));
    return out;
  },
  atomicsWait: function () { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); },
  sharedArrayBuffer: function () { return new SharedArrayBuffer(1024); },
  sharedWasmMemory: function () { return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer; },
  poisonJsonStringify: function () {
    JSON.stringify = function () { return '{"topic":"evil/evil/things/twin/commands/delete","path":"/","headers":{}}'; };
    throw new Error('poisoned JSON.stringify');
  },
  pollutePrototypes: function () {
    Object.prototype.polluted = 'yes';
    Array.prototype.push = function () { throw new Error('push is broken'); };
    throw new Error('polluted prototypes');
  },
  throwingToJson: function () { return { toJSON: function () { throw new Error('toJSON refuses'); } }; },
  endlessToJson: function () { return { toJSON: function () { for (;;) {} } }; },
  throwNonError: function () { throw { toString: function () { for (;;) {} } }; },
  endlessPromiseJob: function () {
    Promise.resolve().then(function () { for (;;) {} });
    throw new Error('left an endless promise job behind');
  },
  writeGlobal: function () { globalThis.leaked = 'secret of message 1'; throw new Error('wrote a global'); }
};

function mapToDittoProtocolMsg(headers, textPayload) {
  var payload = JSON.parse(textPayload);
  if (payload.attack) return attacks[payload.attack](headers);
  return Ditto.buildDittoProtocolMsg('org.acme', payload.device, 'things', 'twin', 'commands', 'modify',
    '/features/env/properties', { 'correlation-id': headers['correlation-id'] },
    { t: payload.t, polluted: ({}).polluted === undefined ? 'no' : 'yes', leaked: typeof leaked === 'undefined' ? 'no' : leaked });
}`;

const limits = { maxExecutionTimeMs: 200, memoryLimitMb: 16 };
let mapper: JavaScriptMapper;
let other: JavaScriptMapper;

beforeAll(async () => {
  mapper = await createJavaScriptMapper({ incomingScript: SCRIPT }, limits);
  other = await createJavaScriptMapper({ incomingScript: SCRIPT }, limits);
});
afterAll(() => {
  mapper.close();
  other.close();
});

const message = (payload: unknown) => ({
  headers: { 'content-type': 'application/json', 'correlation-id': 'cid' },
  textPayload: JSON.stringify(payload),
});

/** Maps the attack, then a good message; returns the attack's failure text and the good message's value. */
async function attackThenGood(attack: string, target: JavaScriptMapper = mapper) {
  const [bad, good] = await target.mapIncomingBatch([
    message({ attack }),
    message({ device: 'sensor-1', t: 21 }),
  ]);
  expect(bad.ok).toBe(false);
  const error = !bad.ok ? bad.error : undefined;
  expect(isDittoError(error) && error.toJSON()).toMatchObject({
    status: 400,
    error: 'connectivity:message.mapping.failed',
  });
  expect(good.ok).toBe(true);
  const value = good.ok ? good.value : [];
  expect(value).toHaveLength(1);
  expect(value[0].topic).toBe('org.acme/sensor-1/things/twin/commands/modify');
  return { reason: error!.message, good: value[0] };
}

describe('sandbox escapes', () => {
  it.each([
    ['constructorChain', /ReferenceError: process is not defined \(script line 3\)/],
    ['functionPrototypeChain', /reading 'mainModule'/],
    ['headersConstructorChain', /process is not defined/],
    ['errorPrepareStackTrace', /reading 'process'/],
    ['requireModule', /require is not defined/],
    ['evalProcess', /process is not defined/],
    ['functionConstructor', /global is not defined/],
    ['timers', /setTimeout is not defined/],
    ['atomicsWait', /Atomics is not defined/],
    ['sharedArrayBuffer', /SharedArrayBuffer is not defined/],
    ['sharedWasmMemory', /WebAssembly is not defined/],
  ])('finds no way out through %s', async (attack, reason) => {
    const { reason: text } = await attackThenGood(attack);
    expect(text).toMatch(reason);
  });

  it('refuses a dynamic import()', async () => {
    const { reason } = await attackThenGood('dynamicImport');
    expect(reason).toMatch(/Not supported/);
  });

  it('exposes no host globals to scripts', async () => {
    const probe = await createJavaScriptMapper({
      incomingScript: `function mapToDittoProtocolMsg() {
        var names = [];
        for (var o = globalThis; o; o = Object.getPrototypeOf(o)) names = names.concat(Object.getOwnPropertyNames(o));
        return Ditto.buildDittoProtocolMsg('ns', 'n', 'things', 'twin', 'commands', 'modify', '/a', {}, names);
      }`,
    });
    try {
      const [out] = await probe.mapIncoming(message({}));
      const names = out.value as string[];
      for (const hostName of [
        'process',
        'require',
        'module',
        'Buffer',
        'global',
        'setTimeout',
        'setInterval',
        'setImmediate',
        'queueMicrotask',
        'fetch',
        'SharedArrayBuffer',
        'Atomics',
        'WebAssembly',
      ]) {
        expect(names).not.toContain(hostName);
      }
      expect(names).toContain('JSON');
    } finally {
      probe.close();
    }
  });
});

describe('resource limits', () => {
  it('stops an endless loop after the time limit', async () => {
    expect((await attackThenGood('endlessLoop')).reason).toContain('execution time limit of 200 ms');
  });

  it('stops a loop that catches every exception', async () => {
    expect((await attackThenGood('loopThatCatchesEverything')).reason).toContain('execution time limit');
  });

  it('stops deep recursion at the stack limit', async () => {
    expect((await attackThenGood('deepRecursion')).reason).toContain('Maximum call stack size exceeded');
  });

  it('stops a memory bomb at the memory limit and recreates the isolate', async () => {
    const before = mapper.restarts;
    expect((await attackThenGood('memoryBomb')).reason).toContain('memory limit of 16 MB');
    expect(mapper.restarts).toBeGreaterThan(before);
  });

  it('refuses a 2 GB ArrayBuffer', async () => {
    expect((await attackThenGood('hugeArrayBuffer')).reason).toMatch(
      /Array buffer allocation failed|memory limit/,
    );
  });

  it('caps the output size of one message', async () => {
    expect((await attackThenGood('hugeOutput')).reason).toContain('exceeds 1000000 characters');
  });

  it('allows at most 10 messages per mapped message', async () => {
    expect((await attackThenGood('tooManyMessages')).reason).toContain('at most 10');
  });

  it('survives results whose toJSON throws or never returns, and thrown values whose toString loops', async () => {
    expect((await attackThenGood('throwingToJson')).reason).toContain('toJSON refuses');
    expect((await attackThenGood('endlessToJson')).reason).toContain('execution time limit');
    expect((await attackThenGood('throwNonError')).reason).toContain('execution time limit');
  });

  it('stops an endless promise job a script leaves behind', async () => {
    expect((await attackThenGood('endlessPromiseJob')).reason).toContain(
      'left an endless promise job behind',
    );
  });

  it('keeps the host event loop running while a script loops', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      await attackThenGood('endlessLoop');
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
  });
});

describe('state between messages and mappers', () => {
  it('keeps the runner working after a script replaces JSON.stringify', async () => {
    const { good } = await attackThenGood('poisonJsonStringify');
    expect(good.path).toBe('/features/env/properties');
  });

  it('confines prototype pollution to the polluting mapper', async () => {
    const { good } = await attackThenGood('pollutePrototypes');
    expect((good.value as { polluted: string }).polluted).toBe('yes'); // same mapper: shared scope, as in Ditto
    expect(({} as Record<string, unknown>).polluted).toBeUndefined(); // the host is untouched
    const [fromOther] = await other.mapIncoming(message({ device: 'sensor-2', t: 1 }));
    expect((fromOther.value as { polluted: string }).polluted).toBe('no');
  });

  it('shares globals between messages of one mapper (as Ditto does) but never with another mapper', async () => {
    const { good } = await attackThenGood('writeGlobal');
    expect((good.value as { leaked: string }).leaked).toBe('secret of message 1');
    const [fromOther] = await other.mapIncoming(message({ device: 'sensor-2', t: 1 }));
    expect((fromOther.value as { leaked: string }).leaked).toBe('no');
  });
});
