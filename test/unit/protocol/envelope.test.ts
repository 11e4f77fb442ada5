import { describe, expect, it } from 'vitest';
import { parseHeaders, renderHeaders, withoutInternalHeaders } from '../../../src/protocol/headers.js';
import { parseProtocolMessage, renderProtocolMessage } from '../../../src/protocol/message.js';
import { expectDittoError } from './helpers.js';
import { expectValid } from './schemas.js';

const topic = 'ns/t/things/twin/commands/modify';

describe('parseProtocolMessage', () => {
  it('parses text and already parsed JSON alike', () => {
    const json = { topic, headers: { 'correlation-id': 'c1' }, path: '/attributes/a', value: 1 };
    expect(parseProtocolMessage(JSON.stringify(json))).toEqual(parseProtocolMessage(json));
    expect(parseProtocolMessage(json)).toEqual({
      topic: {
        namespace: 'ns',
        name: 't',
        group: 'things',
        channel: 'twin',
        criterion: 'commands',
        action: 'modify',
      },
      headers: { 'correlation-id': 'c1' },
      path: '/attributes/a',
      value: 1,
    });
  });

  it('keeps a null value apart from a missing one', () => {
    const withNull = parseProtocolMessage({ topic, headers: {}, path: '/attributes/a', value: null });
    expect('value' in withNull).toBe(true);
    expect(withNull.value).toBeNull();
    expect('value' in parseProtocolMessage({ topic, headers: {}, path: '/' })).toBe(false);
  });

  it('reads all optional fields', () => {
    const msg = parseProtocolMessage({
      topic: 'ns/t/things/twin/events/modified',
      headers: {},
      path: '/',
      value: {},
      fields: 'thingId',
      extra: { attributes: { a: 1 } },
      status: 200,
      revision: 3,
      timestamp: '2021-01-18T09:42:12Z',
    });
    expect(msg).toMatchObject({
      fields: 'thingId',
      extra: { attributes: { a: 1 } },
      status: 200,
      revision: 3,
    });
    expect(msg.timestamp).toBe('2021-01-18T09:42:12Z');
  });

  it('adds the leading slash of a path and reads an empty path as the root', () => {
    expect(parseProtocolMessage({ topic, headers: {}, path: 'attributes/a' }).path).toBe('/attributes/a');
    expect(parseProtocolMessage({ topic, headers: {}, path: '' }).path).toBe('/');
  });

  it('reads missing headers as empty, as Ditto does', () => {
    expect(parseProtocolMessage({ topic, path: '/' }).headers).toEqual({});
  });

  it('fails with json.invalid on text that is not JSON', () => {
    expectDittoError(() => parseProtocolMessage('{"topic":'), 'json.invalid', 400);
  });

  it('fails with json.field.missing without topic or path', () => {
    expectDittoError(() => parseProtocolMessage({ headers: {}, path: '/' }), 'json.field.missing', 400);
    expectDittoError(() => parseProtocolMessage({ topic, headers: {} }), 'json.field.missing', 400);
  });

  it.each([
    ['a non-object', [1]],
    ['a numeric topic', { topic: 1, headers: {}, path: '/' }],
    ['a numeric path', { topic, headers: {}, path: 1 }],
    ['array headers', { topic, headers: [], path: '/' }],
    ['numeric fields', { topic, headers: {}, path: '/', fields: 1 }],
    ['array extra', { topic, headers: {}, path: '/', extra: [] }],
    ['a fractional status', { topic, headers: {}, path: '/', status: 200.5 }],
    ['a status out of range', { topic, headers: {}, path: '/', status: 42 }],
    ['a string revision', { topic, headers: {}, path: '/', revision: '3' }],
    ['a timestamp that is no date', { topic, headers: {}, path: '/', timestamp: 'yesterday' }],
  ])('fails with json.format.invalid on %s', (_what, json) => {
    expectDittoError(() => parseProtocolMessage(json), 'json.format.invalid', 400);
  });

  it('fails with protocoladapter:unknown.topicpath on a bad topic', () => {
    expectDittoError(
      () => parseProtocolMessage({ topic: 'ns/t/things/commands', headers: {}, path: '/' }),
      'protocoladapter:unknown.topicpath',
      400,
    );
  });
});

