// The mapper registry (ditto-interfaces.md §12.1, §11.2): aliases, conditions, fan-out, limits, error
// isolation and save-time validation, through the real built-in mappers and the real JavaScript engine.
import { afterEach, describe, expect, it } from 'vitest';
import { parseProtocolMessage } from '../../../src/protocol/index.js';
import { DittoError } from '../../../src/errors/ditto-error.js';
import {
  createMapperRegistry,
  validateMappingDefinitions,
  validatePayloadMapping,
  type MapperRegistry,
} from '../../../src/mapping/registry.js';

/** A mapper's inbound outcome as the registry returns it: the JSON and, parsed, the protocol messages. */
const incoming = (mapper: string, result: Record<string, unknown>[]) => ({
  mapper,
  result,
  messages: result.map((json) => parseProtocolMessage(json)),
});

const registries: MapperRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

async function registry(
  definitions?: Record<string, unknown>,
  javascript?: { limits: Record<string, number> },
) {
  const r = await createMapperRegistry(definitions, {
    connectionId: 'conn-1',
    now: () => Date.UTC(2024, 0, 2, 3, 4, 5),
    javascript,
  });
  registries.push(r);
  return r;
}

const modify = {
  topic: 'org.eclipse.ditto/fancy-thing/things/twin/commands/modify',
  headers: { 'correlation-id': 'c-1' },
  path: '/attributes/location',
  value: { latitude: 44.673856, longitude: 8.261719 },
};
const dittoMessage = (headers: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/vnd.eclipse.ditto+json', ...headers },
  textPayload: JSON.stringify(modify),
});

const status = { mappingEngine: 'ConnectionStatus', options: { thingId: '{{ header:device_id }}' } };
const statusHeaders = { device_id: 'org.eclipse.ditto:dev1', 'creation-time': '1572358578000', ttd: '300' };

function script(body: string) {
  return { mappingEngine: 'JavaScript', options: { incomingScript: body, outgoingScript: '' } };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DittoError ? error.error : `not a DittoError: ${String(error)}`;
  }
  return undefined;
}

describe('payloadMapping', () => {
  it('uses the Ditto mapper when payloadMapping is absent or empty', async () => {
    const r = await registry();
    for (const mapping of [undefined, []]) {
      expect(await r.mapIncoming(mapping, dittoMessage())).toEqual([incoming('Ditto', [modify])]);
    }
  });

  it('applies every listed mapper to the original message and keeps the list order', async () => {
    const r = await registry({ status });
    const outcomes = await r.mapIncoming(['status', 'Ditto'], dittoMessage(statusHeaders));
    expect(outcomes.map((o) => o.mapper)).toEqual(['status', 'Ditto']);
    expect(outcomes[1]).toEqual(incoming('Ditto', [modify]));
    const first = outcomes[0] as { result: Array<Record<string, unknown>> };
    expect(first.result[0].topic).toBe('org.eclipse.ditto/dev1/things/twin/commands/modify');
  });

  it('lets an ID shadow an alias of the same name', async () => {
    const r = await registry({ Ditto: { mappingEngine: 'Normalized' } });
    expect(await r.mapIncoming(['Ditto'], dittoMessage())).toEqual([incoming('Ditto', [])]);
  });

  it('falls back to the Ditto mapper for an ID that is not defined (runtime, as in Ditto)', async () => {
    const r = await registry();
    expect(await r.mapIncoming(['nope'], dittoMessage())).toEqual([incoming('nope', [modify])]);
  });

  it('accepts the configuration-free aliases without a definition', async () => {
    const r = await registry();
    const outcomes = await r.mapOutgoing(
      ['Ditto', 'Normalized', 'RawMessage', 'CloudEvents', 'UpdateTwinWithLiveResponse'],
      {
        ...modify,
        topic: 'org.eclipse.ditto/fancy-thing/things/twin/events/modified',
        revision: 3,
      },
    );
    expect(outcomes.map((o) => ('result' in o ? o.result.length : -1))).toEqual([1, 1, 1, 1, 0]);
  });
});

