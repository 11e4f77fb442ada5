import { describe, expect, it } from 'vitest';
import type { ThingCommand, ThingEvent } from '../../../src/model/signals.js';
import { renderProtocolMessage } from '../../../src/protocol/message.js';
import {
  fromRetrieveThings,
  fromRetrieveThingsResponse,
  fromThingCommand,
  fromThingCommandResponse,
  fromThingEvent,
  toRetrieveThings,
  toRetrieveThingsResponse,
  toThingCommand,
  toThingCommandResponse,
  toThingEvent,
} from '../../../src/protocol/things.js';
import { compact, expectDittoError, parse, render } from './helpers.js';
import { expectValid } from './schemas.js';

// ditto-interfaces.md §4.8, literal examples.
const MODIFY_ATTRIBUTE = `{"topic":"org.eclipse.ditto/fancy-thing/things/twin/commands/modify",
 "headers":{"correlation-id":"<command-correlation-id>"},
 "path":"/attributes/location","value":{"latitude":44.673856,"longitude":8.261719}}`;
const MODIFY_RESPONSE = `{"topic":"org.eclipse.ditto/fancy-thing/things/twin/commands/modify",
 "headers":{"correlation-id":"<preserved-command-correlation-id>"},"path":"/attributes/location","status":204}`;
const ATTRIBUTE_MODIFIED = `{"topic":"org.eclipse.ditto/fancy-thing/things/twin/events/modified",
 "headers":{"correlation-id":"<preserved-command-correlation-id>"},
 "path":"/attributes/location","value":{"latitude":44.673856,"longitude":8.261719},"revision":1}`;
const MERGED = `{"topic":"org.eclipse.ditto/fancy-thing/things/twin/events/merged",
 "headers":{"content-type":"application/merge-patch+json"},"path":"/",
 "value":{"attributes":{"location":{"latitude":44.673856,"longitude":8.261719}}},
 "revision":42,"timestamp":"2021-01-18T09:42:12Z"}`;

// Appendix A.5 frames; the "…" of the transcript are filled with concrete headers and a timestamp.
const A5_COMMAND = `{"topic":"org.eclipse.ditto/t1/things/twin/commands/modify","headers":{"correlation-id":"c1","requested-acks":["twin-persisted"]},"path":"/attributes/counter","value":43}`;
const A5_RESPONSE = `{"topic":"org.eclipse.ditto/t1/things/twin/commands/modify","headers":{"correlation-id":"c1","response-required":true,"version":2},"path":"/attributes/counter","status":204}`;
const A5_EVENT = `{"topic":"org.eclipse.ditto/t1/things/twin/events/modified","headers":{"correlation-id":"c1","version":2},"path":"/attributes/counter","value":43,"revision":7,"timestamp":"2026-11-21T08:00:00.000Z","extra":{"attributes":{"location":"kitchen"}}}`;

describe('literal examples round-trip exactly', () => {
  it.each([
    ['ModifyAttribute command (§4.8)', MODIFY_ATTRIBUTE],
    ['A.5 command', A5_COMMAND],
  ])('%s through ThingCommand', (_name, text) => {
    const command = toThingCommand(parse(text));
    expect(render(fromThingCommand(command))).toBe(compact(text));
    expectValid('protocol-envelope.json', renderProtocolMessage(fromThingCommand(command)));
  });

  it.each([
    ['204 response (§4.8)', MODIFY_RESPONSE],
    ['A.5 response', A5_RESPONSE],
  ])('%s through ThingCommandResponse', (_name, text) => {
    const response = toThingCommandResponse(parse(text));
    expect(response.value).toBeUndefined();
    expect(render(fromThingCommandResponse(response))).toBe(compact(text));
    expectValid('protocol-response.json', renderProtocolMessage(fromThingCommandResponse(response)));
  });

  it('the merged event (§4.8) through ThingEvent', () => {
    const event = toThingEvent(parse(MERGED));
    expect(event).toMatchObject({ thingId: 'org.eclipse.ditto:fancy-thing', action: 'merged', revision: 42 });
    expect(render(fromThingEvent(event))).toBe(compact(MERGED));
    // The doc example has no correlation-id, which the envelope schema requires; a delivered event has one.
    const delivered = { ...event, headers: { ...event.headers, 'correlation-id': 'c' } };
    expectValid('protocol-envelope.json', renderProtocolMessage(fromThingEvent(delivered)));
  });

  it('the A.5 event keeps its extra when rendered from the parsed message', () => {
    const msg = parse(A5_EVENT);
    const event = toThingEvent(msg);
    expect(render({ ...fromThingEvent(event), extra: msg.extra })).toBe(compact(A5_EVENT));
    expectValid(
      'protocol-envelope.json',
      renderProtocolMessage({ ...fromThingEvent(event), extra: msg.extra }),
    );
  });

  it('the AttributeModified event (§4.8, no timestamp) through the envelope', () => {
    expect(render(parse(ATTRIBUTE_MODIFIED))).toBe(compact(ATTRIBUTE_MODIFIED));
  });
});