describe('headers', () => {
  it('lower-cases keys and converts JSON values to Ditto string form', () => {
    expect(
      parseHeaders({
        'Correlation-ID': 'c1',
        'requested-acks': ['twin-persisted', 'my-ack'],
        'declared-acks': ['conn:ack'],
        'response-required': false,
        version: 2,
        'put-metadata': [{ key: '*/updated', value: 1 }],
        'x-null': null,
      }),
    ).toEqual({
      'correlation-id': 'c1',
      'requested-acks': 'twin-persisted,my-ack',
      'declared-acks': 'conn:ack',
      'response-required': 'false',
      version: '2',
      'put-metadata': '[{"key":"*/updated","value":1}]',
      'x-null': 'null',
    });
  });

  it('accepts requested-acks as a comma list or JSON text', () => {
    expect(parseHeaders({ 'requested-acks': 'twin-persisted, my-ack' })['requested-acks']).toBe(
      'twin-persisted,my-ack',
    );
    expect(parseHeaders({ 'requested-acks': '["live-response"]' })['requested-acks']).toBe('live-response');
    expect(parseHeaders({ 'requested-acks': [] })['requested-acks']).toBe('');
  });

  it('rejects malformed requested-acks and response-required with header.invalid', () => {
    expectDittoError(() => parseHeaders({ 'requested-acks': ['ok-label', 'x'] }), 'header.invalid', 400);
    expectDittoError(() => parseHeaders({ 'requested-acks': { a: 1 } }), 'header.invalid', 400);
    expectDittoError(() => parseHeaders({ 'declared-acks': '[broken' }), 'header.invalid', 400);
    expectDittoError(() => parseHeaders({ 'response-required': 'yes' }), 'header.invalid', 400);
  });

  it('renders list, boolean, integer and JSON headers in their JSON form and the rest as strings', () => {
    expect(
      renderHeaders({
        'correlation-id': 'c1',
        'requested-acks': 'twin-persisted,my-ack',
        'declared-acks': '',
        'response-required': 'true',
        version: '2',
        'put-metadata': '[{"key":"a","value":1}]',
        timeout: '10s',
        'ditto-weak-ack': 'true',
      }),
    ).toEqual({
      'correlation-id': 'c1',
      'requested-acks': ['twin-persisted', 'my-ack'],
      'declared-acks': [],
      'response-required': true,
      version: 2,
      'put-metadata': [{ key: 'a', value: 1 }],
      timeout: '10s',
      'ditto-weak-ack': true,
    });
  });

  it('renders a boolean header that is not a boolean as its string', () => {
    expect(renderHeaders({ 'response-required': 'maybe' })['response-required']).toBe('maybe');
  });

  it('drops internal headers on request', () => {
    expect(
      withoutInternalHeaders({
        'correlation-id': 'c',
        'ditto-originator': 'x',
        channel: 'live',
        'x-custom': '1',
      }),
    ).toEqual({ 'correlation-id': 'c', 'x-custom': '1' });
  });
});

describe('renderProtocolMessage', () => {
  it('renders a message that validates against the envelope schema', () => {
    const json = renderProtocolMessage(
      parseProtocolMessage({
        topic,
        headers: {
          'correlation-id': 'c1',
          'requested-acks': ['twin-persisted'],
          'response-required': true,
          version: 2,
        },
        path: '/attributes/a',
        value: { x: 1 },
      }),
    );
    expect(json.headers).toEqual({
      'correlation-id': 'c1',
      'requested-acks': ['twin-persisted'],
      'response-required': true,
      version: 2,
    });
    expectValid('protocol-envelope.json', json);
  });

  it('writes fields in the order of the Ditto examples', () => {
    const json = renderProtocolMessage({
      extra: { a: 1 },
      timestamp: '2021-01-18T09:42:12Z',
      revision: 1,
      status: 200,
      value: 1,
      fields: 'a',
      path: '/',
      headers: {},
      topic: {
        namespace: 'ns',
        name: 't',
        group: 'things',
        channel: 'twin',
        criterion: 'events',
        action: 'modified',
      },
    });
    expect(Object.keys(json)).toEqual([
      'topic',
      'headers',
      'path',
      'fields',
      'value',
      'status',
      'revision',
      'timestamp',
      'extra',
    ]);
  });
});