describe('conditions', () => {
  const conditional = {
    ...status,
    incomingConditions: { run: "fn:filter(header:incoming-mapping-required,'eq','true')" },
    outgoingConditions: {
      events: "fn:filter(topic:criterion,'eq','events')",
      thing: "fn:filter(thing:namespace,'eq','org.eclipse.ditto')",
    },
  };

  it('runs a mapper only when all incoming conditions resolve', async () => {
    const r = await registry({ status: conditional });
    const yes = await r.mapIncoming(
      ['status'],
      dittoMessage({ ...statusHeaders, 'incoming-mapping-required': 'true' }),
    );
    expect((yes[0] as { result: unknown[] }).result).toHaveLength(1);
    const no = await r.mapIncoming(
      ['status'],
      dittoMessage({ ...statusHeaders, 'incoming-mapping-required': 'false' }),
    );
    expect(no).toEqual([incoming('status', [])]);
    const absent = await r.mapIncoming(['status'], dittoMessage(statusHeaders));
    expect(absent).toEqual([incoming('status', [])]);
  });

  it('evaluates outgoing conditions with topic and thing placeholders', async () => {
    const r = await registry({
      out: { mappingEngine: 'Ditto', outgoingConditions: conditional.outgoingConditions },
    });
    const event = { ...modify, topic: 'org.eclipse.ditto/fancy-thing/things/twin/events/modified' };
    expect((await r.mapOutgoing(['out'], event))[0]).toMatchObject({
      result: [{ textPayload: JSON.stringify(event) }],
    });
    expect(await r.mapOutgoing(['out'], modify)).toEqual([{ mapper: 'out', result: [] }]);
    expect(
      await r.mapOutgoing(['out'], { ...event, topic: 'other/fancy-thing/things/twin/events/modified' }),
    ).toEqual([{ mapper: 'out', result: [] }]);
  });

  it('skips a mapper whose content-type blocklist contains the message content type', async () => {
    const r = await registry({
      strict: {
        mappingEngine: 'Ditto',
        options: { 'content-type-blocklist': 'text/plain, application/x-foo' },
      },
    });
    const empty = { headers: { 'content-type': 'application/vnd.eclipse-hono-empty-notification' } };
    expect(await r.mapIncoming(['Ditto'], empty)).toEqual([incoming('Ditto', [])]);
    const foo = {
      headers: { 'content-type': 'application/x-foo; charset=utf-8' },
      textPayload: JSON.stringify(modify),
    };
    expect(await r.mapIncoming(['strict', 'Ditto'], foo)).toEqual([
      incoming('strict', []),
      incoming('Ditto', [modify]),
    ]);
  });
});

describe('limits and failures', () => {
  it('fails the 11th and later mappers of a list', async () => {
    const r = await registry();
    const outcomes = await r.mapIncoming(Array(11).fill('Ditto'), dittoMessage());
    expect(outcomes.slice(0, 10).every((o) => 'result' in o)).toBe(true);
    expect(outcomes[10]).toMatchObject({
      mapper: 'Ditto',
      error: { error: 'connectivity:message.mapping.failed' },
    });
  });

  it('fails a mapper that produces more than 10 messages', async () => {
    const r = await registry({
      many: script(
        `function mapToDittoProtocolMsg(h, t) { var a = []; for (var i = 0; i < 11; i++) a.push(JSON.parse(t)); return a; }`,
      ),
    });
    const [outcome] = await r.mapIncoming(['many'], dittoMessage());
    expect('error' in outcome && outcome.error.error).toBe('connectivity:message.mapping.failed');
  });

  it('isolates a throwing script: the error names its line and other mappers carry on', async () => {
    const r = await registry({
      broken: script(`function mapToDittoProtocolMsg() {\n  var x = 1;\n  throw new Error('boom');\n}`),
    });
    const outcomes = await r.mapIncoming(['broken', 'Ditto'], dittoMessage());
    expect(outcomes[0]).toMatchObject({
      mapper: 'broken',
      error: { error: 'connectivity:message.mapping.failed', status: 400 },
    });
    expect((outcomes[0] as { error: DittoError }).error.message).toMatch(/boom.*line 3/);
    expect(outcomes[1]).toEqual(incoming('Ditto', [modify]));
  });

  it('fails a script that runs out of time without delaying the other mappers', async () => {
    const r = await registry(
      { slow: script('function mapToDittoProtocolMsg() { for (;;) {} }') },
      { limits: { maxExecutionTimeMs: 50 } },
    );
    const outcomes = await r.mapIncoming(['slow', 'Ditto'], dittoMessage());
    expect(outcomes[0]).toMatchObject({ error: { error: 'connectivity:message.mapping.failed' } });
    expect(outcomes[1]).toEqual(incoming('Ditto', [modify]));
  });

  it('fails a mapper whose result is not a Ditto Protocol message with a known topic', async () => {
    const r = await registry({
      bad: script(
        `function mapToDittoProtocolMsg() { return { topic: 'a/b/things/twin/teleport', path: '/' }; }`,
      ),
    });
    const [outcome] = await r.mapIncoming(['bad'], dittoMessage());
    expect('error' in outcome && outcome.error.message).toMatch(/teleport/);
  });

  it('reports an invalid Ditto payload as mapping failure of that mapper only', async () => {
    const r = await registry({ status });
    const outcomes = await r.mapIncoming(['Ditto', 'status'], {
      headers: statusHeaders,
      textPayload: '{not json',
    });
    expect(outcomes[0]).toMatchObject({
      mapper: 'Ditto',
      error: { error: 'connectivity:message.mapping.failed' },
    });
    expect((outcomes[1] as { result: unknown[] }).result).toHaveLength(1);
  });

  it('maps concurrent messages of one JavaScript mapper independently and correctly', async () => {
    const r = await registry({
      echo: script(
        `function mapToDittoProtocolMsg(h, t) { if (t === '13') throw new Error('unlucky'); return Ditto.buildDittoProtocolMsg('ns', 'n' + t, 'things', 'twin', 'commands', 'modify', '/attributes/n', {}, Number(t)); }`,
      ),
    });
    const all = await Promise.all(
      Array.from({ length: 200 }, (_, i) => r.mapIncoming(['echo'], { headers: {}, textPayload: String(i) })),
    );
    all.forEach(([outcome], i) => {
      if (i === 13)
        expect(outcome).toMatchObject({ error: { error: 'connectivity:message.mapping.failed' } });
      else
        expect(outcome).toMatchObject({
          result: [{ topic: `ns/n${i}/things/twin/commands/modify`, value: i }],
        });
    });
  });

  it('rejects creation when a script throws while loading, and stops mapping after close()', async () => {
    await expect(
      createMapperRegistry({ x: script('throw new Error("at load")') }, { connectionId: 'c' }),
    ).rejects.toMatchObject({
      error: 'connectivity:message.mapper.config.failed',
    });
    const r = await createMapperRegistry(
      { js: script('function mapToDittoProtocolMsg(h, t) { return JSON.parse(t); }') },
      { connectionId: 'c' },
    );
    expect(await r.mapIncoming(['js'], dittoMessage())).toEqual([incoming('js', [modify])]);
    await r.close();
    expect((await r.mapIncoming(['js'], dittoMessage()))[0]).toMatchObject({
      error: { error: 'connectivity:message.mapping.failed' },
    });
  });
});