describe('toThingCommand', () => {
  const base = { headers: { 'correlation-id': 'c' } };
  const msg = (topic: string, path: string, extra: Record<string, unknown> = {}) =>
    parse(JSON.stringify({ topic, path, ...base, ...extra }));

  it('converts twin and live commands of every action', () => {
    for (const channel of ['twin', 'live'] as const) {
      for (const action of ['create', 'modify', 'merge'] as const) {
        const c = toThingCommand(msg(`ns/t/things/${channel}/commands/${action}`, '/', { value: {} }));
        expect(c).toEqual({ thingId: 'ns:t', channel, action, path: '/', value: {}, headers: base.headers });
      }
      expect(toThingCommand(msg(`ns/t/things/${channel}/commands/delete`, '/attributes/a'))).toEqual({
        thingId: 'ns:t',
        channel,
        action: 'delete',
        path: '/attributes/a',
        headers: base.headers,
      });
    }
  });

  it('keeps fields of a retrieve and the correlation ID', () => {
    const c = toThingCommand(
      msg('ns/t/things/twin/commands/retrieve', '/', { fields: 'thingId,attributes' }),
    );
    expect(c.fields).toBe('thingId,attributes');
    expect(c.headers['correlation-id']).toBe('c');
  });

  it('keeps a null merge value (it deletes)', () => {
    const c = toThingCommand(msg('ns/t/things/twin/commands/merge', '/attributes/a', { value: null }));
    expect('value' in c && c.value === null).toBe(true);
    expect(render(fromThingCommand(c))).toContain('"value":null');
  });

  it.each([
    '/',
    '/thingId',
    '/policyId',
    '/definition',
    '/attributes',
    '/attributes/a/b/c',
    '/features',
    '/features/lamp',
    '/features/lamp/definition',
    '/features/lamp/properties',
    '/features/lamp/properties/on/x',
    '/features/lamp/desiredProperties',
    '/features/lamp/desiredProperties/on',
  ])('accepts the thing path %s', (path) => {
    expect(toThingCommand(msg('ns/t/things/twin/commands/retrieve', path)).path).toBe(path);
  });

  it.each(['/foo', '/features/lamp/foo', '/features/lamp/definition/x', '/policyId/x', '/thingId/a'])(
    'rejects the path %s with protocoladapter:unknown.path',
    (path) => {
      expectDittoError(
        () => toThingCommand(msg('ns/t/things/twin/commands/modify', path, { value: 1 })),
        'protocoladapter:unknown.path',
        400,
      );
    },
  );

  it('rejects create below the root with protocoladapter:unknown.path', () => {
    expectDittoError(
      () => toThingCommand(msg('ns/t/things/twin/commands/create', '/attributes', { value: {} })),
      'protocoladapter:unknown.path',
    );
  });

  it('rejects modify without value with protocoladapter:illegal.adaptable (422)', () => {
    expectDittoError(
      () => toThingCommand(msg('ns/t/things/twin/commands/modify', '/attributes')),
      'protocoladapter:illegal.adaptable',
      422,
    );
  });

  it('rejects migrate, responses and events with protocoladapter:unknown.command or topicpath', () => {
    expectDittoError(
      () => toThingCommand(msg('ns/t/things/twin/commands/migrate', '/', { value: {} })),
      'protocoladapter:unknown.command',
    );
    expectDittoError(
      () => toThingCommand(msg('ns/t/things/twin/commands/modify', '/', { value: {}, status: 204 })),
      'protocoladapter:unknown.command',
    );
    expectDittoError(
      () => toThingCommand(msg('ns/t/things/twin/events/modified', '/', { value: {} })),
      'protocoladapter:unknown.topicpath',
    );
  });

  it('rejects an invalid thing ID with things:id.invalid', () => {
    expectDittoError(
      () => toThingCommand(msg('1ns/t/things/twin/commands/retrieve', '/')),
      'things:id.invalid',
      400,
    );
  });

  it('renders a command back with value and fields', () => {
    const command: ThingCommand = {
      thingId: 'ns:a:b',
      channel: 'live',
      action: 'retrieve',
      path: '/attributes',
      fields: 'x',
      headers: { 'correlation-id': 'c' },
    };
    const json = renderProtocolMessage(fromThingCommand(command));
    expect(json).toEqual({
      topic: 'ns/a:b/things/live/commands/retrieve',
      headers: { 'correlation-id': 'c' },
      path: '/attributes',
      fields: 'x',
    });
    expect(toThingCommand(parse(JSON.stringify(json)))).toEqual(command);
  });
});

