import { describe, expect, it } from 'vitest';
import { thingNotFound } from '../../../src/errors/things.js';
import { renderProtocolMessage } from '../../../src/protocol/message.js';
import {
  fromSearchCommand,
  fromSearchEvent,
  searchFailed,
  toSearchCommand,
  toSearchEvent,
} from '../../../src/protocol/search.js';
import { compact, expectDittoError, parse, render } from './helpers.js';
import { expectValid, type SchemaName } from './schemas.js';

// Appendix A.7, one frame per line.
const SUBSCRIBE = `{"topic":"_/_/things/twin/search/subscribe","headers":{"correlation-id":"s1"},"path":"/","fields":"thingId,attributes",
 "value":{"filter":"eq(attributes/location,\\"kitchen\\")","options":"size(10),sort(+thingId)","namespaces":["org.eclipse.ditto"]}}`;
const CREATED = `{"topic":"_/_/things/twin/search/created","headers":{"correlation-id":"s1"},"path":"/","value":{"subscriptionId":"s1-0"}}`;
const REQUEST = `{"topic":"_/_/things/twin/search/request","headers":{"correlation-id":"s1"},"path":"/","value":{"subscriptionId":"s1-0","demand":1}}`;
const NEXT = `{"topic":"_/_/things/twin/search/next","headers":{"correlation-id":"s1"},"path":"/","value":{"subscriptionId":"s1-0","items":[{"thingId":"org.eclipse.ditto:t1","attributes":{"location":"kitchen"}}]}}`;
const COMPLETE = `{"topic":"_/_/things/twin/search/complete","headers":{"correlation-id":"s1"},"path":"/","value":{"subscriptionId":"s1-0"}}`;

describe('search commands (A.7)', () => {
  it.each([
    ['subscribe', SUBSCRIBE, 'protocol-search-subscribe-payload.json'],
    ['request', REQUEST, 'protocol-search-request-payload.json'],
  ] as const)('round-trips %s exactly and its value matches the payload schema', (_n, text, schema) => {
    const command = toSearchCommand(parse(text));
    const msg = fromSearchCommand(command);
    expect(render(msg)).toBe(compact(text));
    expectValid('protocol-envelope.json', renderProtocolMessage(msg));
    expectValid(schema, msg.value);
  });

  it('reads subscribe options', () => {
    expect(toSearchCommand(parse(SUBSCRIBE))).toEqual({
      type: 'subscribe',
      filter: 'eq(attributes/location,"kitchen")',
      options: 'size(10),sort(+thingId)',
      namespaces: ['org.eclipse.ditto'],
      fields: 'thingId,attributes',
      headers: { 'correlation-id': 's1' },
    });
  });

  it('round-trips cancel', () => {
    const text =
      '{"topic":"_/_/things/twin/search/cancel","headers":{"correlation-id":"s1"},"path":"/","value":{"subscriptionId":"s1-0"}}';
    const command = toSearchCommand(parse(text));
    expect(command).toEqual({ type: 'cancel', subscriptionId: 's1-0', headers: { 'correlation-id': 's1' } });
    expect(render(fromSearchCommand(command))).toBe(text);
    expectValid('protocol-search-subscriptionid.json', fromSearchCommand(command).value);
  });

  it.each([
    ['a zero demand', { subscriptionId: 's', demand: 0 }],
    ['a fractional demand', { subscriptionId: 's', demand: 1.5 }],
    ['a missing subscriptionId', { demand: 1 }],
  ])('rejects a request with %s (illegal.adaptable)', (_what, value) => {
    expectDittoError(
      () =>
        toSearchCommand(
          parse(JSON.stringify({ topic: '_/_/things/twin/search/request', headers: {}, path: '/', value })),
        ),
      'protocoladapter:illegal.adaptable',
      422,
    );
  });

  it('rejects malformed subscribe values', () => {
    const sub = (value: unknown) =>
      parse(JSON.stringify({ topic: '_/_/things/twin/search/subscribe', headers: {}, path: '/', value }));
    expectDittoError(() => toSearchCommand(sub({ filter: 1 })), 'protocoladapter:illegal.adaptable');
    expectDittoError(() => toSearchCommand(sub({ namespaces: 'a' })), 'protocoladapter:illegal.adaptable');
    expectDittoError(() => toSearchCommand(sub([])), 'protocoladapter:illegal.adaptable');
  });

  it('treats a Ditto → client action as no command', () => {
    expectDittoError(() => toSearchCommand(parse(CREATED)), 'protocoladapter:unknown.command');
  });
});

describe('search events (A.7)', () => {
  it.each([
    ['created', CREATED, 'protocol-search-subscriptionid.json'],
    ['next', NEXT, 'protocol-search-next-payload.json'],
    ['complete', COMPLETE, 'protocol-search-subscriptionid.json'],
  ] as const)('renders %s exactly and its value matches %s', (_n, text, schema: SchemaName) => {
    const event = toSearchEvent(parse(text));
    const msg = fromSearchEvent(event);
    expect(render(msg)).toBe(compact(text));
    expectValid('protocol-envelope.json', renderProtocolMessage(msg));
    expectValid(schema, msg.value);
  });

  it('renders failed with the error JSON', () => {
    const event = searchFailed('s1-0', thingNotFound({ thingId: 'ns:t' }), { 'correlation-id': 's1' });
    const msg = fromSearchEvent(event);
    const json = renderProtocolMessage(msg);
    expect(json.topic).toBe('_/_/things/twin/search/failed');
    expect(json.value).toMatchObject({
      subscriptionId: 's1-0',
      error: { status: 404, error: 'things:thing.notfound' },
    });
    expectValid('protocol-search-failed-payload.json', msg.value);
    expect(toSearchEvent(parse(JSON.stringify(json)))).toEqual(event);
  });
});
