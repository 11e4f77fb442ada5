import { describe, expect, it } from 'vitest';
import { fromSignal, toSignal } from '../../../src/protocol/adapt.js';
import { expectDittoError, parse, render } from './helpers.js';

// One frame of every kind; each must dispatch to its kind and render back to the same text.
const FRAMES: Array<[string, string]> = [
  [
    'thing.command',
    '{"topic":"ns/t/things/twin/commands/modify","headers":{"correlation-id":"c"},"path":"/attributes/a","value":1}',
  ],
  [
    'thing.response',
    '{"topic":"ns/t/things/live/commands/retrieve","headers":{"correlation-id":"c"},"path":"/","value":{},"status":200}',
  ],
  [
    'thing.event',
    '{"topic":"ns/t/things/live/events/deleted","headers":{"correlation-id":"c"},"path":"/attributes/a","revision":2,"timestamp":"2026-01-01T00:00:00Z"}',
  ],
  [
    'things.retrieve',
    '{"topic":"ns/_/things/twin/commands/retrieve","headers":{"correlation-id":"c"},"path":"/","value":{"thingIds":["ns:a"]}}',
  ],
  [
    'things.retrieve.response',
    '{"topic":"_/_/things/twin/commands/retrieve","headers":{"correlation-id":"c"},"path":"/","value":[],"status":200}',
  ],
  [
    'thing.message',
    '{"topic":"ns/t/things/live/messages/ask","headers":{"content-type":"text/plain","correlation-id":"c"},"path":"/inbox/messages/ask","value":"hi"}',
  ],
  [
    'ack',
    '{"topic":"ns/t/things/twin/acks/my-ack","headers":{"correlation-id":"c"},"path":"/","status":204}',
  ],
  [
    'acks',
    '{"topic":"ns/t/things/twin/acks","headers":{"correlation-id":"c"},"path":"/","value":{"my-ack":{"status":204,"headers":{}}},"status":204}',
  ],
  [
    'error',
    '{"topic":"ns/p/policies/errors","headers":{"correlation-id":"c"},"path":"/","value":{"status":404,"error":"policies:policy.notfound","message":"m"},"status":404}',
  ],
  [
    'policy.command',
    '{"topic":"ns/p/policies/commands/delete","headers":{"correlation-id":"c"},"path":"/entries/owner"}',
  ],
  [
    'policy.response',
    '{"topic":"ns/p/policies/commands/delete","headers":{"correlation-id":"c"},"path":"/entries/owner","status":204}',
  ],
  [
    'policy.announcement',
    '{"topic":"ns/p/policies/announcements/subjectDeletion","headers":{},"path":"/","value":{"deleteAt":"2026-01-01T00:00:00Z","subjectIds":[]}}',
  ],
  [
    'connection.announcement',
    '{"topic":"_/c1/connections/announcements/closed","headers":{"content-type":"application/json"},"path":"/","value":{"closedAt":"2026-01-01T00:00:00Z"}}',
  ],
  [
    'search.command',
    '{"topic":"_/_/things/twin/search/cancel","headers":{},"path":"/","value":{"subscriptionId":"s"}}',
  ],
  [
    'search.event',
    '{"topic":"_/_/things/twin/search/complete","headers":{},"path":"/","value":{"subscriptionId":"s"}}',
  ],
  [
    'streaming.command',
    '{"topic":"ns/t/things/twin/streaming/subscribeForPersistedEvents","headers":{},"path":"/","value":{"fromHistoricalRevision":-5,"toHistoricalTimestamp":"2026-01-01T00:00:00Z","filter":"exists(attributes)"}}',
  ],
  [
    'streaming.command',
    '{"topic":"ns/p/policies/streaming/request","headers":{"correlation-id":"c"},"path":"/","value":{"subscriptionId":"0","demand":25}}',
  ],
  [
    'streaming.event',
    '{"topic":"ns/t/things/twin/streaming/next","headers":{},"path":"/","value":{"subscriptionId":"0","item":{"topic":"ns/t/things/twin/events/modified"}}}',
  ],
  [
    'streaming.event',
    '{"topic":"ns/p/policies/streaming/failed","headers":{},"path":"/","value":{"subscriptionId":"0","error":{"status":404,"error":"streaming.subscription.not.found","message":"m"}}}',
  ],
];

describe('toSignal / fromSignal', () => {
  it.each(FRAMES)('dispatches %s and renders it back unchanged', (kind, text) => {
    const adapted = toSignal(parse(text));
    expect(adapted.kind).toBe(kind);
    expect(render(fromSignal(adapted))).toBe(text);
  });

  it('rejects streaming commands whose value does not match the payload schemas with json.format.invalid', () => {
    for (const value of [
      '{"fromHistoricalRevision":"1"}',
      '{"fromHistoricalRevision":1.5}',
      '{"toHistoricalTimestamp":"yesterday"}',
      '{"filter":1}',
      '[]',
    ]) {
      expectDittoError(
        () =>
          toSignal(
            parse(
              `{"topic":"ns/t/things/twin/streaming/subscribeForPersistedEvents","headers":{},"path":"/","value":${value}}`,
            ),
          ),
        'json.format.invalid',
        400,
      );
    }
    expectDittoError(
      () =>
        toSignal(
          parse(
            '{"topic":"ns/t/things/twin/streaming/request","headers":{},"path":"/","value":{"subscriptionId":"0","demand":"all"}}',
          ),
        ),
      'json.format.invalid',
    );
    expectDittoError(
      () =>
        toSignal(parse('{"topic":"ns/t/things/twin/streaming/cancel","headers":{},"path":"/","value":{}}')),
      'json.format.invalid',
    );
    expectDittoError(
      () =>
        toSignal(
          parse(
            '{"topic":"ns/t/things/twin/streaming/subscribeForPersistedEvents","headers":{},"path":"/nope"}',
          ),
        ),
      'protocoladapter:unknown.path',
    );
  });

  it('rejects topics without a signal here with protocoladapter:unknown.signal', () => {
    expectDittoError(
      () => toSignal(parse('{"topic":"ns/p/policies/events/modified","headers":{},"path":"/","revision":1}')),
      'protocoladapter:unknown.signal',
    );
  });

  it('passes the built-in label option to acks', () => {
    const text =
      '{"topic":"ns/t/things/twin/acks/twin-persisted","headers":{"correlation-id":"c"},"path":"/","status":204}';
    expectDittoError(() => toSignal(parse(text)), 'acknowledgement:ditto.acklabel.forbidden');
    expect(toSignal(parse(text), { allowBuiltInLabels: true }).kind).toBe('ack');
  });
});
