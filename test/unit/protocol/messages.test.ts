import { describe, expect, it } from 'vitest';
import type { ThingMessage } from '../../../src/model/signals.js';
import { renderProtocolMessage } from '../../../src/protocol/message.js';
import { fromThingMessage, toThingMessage } from '../../../src/protocol/messages.js';
import { compact, expectDittoError, parse, render } from './helpers.js';
import { expectValid } from './schemas.js';

// ditto-interfaces.md §4.8 live message and its response.
const ASK = `{"topic":"org.eclipse.ditto/smartcoffee/things/live/messages/ask",
 "headers":{"content-type":"text/plain","correlation-id":"a-unique-string-for-this-message"},
 "path":"/inbox/messages/ask","value":"Hey, how are you?"}`;
const ANSWER = `{"topic":"org.eclipse.ditto/smartcoffee/things/live/messages/ask",
 "headers":{"content-type":"text/plain","correlation-id":"a-unique-string-for-this-message"},
 "path":"/outbox/messages/ask","value":"I do not know, since i am only a coffee machine.","status":418}`;

describe('live messages', () => {
  it('round-trips the §4.8 message exactly', () => {
    const message = toThingMessage(parse(ASK));
    expect(message).toEqual({
      thingId: 'org.eclipse.ditto:smartcoffee',
      direction: 'to',
      subject: 'ask',
      payload: 'Hey, how are you?',
      headers: { 'content-type': 'text/plain', 'correlation-id': 'a-unique-string-for-this-message' },
    });
    expect(render(fromThingMessage(message))).toBe(compact(ASK));
    expectValid('protocol-envelope.json', renderProtocolMessage(fromThingMessage(message)));
  });

  it('round-trips the §4.8 response exactly', () => {
    const response = toThingMessage(parse(ANSWER));
    expect(response).toMatchObject({ direction: 'from', status: 418 });
    expect(render(fromThingMessage(response))).toBe(compact(ANSWER));
    expectValid('protocol-response.json', renderProtocolMessage(fromThingMessage(response)));
  });

  it('addresses features and keeps subjects with slashes', () => {
    const message: ThingMessage = {
      thingId: 'ns:t',
      featureId: 'water-tank',
      direction: 'from',
      subject: 'heat/up',
      payload: { to: 47 },
      headers: { 'content-type': 'application/json', 'correlation-id': 'c' },
    };
    const json = renderProtocolMessage(fromThingMessage(message));
    expect(json).toMatchObject({
      topic: 'ns/t/things/live/messages/heat/up',
      path: '/features/water-tank/outbox/messages/heat/up',
    });
    expect(toThingMessage(parse(JSON.stringify(json)))).toEqual(message);
    expectValid('protocol-envelope.json', json);
  });

  it('reads a claim message', () => {
    const claim = toThingMessage(
      parse(
        '{"topic":"ns/t/things/live/messages/claim","headers":{"content-type":"text/plain","correlation-id":"c"},"path":"/inbox/messages/claim","value":"secret"}',
      ),
    );
    expect(claim).toMatchObject({ subject: 'claim', direction: 'to', payload: 'secret' });
  });

  it('rejects a claim to a feature with protocoladapter:invalid.path', () => {
    expectDittoError(
      () =>
        toThingMessage(
          parse(
            '{"topic":"ns/t/things/live/messages/claim","headers":{"content-type":"text/plain"},"path":"/features/f/inbox/messages/claim"}',
          ),
        ),
      'protocoladapter:invalid.path',
      400,
    );
  });

  it.each([
    '/inbox/messages/other',
    '/mailbox/messages/ask',
    '/features//inbox/messages/ask',
    '/inbox/ask',
    '/features/f/x/inbox/messages/ask',
  ])('rejects the path %s with protocoladapter:invalid.path', (path) => {
    expectDittoError(
      () =>
        toThingMessage(
          parse(
            JSON.stringify({
              topic: 'ns/t/things/live/messages/ask',
              headers: { 'content-type': 'text/plain' },
              path,
            }),
          ),
        ),
      'protocoladapter:invalid.path',
    );
  });

  it('requires a content-type on messages (header.invalid) but not on value-less responses', () => {
    expectDittoError(
      () =>
        toThingMessage(
          parse(
            '{"topic":"ns/t/things/live/messages/ask","headers":{},"path":"/inbox/messages/ask","value":"x"}',
          ),
        ),
      'header.invalid',
      400,
    );
    const r = toThingMessage(
      parse(
        '{"topic":"ns/t/things/live/messages/ask","headers":{"correlation-id":"c"},"path":"/inbox/messages/ask","status":204}',
      ),
    );
    expect(r.status).toBe(204);
  });

  it('rejects a non-message topic', () => {
    expectDittoError(
      () => toThingMessage(parse('{"topic":"ns/t/things/live/events/created","headers":{},"path":"/"}')),
      'protocoladapter:unknown.topicpath',
    );
  });
});