describe('validateMappingDefinitions', () => {
  const invalid = 'connectivity:message.mapper.config.invalid';

  it('accepts valid definitions and the aliases', () => {
    expect(
      codeOf(() =>
        validateMappingDefinitions(
          {
            status,
            js: script('function mapToDittoProtocolMsg() { return null; }'),
            norm: { mappingEngine: 'Normalized', options: { fields: 'thingId,attributes' } },
          },
          [
            'status',
            'js',
            'norm',
            'Ditto',
            'Normalized',
            'RawMessage',
            'CloudEvents',
            'UpdateTwinWithLiveResponse',
          ],
        ),
      ),
    ).toBeUndefined();
  });

  it.each([
    ['not an object', []],
    ['an unknown engine', { a: { mappingEngine: 'Teleport' } }],
    ['a definition without mappingEngine', { a: { options: {} } }],
    ['options that are not an object', { a: { mappingEngine: 'Ditto', options: 'x' } }],
    [
      'a condition with a syntax error',
      { a: { mappingEngine: 'Ditto', incomingConditions: { c: "fn:filter(header:x,'eq'" } } },
    ],
    [
      'a condition with an unknown placeholder',
      { a: { mappingEngine: 'Ditto', incomingConditions: { c: "fn:filter(foo:x,'eq','1')" } } },
    ],
    ['a condition that is not a string', { a: { mappingEngine: 'Ditto', outgoingConditions: { c: 1 } } }],
    ['a script with a syntax error', { a: script('function (') }],
    ['a script that is too large', { a: script(`// ${'x'.repeat(50_001)}`) }],
    ['ConnectionStatus without thingId', { a: { mappingEngine: 'ConnectionStatus', options: {} } }],
    [
      'ConnectionStatus with an invalid thingId',
      { a: { mappingEngine: 'ConnectionStatus', options: { thingId: 'no-namespace' } } },
    ],
    ['ImplicitThingCreation without thing', { a: { mappingEngine: 'ImplicitThingCreation', options: {} } }],
    [
      'Normalized with an invalid field selector',
      { a: { mappingEngine: 'Normalized', options: { fields: 'a(' } } },
    ],
    [
      'RawMessage with an unknown placeholder',
      {
        a: {
          mappingEngine: 'RawMessage',
          options: { incomingMessageHeaders: { 'ditto-message-subject': '{{ thing:id }}' } },
        },
      },
    ],
  ])('rejects %s', (_name, definitions) => {
    expect(codeOf(() => validateMappingDefinitions(definitions, []))).toBe(invalid);
  });

  it('names the line of a script syntax error', () => {
    expect(() => validateMappingDefinitions({ a: script('var a = 1;\nvar b = ;') }, [])).toThrow(/line 2/);
  });

  it('rejects payloadMapping IDs that are neither defined nor configuration-free aliases', () => {
    expect(codeOf(() => validateMappingDefinitions({ status }, ['stat']))).toBe(invalid);
    expect(codeOf(() => validateMappingDefinitions({}, ['JavaScript']))).toBe(invalid);
    expect(codeOf(() => validateMappingDefinitions({}, ['ditto']))).toBe(invalid);
  });

  it('rejects a payloadMapping with more than 10 mappers', () => {
    expect(codeOf(() => validatePayloadMapping({}, Array(10).fill('Ditto')))).toBeUndefined();
    expect(codeOf(() => validatePayloadMapping({}, Array(11).fill('Ditto')))).toBe(invalid);
  });
});