describe('responses', () => {
  it('renders a 201 with value and a 204 without', () => {
    const created = renderProtocolMessage(
      fromThingCommandResponse({
        thingId: 'ns:t',
        channel: 'twin',
        action: 'modify',
        path: '/attributes/a',
        status: 201,
        value: 1,
        headers: { 'correlation-id': 'c' },
      }),
    );
    expect(created).toEqual({
      topic: 'ns/t/things/twin/commands/modify',
      headers: { 'correlation-id': 'c' },
      path: '/attributes/a',
      value: 1,
      status: 201,
    });
    expectValid('protocol-response.json', created);
  });

  it('renders an error response on the errors topic', () => {
    const json = renderProtocolMessage(
      fromThingCommandResponse({
        thingId: 'ns:t',
        channel: 'live',
        action: 'retrieve',
        path: '/',
        status: 404,
        value: { status: 404, error: 'things:thing.notfound', message: 'gone' },
        headers: { 'correlation-id': 'c' },
      }),
    );
    expect(json.topic).toBe('ns/t/things/live/errors');
    expectValid('protocol-error_response.json', json);
  });

  it('reads a live response from a device and requires its status', () => {
    const text =
      '{"topic":"ns/t/things/live/commands/retrieve","headers":{"correlation-id":"c"},"path":"/attributes","value":{"a":1},"status":200}';
    const response = toThingCommandResponse(parse(text));
    expect(response).toEqual({
      thingId: 'ns:t',
      channel: 'live',
      action: 'retrieve',
      path: '/attributes',
      status: 200,
      value: { a: 1 },
      headers: { 'correlation-id': 'c' },
    });
    expect(render(fromThingCommandResponse(response))).toBe(text);
    expectDittoError(
      () =>
        toThingCommandResponse(
          parse('{"topic":"ns/t/things/live/commands/retrieve","headers":{},"path":"/"}'),
        ),
      'protocoladapter:illegal.adaptable',
      422,
    );
  });
});

