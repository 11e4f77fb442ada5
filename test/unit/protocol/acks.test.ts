import { describe, expect, it } from 'vitest';
import type { Acknowledgements } from '../../../src/model/signals.js';
import {
  aggregateAckStatus,
  fromAcknowledgement,
  fromAcknowledgements,
  isValidAckLabel,
  subscriberHeaders,
  toAcknowledgement,
  toAcknowledgements,
} from '../../../src/protocol/acks.js';
import { renderProtocolMessage } from '../../../src/protocol/message.js';
import { compact, expectDittoError, parse, render } from './helpers.js';
import { expectValid } from './schemas.js';

// ditto-interfaces.md §4.8 custom ack (NACK) from a subscriber.
const NACK = `{"topic":"org.eclipse.ditto/thing_name_3141/things/twin/acks/custom-ack",
 "headers":{"correlation-id":"a780b7b5-fdd2-4864-91fc-80df6bb0a636"},"path":"/","value":"You better try harder","status":400}`;

describe('single acknowledgements', () => {
  it('round-trips the §4.8 NACK exactly', () => {
    const ack = toAcknowledgement(parse(NACK));
    expect(ack).toEqual({
      thingId: 'org.eclipse.ditto:thing_name_3141',
      channel: 'twin',
      label: 'custom-ack',
      status: 400,
      payload: 'You better try harder',
      headers: { 'correlation-id': 'a780b7b5-fdd2-4864-91fc-80df6bb0a636' },
    });
    expect(render(fromAcknowledgement(ack))).toBe(compact(NACK));
    expectValid('protocol-ack.json', renderProtocolMessage(fromAcknowledgement(ack)));
  });

  it('renders an ack without payload on the live channel', () => {
    const json = renderProtocolMessage(
      fromAcknowledgement({
        thingId: 'ns:t',
        channel: 'live',
        label: 'conn-1:my-ack',
        status: 204,
        headers: { 'correlation-id': 'c' },
      }),
    );
    expect(json).toEqual({
      topic: 'ns/t/things/live/acks/conn-1:my-ack',
      headers: { 'correlation-id': 'c' },
      path: '/',
      status: 204,
    });
    expectValid('protocol-ack.json', json);
  });

  it.each(['twin-persisted', 'live-response', 'search-persisted'])(
    'forbids clients to issue the built-in label %s',
    (label) => {
      const text = NACK.replace('custom-ack', label);
      expectDittoError(() => toAcknowledgement(parse(text)), 'acknowledgement:ditto.acklabel.forbidden', 400);
      expect(toAcknowledgement(parse(text), { allowBuiltInLabels: true }).label).toBe(label);
    },
  );

  it('requires a correlation-id (acknowledgement:correlation-id.missing) and a status', () => {
    expectDittoError(
      () =>
        toAcknowledgement(
          parse('{"topic":"ns/t/things/twin/acks/my-ack","headers":{},"path":"/","status":200}'),
        ),
      'acknowledgement:correlation-id.missing',
      400,
    );
    expectDittoError(
      () =>
        toAcknowledgement(
          parse('{"topic":"ns/t/things/twin/acks/my-ack","headers":{"correlation-id":"c"},"path":"/"}'),
        ),
      'protocoladapter:illegal.adaptable',
    );
  });

  it('checks labels against the §1.1 regex', () => {
    expect(isValidAckLabel('abc')).toBe(true);
    expect(isValidAckLabel('{{connection:id}}:my-ack')).toBe(true);
    expect(isValidAckLabel('{{ connection:id }}:my-ack')).toBe(true);
    expect(isValidAckLabel('ab')).toBe(false);
    expect(isValidAckLabel('a'.repeat(166))).toBe(false);
    expect(isValidAckLabel('with space')).toBe(false);
  });
});

describe('aggregated acknowledgements', () => {
  // The value of Appendix A.6 inside a protocol message.
  const A6 = `{"topic":"org.eclipse.ditto/thing-1/things/twin/acks","headers":{"correlation-id":"db878735-4957-4fd9-92dc-6f09bb12a093"},"path":"/","value":
{"twin-persisted":{"status":201,"payload":{"thingId":"org.eclipse.ditto:thing-1","policyId":"org.eclipse.ditto:thing-1"},
   "headers":{"correlation-id":"db878735-4957-4fd9-92dc-6f09bb12a093","version":2,"etag":"\\"rev:1\\"",
              "location":"http://127.0.0.1:8080/api/2/things/org.eclipse.ditto:thing-1"}},
 "my-custom-ack":{"status":408,"payload":{"status":408,"error":"acknowledgement:request.timeout",
   "message":"The acknowledgement request reached the specified timeout of 42,000ms.",
   "description":"Try increasing the timeout and make sure that the requested acknowledgement is sent back in time."},
   "headers":{"correlation-id":"db878735-4957-4fd9-92dc-6f09bb12a093"}}},"status":424}`;

  it('round-trips the A.6 aggregation exactly', () => {
    const acks = toAcknowledgements(parse(A6));
    expect(acks.status).toBe(424);
    expect(acks.acknowledgements.map((a) => [a.label, a.status])).toEqual([
      ['twin-persisted', 201],
      ['my-custom-ack', 408],
    ]);
    expect(acks.acknowledgements[0].headers.version).toBe('2');
    expect(render(fromAcknowledgements(acks))).toBe(compact(A6));
    expectValid('protocol-acks.json', renderProtocolMessage(fromAcknowledgements(acks)));
  });

  it('computes the aggregated status: single ⇒ its own, all 2xx ⇒ 200, else 424', () => {
    expect(aggregateAckStatus([{ status: 204 }])).toBe(204);
    expect(aggregateAckStatus([{ status: 408 }])).toBe(408);
    expect(aggregateAckStatus([{ status: 201 }, { status: 204 }])).toBe(200);
    expect(aggregateAckStatus([{ status: 201 }, { status: 500 }])).toBe(424);
  });

  it('renders acknowledgements built in code', () => {
    const acks: Acknowledgements = {
      thingId: 'ns:t',
      channel: 'live',
      status: 200,
      acknowledgements: [
        {
          thingId: 'ns:t',
          channel: 'live',
          label: 'live-response',
          status: 200,
          payload: 1,
          headers: { 'correlation-id': 'c' },
        },
      ],
      headers: { 'correlation-id': 'c' },
    };
    const json = renderProtocolMessage(fromAcknowledgements(acks));
    expect(json.value).toEqual({
      'live-response': { status: 200, payload: 1, headers: { 'correlation-id': 'c' } },
    });
    expectValid('protocol-acks.json', json);
  });

  it('rejects entries without status', () => {
    expectDittoError(
      () =>
        toAcknowledgements(
          parse(
            '{"topic":"ns/t/things/twin/acks","headers":{"correlation-id":"c"},"path":"/","value":{"abc":{}},"status":200}',
          ),
        ),
      'protocoladapter:illegal.adaptable',
    );
  });
});

describe('subscriberHeaders', () => {
  it('keeps only custom requested-acks for subscribers', () => {
    expect(subscriberHeaders({ 'correlation-id': 'c', 'requested-acks': 'twin-persisted,my-ack' })).toEqual({
      'correlation-id': 'c',
      'requested-acks': 'my-ack',
    });
  });

  it('drops requested-acks when only built-in labels were requested', () => {
    expect(subscriberHeaders({ 'correlation-id': 'c', 'requested-acks': 'twin-persisted' })).toEqual({
      'correlation-id': 'c',
    });
    const untouched = { 'correlation-id': 'c' };
    expect(subscriberHeaders(untouched)).toBe(untouched);
  });
});
