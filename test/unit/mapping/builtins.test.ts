// Every built-in mapper of ditto-interfaces.md §12.1, with the examples of Ditto's documentation page
// "connectivity-mapping" where it has them, run through the registry (and the real JavaScript engine).
import { afterEach, describe, expect, it } from 'vitest';
import { createMapperRegistry, type MapperRegistry } from '../../../src/mapping/registry.js';
import type { ExternalMessage, ProtocolJson } from '../../../src/mapping/types.js';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);
const registries: MapperRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

async function registry(definitions?: Record<string, unknown>) {
  const r = await createMapperRegistry(definitions, { connectionId: 'conn-1', now: () => NOW });
  registries.push(r);
  return r;
}

/** The messages of the single mapper `id`, failing the test on an error entry. */
async function incoming(
  r: MapperRegistry,
  id: string,
  message: ExternalMessage,
  subject?: string,
): Promise<ProtocolJson[]> {
  const [outcome] = await r.mapIncoming([id], message, { authorizationSubject: subject });
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}
async function outgoing(r: MapperRegistry, id: string, message: ProtocolJson): Promise<ExternalMessage[]> {
  const [outcome] = await r.mapOutgoing([id], message);
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}
async function incomingError(r: MapperRegistry, id: string, message: ExternalMessage) {
  const [outcome] = await r.mapIncoming([id], message);
  if (!('error' in outcome)) throw new Error(`expected an error, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

const DITTO_JSON = 'application/vnd.eclipse.ditto+json';
const modifyThing = {
  topic: 'my.sensors/sensor01/things/twin/commands/modify',
  headers: {},
  path: '/',
  value: {
    thingId: 'my.sensors:sensor01',
    policyId: 'my.test:policy',
    attributes: { manufacturer: 'Well known sensors producer' },
  },
};

describe('Ditto', () => {
  it('reads Ditto Protocol JSON from text and from UTF-8 bytes', async () => {
    const r = await registry();
    const text = JSON.stringify({
      ...modifyThing,
      value: { ...modifyThing.value, attributes: { location: 'Küche' } },
    });
    expect(
      await incoming(r, 'Ditto', { headers: { 'content-type': DITTO_JSON }, textPayload: text }),
    ).toEqual([JSON.parse(text)]);
    expect(await incoming(r, 'Ditto', { headers: {}, bytePayload: new TextEncoder().encode(text) })).toEqual([
      JSON.parse(text),
    ]);
  });

  it('fails on an empty payload, on invalid JSON and on an unknown topic', async () => {
    const r = await registry();
    expect((await incomingError(r, 'Ditto', { headers: {}, textPayload: '' })).message).toMatch(
      /absent or empty/,
    );
    expect((await incomingError(r, 'Ditto', { headers: {}, textPayload: '{"topic":' })).error).toBe(
      'connectivity:message.mapping.failed',
    );
    const teleport = JSON.stringify({ ...modifyThing, topic: 'a/b/things/twin/commands/teleport' });
    expect((await incomingError(r, 'Ditto', { headers: {}, textPayload: teleport })).message).toMatch(
      /teleport/,
    );
  });

  it('publishes the protocol JSON with only content-type and correlation-id headers', async () => {
    const r = await registry();
    const event = {
      ...modifyThing,
      topic: 'my.sensors/sensor01/things/twin/events/modified',
      headers: { 'correlation-id': 'c-9', 'x-custom': 'no', 'response-required': false },
      revision: 2,
    };
    expect(await outgoing(r, 'Ditto', event)).toEqual([
      {
        headers: { 'content-type': DITTO_JSON, 'correlation-id': 'c-9' },
        textPayload: JSON.stringify(event),
        contentType: DITTO_JSON,
      },
    ]);
  });
});

describe('JavaScript', () => {
  // ditto docs "Text payload example" (Hono telemetry JSON → modify /features)
  const textScript = `function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  if (contentType !== 'application/json') { return null; }
  var jsonData = JSON.parse(textPayload);
  var value = {
    temperature: { properties: { value: jsonData.temp.split(" ")[0] } },
    pressure: { properties: { value: jsonData.pres.value } },
    humidity: { properties: { value: jsonData.hum } }
  };
  return Ditto.buildDittoProtocolMsg('org.eclipse.ditto', headers['device_id'], 'things', 'twin', 'commands', 'modify', '/features', headers, value);
}`;
  // ditto docs "Bytes payload example" (0x09EF03F72A)
  const bytesScript = `function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  if (contentType !== 'application/octet-stream') { return null; }
  var view = new DataView(bytePayload);
  var value = {
    temperature: { properties: { value: view.getInt16(0) / 100.0 } },
    pressure: { properties: { value: view.getInt16(2) } },
    humidity: { properties: { value: view.getUint8(4) } }
  };
  return Ditto.buildDittoProtocolMsg('org.eclipse.ditto', headers['device_id'], 'things', 'twin', 'commands', 'modify', '/features', headers, value);
}`;

  it('runs the documented text payload example', async () => {
    const r = await registry({
      js: { mappingEngine: 'JavaScript', options: { incomingScript: textScript, outgoingScript: '' } },
    });
    const headers = { 'content-type': 'application/json', device_id: 'the-thing-id' };
    const [msg] = await incoming(r, 'js', {
      headers,
      textPayload: '{"temp": "23.42 °C","hum": 78,"pres": {"value": 760,"unit": "mmHg"}}',
    });
    expect(msg).toMatchObject({
      topic: 'org.eclipse.ditto/the-thing-id/things/twin/commands/modify',
      path: '/features',
      value: {
        temperature: { properties: { value: '23.42' } },
        pressure: { properties: { value: 760 } },
        humidity: { properties: { value: 78 } },
      },
    });
    expect(await incoming(r, 'js', { headers: { 'content-type': 'text/plain' }, textPayload: 'x' })).toEqual(
      [],
    );
  });

  it('runs the documented bytes payload example', async () => {
    const r = await registry({
      js: { mappingEngine: 'JavaScript', options: { incomingScript: bytesScript, outgoingScript: '' } },
    });
    const [msg] = await incoming(r, 'js', {
      headers: { 'content-type': 'application/octet-stream', device_id: 'the-thing-id' },
      bytePayload: new Uint8Array([0x09, 0xef, 0x03, 0xf7, 0x2a]),
    });
    expect(msg.value).toEqual({
      temperature: { properties: { value: 25.43 } },
      pressure: { properties: { value: 1015 } },
      humidity: { properties: { value: 42 } },
    });
  });

  it('passes Ditto Protocol through when both scripts are empty', async () => {
    const r = await registry({
      js: { mappingEngine: 'JavaScript', options: { incomingScript: '', outgoingScript: '' } },
    });
    expect(await incoming(r, 'js', { headers: {}, textPayload: JSON.stringify(modifyThing) })).toEqual([
      modifyThing,
    ]);
    const [out] = await outgoing(r, 'js', modifyThing);
    expect(JSON.parse(out.textPayload!)).toEqual(modifyThing);
    expect(out.headers['content-type']).toBe(DITTO_JSON);
  });
});

describe('Normalized', () => {
  it('turns the documented modified event into Thing-shaped JSON with _context', async () => {
    const r = await registry();
    const event = {
      topic: 'thing/id/things/twin/events/modified',
      headers: {},
      path: '/features/sensors/properties/temperature/value',
      value: 42,
    };
    const [out] = await outgoing(r, 'Normalized', event);
    expect(out.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(out.textPayload!)).toEqual({
      thingId: 'thing:id',
      features: { sensors: { properties: { temperature: { value: 42 } } } },
      _context: { topic: event.topic, path: event.path, value: 42, headers: {} },
    });
  });

  it('marks a deleted thing with _deleted and adds _modified and _revision', async () => {
    const r = await registry();
    const event = {
      topic: 'thing/id/things/twin/events/deleted',
      headers: { 'content-type': 'application/json' },
      path: '/',
      revision: 7,
      timestamp: '2023-12-01T10:30:00Z',
    };
    expect(JSON.parse((await outgoing(r, 'Normalized', event))[0].textPayload!)).toEqual({
      thingId: 'thing:id',
      _modified: '2023-12-01T10:30:00Z',
      _revision: 7,
      _deleted: '2023-12-01T10:30:00Z',
      _context: {
        topic: event.topic,
        path: '/',
        value: null,
        headers: { 'content-type': 'application/json' },
      },
    });
  });

  it('drops merge-patch nulls and tracks them in _deletedFields with includeDeletedFields', async () => {
    const r = await registry({
      n: {
        mappingEngine: 'Normalized',
        options: { includeDeletedFields: true, fields: 'thingId,attributes,_deletedFields' },
      },
    });
    const merged = {
      topic: 'thing/id/things/twin/events/merged',
      headers: { 'content-type': 'application/merge-patch+json' },
      path: '/',
      value: { attributes: { location: { mountedOn: null, floor: 2 } }, features: { myFeature: null } },
      timestamp: '2025-01-27T10:00:00Z',
    };
    expect(JSON.parse((await outgoing(r, 'n', merged))[0].textPayload!)).toEqual({
      thingId: 'thing:id',
      attributes: { location: { floor: 2 } },
      _deletedFields: {
        attributes: { location: { mountedOn: '2025-01-27T10:00:00Z' } },
        features: { myFeature: '2025-01-27T10:00:00Z' },
      },
    });
    const deleted = {
      topic: 'thing/id/things/twin/events/deleted',
      headers: {},
      path: '/features/myFeature',
      timestamp: '2025-01-27T11:00:00Z',
    };
    expect(JSON.parse((await outgoing(r, 'n', deleted))[0].textPayload!)).toEqual({
      thingId: 'thing:id',
      _deletedFields: { features: { myFeature: '2025-01-27T11:00:00Z' } },
    });
  });

  it('drops everything that is not a thing change event, and all inbound messages', async () => {
    const r = await registry();
    expect(await outgoing(r, 'Normalized', modifyThing)).toEqual([]);
    expect(
      await outgoing(r, 'Normalized', {
        topic: 'thing/id/things/twin/events/deleted',
        headers: {},
        path: '/attributes/a',
      }),
    ).toEqual([]);
    expect(
      await incoming(r, 'Normalized', { headers: {}, textPayload: JSON.stringify(modifyThing) }),
    ).toEqual([]);
  });

  it('merges enrichment extra fields underneath the event', async () => {
    const r = await registry();
    const event = {
      topic: 'thing/id/things/twin/events/modified',
      headers: {},
      path: '/attributes/a',
      value: 1,
      extra: { attributes: { b: 2, a: 0 } },
    };
    expect(JSON.parse((await outgoing(r, 'Normalized', event))[0].textPayload!)).toMatchObject({
      attributes: { a: 1, b: 2 },
    });
  });
});

describe('ConnectionStatus', () => {
  const definitions = {
    status: { mappingEngine: 'ConnectionStatus', options: { thingId: '{{ header:device_id }}' } },
  };
  const headers = { device_id: 'eclipse:ditto', 'creation-time': '1572358578000', 'correlation-id': 'k' };

  it('sets readySince and readyUntil from creation-time and ttd', async () => {
    const r = await registry(definitions);
    expect(await incoming(r, 'status', { headers: { ...headers, ttd: '300' } })).toEqual([
      {
        topic: 'eclipse/ditto/things/twin/commands/modify',
        headers: { 'correlation-id': 'k', 'response-required': false, 'requested-acks': [] },
        path: '/features/ConnectionStatus',
        value: {
          definition: ['org.eclipse.ditto:ConnectionStatus:1.0.0'],
          properties: { status: { readySince: '2019-10-29T14:16:18Z', readyUntil: '2019-10-29T14:21:18Z' } },
        },
      },
    ]);
  });

  it('uses the distant future for ttd -1 and modifies only readyUntil for ttd 0', async () => {
    const r = await registry({
      status: { mappingEngine: 'ConnectionStatus', options: { thingId: 'eclipse:fixed', featureId: 'Conn' } },
    });
    const [forever] = await incoming(r, 'status', { headers: { ...headers, ttd: '-1' } });
    expect(forever.path).toBe('/features/Conn');
    expect((forever.value as any).properties.status.readyUntil).toBe('9999-12-31T23:59:59Z');
    const [gone] = await incoming(r, 'status', { headers: { ...headers, ttd: '0' } });
    expect(gone).toMatchObject({
      topic: 'eclipse/fixed/things/twin/commands/modify',
      path: '/features/Conn/properties/status/readyUntil',
      value: '2019-10-29T14:16:18Z',
    });
  });

  it('drops messages without usable headers instead of failing', async () => {
    const r = await registry(definitions);
    expect(await incoming(r, 'status', { headers: { device_id: 'eclipse:ditto', ttd: '10' } })).toEqual([]);
    expect(await incoming(r, 'status', { headers: { ...headers, ttd: 'soon' } })).toEqual([]);
    expect(await incoming(r, 'status', { headers: { ...headers, ttd: '-2' } })).toEqual([]);
    expect(await incoming(r, 'status', { headers: { 'creation-time': '1', ttd: '1' } })).toEqual([]);
  });
});

describe('RawMessage', () => {
  // ditto docs: feature message response ↔ 6 bytes with ditto-message-* headers
  const response = {
    topic: 'org.eclipse.ditto/smartcoffee/things/live/messages/heatUp',
    headers: { 'content-type': 'application/octet-stream' },
    path: '/features/water-tank/inbox/messages/heatUp',
    value: 'AQIDBAUG',
    status: 200,
  };
  const rawHeaders = {
    'content-type': 'application/octet-stream',
    status: '200',
    'ditto-message-subject': 'heatUp',
    'ditto-message-direction': 'TO',
    'ditto-message-thing-id': 'org.eclipse.ditto:smartcoffee',
    'ditto-message-feature-id': 'water-tank',
  };

  it('maps the documented raw payload and headers to the message response', async () => {
    const r = await registry();
    expect(
      await incoming(r, 'RawMessage', {
        headers: rawHeaders,
        bytePayload: new Uint8Array([1, 2, 3, 4, 5, 6]),
      }),
    ).toEqual([response]);
  });

  it('publishes the documented message response as raw bytes with the message headers', async () => {
    const r = await registry();
    const [out] = await outgoing(r, 'RawMessage', response);
    expect(out.headers).toEqual(rawHeaders);
    expect([...out.bytePayload!]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads text and JSON payloads and uses the configured header fallbacks', async () => {
    const r = await registry({
      raw: {
        mappingEngine: 'RawMessage',
        options: {
          incomingMessageHeaders: {
            'ditto-message-subject': "{{ header:ditto-message-subject | fn:default('fallback-subject') }}",
            'ditto-message-thing-id': "{{ header:ditto-message-thing-id | fn:default('ns:fallback-thing') }}",
          },
        },
      },
    });
    expect(
      await incoming(r, 'raw', {
        headers: { 'content-type': 'application/json' },
        textPayload: '{"on":true}',
      }),
    ).toEqual([
      {
        topic: 'ns/fallback-thing/things/live/messages/fallback-subject',
        headers: { 'content-type': 'application/json' },
        path: '/inbox/messages/fallback-subject',
        value: { on: true },
      },
    ]);
    const [fromDevice] = await incoming(r, 'raw', {
      headers: { 'content-type': 'text/plain', 'ditto-message-direction': 'FROM' },
      textPayload: 'hi',
    });
    expect(fromDevice).toMatchObject({ path: '/outbox/messages/fallback-subject', value: 'hi' });
  });

  it('hands Ditto Protocol content to the Ditto mapper in both directions', async () => {
    const r = await registry();
    expect(
      await incoming(r, 'RawMessage', {
        headers: { 'content-type': DITTO_JSON },
        textPayload: JSON.stringify(modifyThing),
      }),
    ).toEqual([modifyThing]);
    const [out] = await outgoing(r, 'RawMessage', modifyThing);
    expect(out.headers).toEqual({ 'content-type': DITTO_JSON });
  });

  it('fails without a thing ID, and on a binary value that is not base64', async () => {
    const r = await registry();
    expect(
      (await incomingError(r, 'RawMessage', { headers: { 'ditto-message-subject': 's' }, textPayload: 'x' }))
        .message,
    ).toMatch(/ditto-message-thing-id/);
    const [outcome] = await r.mapOutgoing(['RawMessage'], { ...response, value: { not: 'base64' } });
    expect(outcome).toMatchObject({ error: { error: 'connectivity:message.mapping.failed' } });
  });

  it('publishes text with the default outgoing content type', async () => {
    const r = await registry();
    const ask = {
      topic: 'org.eclipse.ditto/smartcoffee/things/live/messages/ask',
      headers: {},
      path: '/inbox/messages/ask',
      value: 'Hey',
    };
    expect(await outgoing(r, 'RawMessage', ask)).toEqual([
      {
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'ditto-message-direction': 'TO',
          'ditto-message-thing-id': 'org.eclipse.ditto:smartcoffee',
          'ditto-message-subject': 'ask',
        },
        contentType: 'text/plain; charset=utf-8',
        textPayload: 'Hey',
      },
    ]);
  });
});

describe('ImplicitThingCreation', () => {
  // ditto docs example configuration
  const options = {
    thing: {
      thingId: '{{ header:device_id }}',
      attributes: { CreatedBy: 'ImplicitThingCreation', at: '{{ time:now }}', by: '{{ request:subjectId }}' },
    },
    commandHeaders: { 'If-None-Match': '*', 'correlation-id': '{{ header:correlation-id }}' },
    allowPolicyLockout: true,
  };

  it('creates the thing of the template with the command headers', async () => {
    const r = await registry({ create: { mappingEngine: 'ImplicitThingCreation', options } });
    const result = await incoming(
      r,
      'create',
      { headers: { device_id: 'org.eclipse.ditto:dev-7', 'correlation-id': 'c-7' } },
      'integration:hono',
    );
    expect(result).toEqual([
      {
        topic: 'org.eclipse.ditto/dev-7/things/twin/commands/create',
        headers: { 'if-none-match': '*', 'correlation-id': 'c-7', 'allow-policy-lockout': true },
        path: '/',
        value: {
          thingId: 'org.eclipse.ditto:dev-7',
          attributes: {
            CreatedBy: 'ImplicitThingCreation',
            at: '2024-01-02T03:04:05Z',
            by: 'integration:hono',
          },
        },
      },
    ]);
  });

  it('keeps _policy and a ref: placeholder in _copyPolicyFrom, and defaults to If-None-Match *', async () => {
    const thing = { thingId: 'ns:{{ header:id }}', _copyPolicyFrom: '{{ ref:things/ns:template/policyId }}' };
    const r = await registry({
      create: { mappingEngine: 'ImplicitThingCreation', options: { thing, allowPolicyLockout: 'false' } },
    });
    const [msg] = await incoming(r, 'create', { headers: { id: 'x' } });
    expect(msg.headers).toEqual({ 'if-none-match': '*', 'allow-policy-lockout': false });
    expect(msg.value).toEqual({ thingId: 'ns:x', _copyPolicyFrom: '{{ ref:things/ns:template/policyId }}' });
  });

  it('fails when a placeholder of the thing cannot be resolved', async () => {
    const r = await registry({ create: { mappingEngine: 'ImplicitThingCreation', options } });
    expect((await incomingError(r, 'create', { headers: {} })).message).toMatch(/header:device_id/);
  });

  it('fails outbound error responses and drops other outbound messages', async () => {
    const r = await registry({ create: { mappingEngine: 'ImplicitThingCreation', options } });
    const error = {
      topic: 'ns/x/things/twin/errors',
      headers: {},
      path: '/',
      status: 412,
      value: { status: 412, error: 'things:precondition.failed', message: 'no' },
    };
    expect((await r.mapOutgoing(['create'], error))[0]).toMatchObject({
      error: { error: 'connectivity:message.mapping.failed' },
    });
    expect(await outgoing(r, 'create', modifyThing)).toEqual([]);
  });
});

describe('UpdateTwinWithLiveResponse', () => {
  const liveResponse = {
    topic: 'org.eclipse.ditto/smartcoffee/things/live/commands/retrieve',
    headers: { 'correlation-id': 'live-1' },
    path: '/attributes',
    value: { temperature: 21 },
    status: 200,
  };

  it('turns a live retrieve response into a twin merge', async () => {
    const r = await registry();
    expect(
      await incoming(r, 'UpdateTwinWithLiveResponse', {
        headers: {},
        textPayload: JSON.stringify(liveResponse),
      }),
    ).toEqual([
      {
        topic: 'org.eclipse.ditto/smartcoffee/things/twin/commands/merge',
        headers: { 'response-required': false, 'if-match': '*', 'correlation-id': 'live-1-merge-into-twin' },
        path: '/attributes',
        value: { temperature: 21 },
      },
    ]);
  });

  it('uses dittoHeadersForMerge with placeholders', async () => {
    const r = await registry({
      u: {
        mappingEngine: 'UpdateTwinWithLiveResponse',
        options: {
          dittoHeadersForMerge: {
            'if-match': '*',
            'response-required': false,
            hint: '{{ header:hint }}',
            'put-metadata': [{ key: '*/updated-at', value: '{{ time:now }}' }],
          },
        },
      },
    });
    const [msg] = await incoming(r, 'u', {
      headers: { hint: 'h1' },
      textPayload: JSON.stringify(liveResponse),
    });
    expect(msg.headers).toEqual({
      'if-match': '*',
      'response-required': 'false',
      hint: 'h1',
      'put-metadata': [{ key: '*/updated-at', value: '2024-01-02T03:04:05Z' }],
      'correlation-id': 'live-1-merge-into-twin',
    });
  });

  it('drops twin responses, commands and payloads that are not Ditto Protocol', async () => {
    const r = await registry();
    const twin = { ...liveResponse, topic: 'org.eclipse.ditto/smartcoffee/things/twin/commands/retrieve' };
    expect(
      await incoming(r, 'UpdateTwinWithLiveResponse', { headers: {}, textPayload: JSON.stringify(twin) }),
    ).toEqual([]);
    expect(
      await incoming(r, 'UpdateTwinWithLiveResponse', {
        headers: {},
        textPayload: JSON.stringify(modifyThing),
      }),
    ).toEqual([]);
    expect(await incoming(r, 'UpdateTwinWithLiveResponse', { headers: {}, textPayload: 'hello' })).toEqual(
      [],
    );
  });
});

describe('CloudEvents', () => {
  it('maps the documented binary CloudEvent, taking ce-id as correlation-id', async () => {
    const r = await registry();
    const headers = {
      'ce-specversion': '1.0',
      'ce-id': 'some-id',
      'ce-type': 'some-type',
      'ce-source': 'generic-producer',
      'content-type': DITTO_JSON,
    };
    expect(await incoming(r, 'CloudEvents', { headers, textPayload: JSON.stringify(modifyThing) })).toEqual([
      { ...modifyThing, headers: { 'correlation-id': 'some-id' } },
    ]);
    const { 'ce-type': _omitted, ...incomplete } = headers;
    expect(
      (
        await incomingError(r, 'CloudEvents', {
          headers: incomplete,
          textPayload: JSON.stringify(modifyThing),
        })
      ).message,
    ).toMatch(/not a CloudEvent/);
  });

  it('maps the documented structured CloudEvent with data or data_base64', async () => {
    const r = await registry();
    const headers = { 'content-type': 'application/cloudevents+json' };
    const event = {
      specversion: '1.0',
      id: '3212e',
      source: 'http:somesite.com',
      type: 'com.site.com',
      data: modifyThing,
    };
    const expected = [{ ...modifyThing, headers: { 'correlation-id': '3212e' } }];
    expect(await incoming(r, 'CloudEvents', { headers, textPayload: JSON.stringify(event) })).toEqual(
      expected,
    );
    const base64 = {
      ...event,
      data: undefined,
      data_base64: Buffer.from(JSON.stringify(modifyThing)).toString('base64'),
    };
    expect(await incoming(r, 'CloudEvents', { headers, textPayload: JSON.stringify(base64) })).toEqual(
      expected,
    );
    expect(
      (
        await incomingError(r, 'CloudEvents', {
          headers,
          textPayload: JSON.stringify({ ...event, id: undefined }),
        })
      ).message,
    ).toMatch(/not a CloudEvent/);
  });

  it('drops other content types', async () => {
    const r = await registry();
    expect(
      await incoming(r, 'CloudEvents', {
        headers: { 'content-type': 'application/json' },
        textPayload: '{}',
      }),
    ).toEqual([]);
  });

  it('publishes a structured CloudEvent', async () => {
    const r = await registry();
    const event = {
      topic: 'org.eclipse.ditto/fancy-thing/things/twin/events/modified',
      headers: { 'correlation-id': 'c-1' },
      path: '/attributes/a',
      value: 1,
      revision: 3,
    };
    const [out] = await outgoing(r, 'CloudEvents', event);
    expect(out.headers).toEqual({ 'content-type': 'application/cloudevents+json' });
    expect(JSON.parse(out.textPayload!)).toEqual({
      data: event,
      specversion: '1.0',
      id: 'c-1',
      source: 'https://github.com/eclipse-ditto/ditto',
      type: 'org.eclipse.ditto.outbound:things/twin/events/modified',
      datacontenttype: DITTO_JSON,
      time: '2024-01-02T03:04:05Z',
      subject: 'org.eclipse.ditto:fancy-thing',
    });
  });
});
