// POST /api/2/mappings/try (src/api/http/mapping.ts): trying a payload mapping without a broker, over a
// real socket against the real service; devops users only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';

const PATH = '/api/2/mappings/try';
const DEVOPS = 'devops:foobar';
let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service.close();
});

const modify = {
  topic: 'org.eclipse.ditto/fancy-thing/things/twin/commands/modify',
  headers: { 'correlation-id': 'c-1' },
  path: '/attributes/location',
  value: { latitude: 44.673856, longitude: 8.261719 },
};
const tryIt = (body: unknown, auth: string | null = DEVOPS) => service.request('POST', PATH, { body, auth });

describe('authentication', () => {
  it('returns 401 without credentials and for API users that are not devops users', async () => {
    const body = { direction: 'incoming', message: { headers: {}, textPayload: JSON.stringify(modify) } };
    for (const auth of [null, 'ditto:ditto', 'devops:wrong']) {
      const response = await tryIt(body, auth);
      expect(response.status).toBe(401);
      expect(response.json).toMatchObject({ status: 401, error: 'gateway:authentication.failed' });
    }
  });
});

describe('incoming', () => {
  it('maps a text payload with the default Ditto mapper', async () => {
    const response = await tryIt({
      direction: 'incoming',
      message: {
        headers: { 'content-type': 'application/vnd.eclipse.ditto+json' },
        textPayload: JSON.stringify(modify),
      },
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      direction: 'incoming',
      results: [{ mapper: 'Ditto', messages: [modify] }],
    });
  });

  it('runs every mapper of payloadMapping on a base64 byte payload', async () => {
    const response = await tryIt({
      mappingDefinitions: {
        frame: {
          mappingEngine: 'JavaScript',
          options: {
            incomingScript:
              "function mapToDittoProtocolMsg(headers, text, bytes) { var v = new DataView(bytes); return Ditto.buildDittoProtocolMsg('ns', headers.device, 'things', 'twin', 'commands', 'modify', '/features/t/properties/value', {}, v.getInt16(0) / 100); }",
            outgoingScript: '',
          },
        },
        status: { mappingEngine: 'ConnectionStatus', options: { thingId: 'ns:{{ header:device }}' } },
      },
      payloadMapping: ['frame', 'status'],
      direction: 'incoming',
      message: {
        headers: {
          'content-type': 'application/octet-stream',
          device: 'd1',
          'creation-time': '1572358578000',
          ttd: '-1',
        },
        bytePayload: Buffer.from([0x09, 0xef]).toString('base64'),
      },
    });
    expect(response.status).toBe(200);
    expect(response.json.results[0]).toEqual({
      mapper: 'frame',
      messages: [
        {
          topic: 'ns/d1/things/twin/commands/modify',
          path: '/features/t/properties/value',
          headers: {},
          value: 25.43,
        },
      ],
    });
    expect(response.json.results[1]).toMatchObject({
      mapper: 'status',
      messages: [{ path: '/features/ConnectionStatus' }],
    });
  });

  it('returns the error of a broken script with its line, next to the other mappers', async () => {
    const response = await tryIt({
      mappingDefinitions: {
        broken: {
          mappingEngine: 'JavaScript',
          options: {
            incomingScript:
              'function mapToDittoProtocolMsg(h, t) {\n  var n = JSON.parse(t);\n  return n.missing.field;\n}',
            outgoingScript: '',
          },
        },
      },
      payloadMapping: ['broken', 'Ditto'],
      direction: 'incoming',
      message: { headers: {}, textPayload: JSON.stringify(modify) },
    });
    expect(response.status).toBe(200);
    const [broken, ditto] = response.json.results;
    expect(broken.mapper).toBe('broken');
    expect(broken.error).toMatchObject({ status: 400, error: 'connectivity:message.mapping.failed' });
    expect(broken.error.message).toMatch(/line 3/);
    expect(ditto).toEqual({ mapper: 'Ditto', messages: [modify] });
  });

  it('reports a mapped message that is not a valid signal as the mapper error', async () => {
    const response = await tryIt({
      direction: 'incoming',
      message: {
        headers: {},
        textPayload: JSON.stringify({
          ...modify,
          topic: 'bad/id/things/twin/commands/modify',
          path: '/nowhere',
        }),
      },
    });
    expect(response.json.results[0]).toMatchObject({
      mapper: 'Ditto',
      error: { error: 'connectivity:message.mapping.failed' },
    });
  });
});