describe('events', () => {
  const event: ThingEvent = {
    thingId: 'ns:t',
    channel: 'twin',
    action: 'modified',
    path: '/features/lamp/properties/on',
    value: true,
    revision: 3,
    timestamp: '2026-01-01T00:00:00Z',
    headers: { 'correlation-id': 'c' },
  };

  it('renders revision and timestamp and validates against the envelope', () => {
    const json = renderProtocolMessage(fromThingEvent(event));
    expect(json).toEqual({
      topic: 'ns/t/things/twin/events/modified',
      headers: { 'correlation-id': 'c' },
      path: '/features/lamp/properties/on',
      value: true,
      revision: 3,
      timestamp: '2026-01-01T00:00:00Z',
    });
    expectValid('protocol-envelope.json', json);
  });

  it('adds content-type merge-patch to merged events only', () => {
    expect(fromThingEvent({ ...event, action: 'merged' }).headers['content-type']).toBe(
      'application/merge-patch+json',
    );
    expect(fromThingEvent(event).headers['content-type']).toBeUndefined();
  });

  it('renders deleted events without value and created events with it', () => {
    expect(
      'value' in renderProtocolMessage(fromThingEvent({ ...event, action: 'deleted', value: undefined })),
    ).toBe(false);
    expect(renderProtocolMessage(fromThingEvent({ ...event, action: 'created', revision: 1 })).topic).toBe(
      'ns/t/things/twin/events/created',
    );
  });

  it('round-trips a live event from a device', () => {
    const live = { ...event, channel: 'live' as const };
    const text = render(fromThingEvent(live));
    expect(text.startsWith('{"topic":"ns/t/things/live/events/modified"')).toBe(true);
    expect(toThingEvent(parse(text))).toEqual(live);
  });

  it('stamps a live event without timestamp with the receipt time', () => {
    const e = toThingEvent(
      parse(
        '{"topic":"ns/t/things/live/events/modified","headers":{},"path":"/attributes/a","value":1,"revision":1}',
      ),
      () => new Date('2026-02-03T04:05:06.000Z'),
    );
    expect(e.timestamp).toBe('2026-02-03T04:05:06.000Z');
  });

  it('requires a revision (json.field.missing) and a value (illegal.adaptable)', () => {
    expectDittoError(
      () =>
        toThingEvent(
          parse('{"topic":"ns/t/things/live/events/modified","headers":{},"path":"/attributes/a","value":1}'),
        ),
      'json.field.missing',
    );
    expectDittoError(
      () =>
        toThingEvent(
          parse(
            '{"topic":"ns/t/things/live/events/modified","headers":{},"path":"/attributes/a","revision":1}',
          ),
        ),
      'protocoladapter:illegal.adaptable',
    );
  });
});

describe('retrieve of several things', () => {
  const text =
    '{"topic":"ns/_/things/twin/commands/retrieve","headers":{"correlation-id":"c"},"path":"/","fields":"thingId","value":{"thingIds":["ns:a","ns:b"]}}';

  it('converts to RetrieveThings and back', () => {
    const command = toRetrieveThings(parse(text));
    expect(command).toEqual({
      namespace: 'ns',
      channel: 'twin',
      thingIds: ['ns:a', 'ns:b'],
      fields: 'thingId',
      headers: { 'correlation-id': 'c' },
    });
    expect(render(fromRetrieveThings(command))).toBe(text);
  });

  it('is not a ThingCommand', () => {
    expectDittoError(() => toThingCommand(parse(text)), 'protocoladapter:unknown.command');
  });

  it('accepts the _/_ wildcard topic', () => {
    const c = toRetrieveThings(parse(text.replace('ns/_/', '_/_/')));
    expect(c.namespace).toBeUndefined();
    expect(renderProtocolMessage(fromRetrieveThings(c)).topic).toBe('_/_/things/twin/commands/retrieve');
  });

  it('rejects empty, malformed and invalid thingIds', () => {
    expectDittoError(
      () => toRetrieveThings(parse(text.replace('["ns:a","ns:b"]', '[]'))),
      'things:things.ids.missing',
    );
    expectDittoError(
      () => toRetrieveThings(parse(text.replace('["ns:a","ns:b"]', '[1]'))),
      'protocoladapter:illegal.adaptable',
    );
    expectDittoError(
      () => toRetrieveThings(parse(text.replace('["ns:a","ns:b"]', '["nocolon"]'))),
      'things:id.invalid',
    );
  });

  it('renders the response with the wildcard topic and an array value', () => {
    const json = renderProtocolMessage(
      fromRetrieveThingsResponse({
        namespace: 'ns',
        channel: 'twin',
        status: 200,
        things: [{ thingId: 'ns:a' }],
        headers: { 'correlation-id': 'c' },
      }),
    );
    expect(json).toEqual({
      topic: 'ns/_/things/twin/commands/retrieve',
      headers: { 'correlation-id': 'c' },
      path: '/',
      value: [{ thingId: 'ns:a' }],
      status: 200,
    });
    expectValid('protocol-response.json', json);
    expect(toRetrieveThingsResponse(parse(JSON.stringify(json))).things).toEqual([{ thingId: 'ns:a' }]);
  });
});