describe('outgoing', () => {
  it('maps a protocol message with several mappers', async () => {
    const event = {
      ...modify,
      topic: 'org.eclipse.ditto/fancy-thing/things/twin/events/modified',
      revision: 4,
    };
    const response = await tryIt({
      payloadMapping: ['Ditto', 'Normalized'],
      direction: 'outgoing',
      message: { protocolMessage: event },
    });
    expect(response.status).toBe(200);
    const [ditto, normalized] = response.json.results;
    expect(ditto.messages[0].headers).toEqual({
      'content-type': 'application/vnd.eclipse.ditto+json',
      'correlation-id': 'c-1',
    });
    expect(JSON.parse(ditto.messages[0].textPayload)).toEqual(event);
    expect(JSON.parse(normalized.messages[0].textPayload)).toMatchObject({
      thingId: 'org.eclipse.ditto:fancy-thing',
      attributes: { location: event.value },
      _revision: 4,
    });
  });

  it('returns byte payloads as base64', async () => {
    const message = {
      topic: 'ns/coffee/things/live/messages/heatUp',
      headers: { 'content-type': 'application/octet-stream' },
      path: '/inbox/messages/heatUp',
      value: 'AQID',
    };
    const response = await tryIt({
      payloadMapping: ['RawMessage'],
      direction: 'outgoing',
      message: { protocolMessage: message },
    });
    expect(response.json.results[0].messages[0]).toMatchObject({
      bytePayload: 'AQID',
      contentType: 'application/octet-stream',
    });
  });
});

describe('bad requests', () => {
  it.each([
    ['a body that is not JSON', { raw: '{nope' }, 'json.invalid'],
    ['a missing direction', { body: { message: {} } }, 'json.field.missing'],
    ['an unknown direction', { body: { direction: 'sideways', message: {} } }, 'json.format.invalid'],
    [
      'a payloadMapping that is not a string array',
      { body: { direction: 'incoming', payloadMapping: 'Ditto', message: {} } },
      'json.format.invalid',
    ],
    [
      'an outgoing request without protocolMessage',
      { body: { direction: 'outgoing', message: {} } },
      'json.field.missing',
    ],
    [
      'an invalid protocolMessage',
      { body: { direction: 'outgoing', message: { protocolMessage: { topic: 'x', path: '/' } } } },
      'protocoladapter:unknown.topicpath',
    ],
    [
      'an unknown mapper',
      { body: { direction: 'incoming', payloadMapping: ['nope'], message: {} } },
      'connectivity:message.mapper.config.invalid',
    ],
    [
      'a script with a syntax error',
      {
        body: {
          direction: 'incoming',
          payloadMapping: ['js'],
          mappingDefinitions: {
            js: { mappingEngine: 'JavaScript', options: { incomingScript: 'function (' } },
          },
          message: {},
        },
      },
      'connectivity:message.mapper.config.invalid',
    ],
    [
      'a script that throws while loading',
      {
        body: {
          direction: 'incoming',
          payloadMapping: ['js'],
          mappingDefinitions: { js: { mappingEngine: 'JavaScript', options: { incomingScript: 'null.x;' } } },
          message: {},
        },
      },
      'connectivity:message.mapper.config.failed',
    ],
  ])('answers 400 with Ditto error JSON for %s', async (_name, options, code) => {
    const response = await service.request('POST', PATH, { ...options, auth: DEVOPS } as never);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ status: 400, error: code });
  });

  it('answers 415 for a body that is not application/json', async () => {
    const response = await service.request('POST', PATH, {
      raw: '{}',
      contentType: 'text/plain',
      auth: DEVOPS,
    });
    expect(response.status).toBe(415);
  });
});
