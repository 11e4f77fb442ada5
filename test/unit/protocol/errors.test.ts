import { describe, expect, it } from 'vitest';
import { declaredErrors } from '../../../src/errors/ditto-error.js';
import * as protocolErrors from '../../../src/errors/protocol.js';
import { thingNotFound } from '../../../src/errors/things.js';
import { errorToProtocol, fromErrorResponse, toErrorResponse } from '../../../src/protocol/errors.js';
import { renderProtocolMessage } from '../../../src/protocol/message.js';
import { compact, expectDittoError, parse, render } from './helpers.js';
import { expectValid } from './schemas.js';

// ditto-interfaces.md §4.8 error response.
const NOT_FOUND = `{"topic":"org.eclipse.ditto/fancy-thing/things/twin/errors",
 "headers":{"correlation-id":"<preserved-command-correlation-id>"},"path":"/",
 "value":{"status":404,"error":"things:thing.notfound",
  "message":"The Thing with ID 'org.eclipse.ditto:fancy-thing' could not be found or requester had insufficient permissions to access it.",
  "description":"Check if the ID of your requested Thing was correct and you have sufficient permissions."},
 "status":404}`;

describe('errorToProtocol', () => {
  it('renders the §4.8 error response exactly', () => {
    const msg = errorToProtocol(thingNotFound({ thingId: 'org.eclipse.ditto:fancy-thing' }), {
      thingId: 'org.eclipse.ditto:fancy-thing',
      headers: { 'correlation-id': '<preserved-command-correlation-id>' },
    });
    expect(render(msg)).toBe(compact(NOT_FOUND));
    expectValid('protocol-error_response.json', renderProtocolMessage(msg));
  });

  it('uses the live channel of a live request', () => {
    const msg = errorToProtocol(thingNotFound({ thingId: 'ns:t' }), {
      thingId: 'ns:t',
      channel: 'live',
      headers: { 'correlation-id': 'c' },
    });
    expect(renderProtocolMessage(msg).topic).toBe('ns/t/things/live/errors');
  });

  it('renders policy errors on the policies topic', () => {
    const error = protocolErrors.unknownPath({ path: '/nope' });
    const json = renderProtocolMessage(
      errorToProtocol(error, { policyId: 'ns:p', headers: { 'correlation-id': 'c' }, path: '/nope' }),
    );
    expect(json).toMatchObject({ topic: 'ns/p/policies/errors', path: '/nope', status: 400 });
    expectValid('protocol-error_response.json', json);
  });

  it('falls back to unknown/unknown/things/twin/errors without an entity', () => {
    const error = protocolErrors.unknownTopicPath({ topic: 'x' });
    const json = renderProtocolMessage(errorToProtocol(error, { headers: { 'correlation-id': 'c' } }));
    expect(json).toEqual({
      topic: 'unknown/unknown/things/twin/errors',
      headers: { 'correlation-id': 'c' },
      path: '/',
      value: {
        status: 400,
        error: 'protocoladapter:unknown.topicpath',
        message: "The topic path 'x' is not supported.",
        description: 'Check if the topic path is correct.',
      },
      status: 400,
    });
    expectValid('protocol-error_response.json', json);
  });

  it('falls back when the thing ID is not valid', () => {
    const msg = errorToProtocol(protocolErrors.unknownSignal({ signal: 's' }), {
      thingId: 'no-colon',
      headers: { 'correlation-id': 'c' },
    });
    expect(renderProtocolMessage(msg).topic).toBe('unknown/unknown/things/twin/errors');
  });

  it('carries the extra headers of the error', () => {
    const error = protocolErrors.illegalAdaptable({ detail: 'x' }, { headers: { ETag: '"rev:1"' } });
    expect(errorToProtocol(error, { headers: { 'correlation-id': 'c' } }).headers).toEqual({
      'correlation-id': 'c',
      etag: '"rev:1"',
    });
  });
});

describe('toErrorResponse', () => {
  it('reads an error response and renders it back exactly', () => {
    const response = toErrorResponse(parse(NOT_FOUND));
    expect(response).toMatchObject({
      entityType: 'thing',
      entityId: 'org.eclipse.ditto:fancy-thing',
      channel: 'twin',
    });
    expect(response.error.error).toBe('things:thing.notfound');
    expect(render(fromErrorResponse(response))).toBe(compact(NOT_FOUND));
  });

  it('reads the fallback topic as an error without entity', () => {
    const r = toErrorResponse(
      parse(
        '{"topic":"unknown/unknown/things/twin/errors","headers":{},"path":"/","value":{"status":400,"error":"e","message":"m"},"status":400}',
      ),
    );
    expect(r.entityId).toBeUndefined();
  });

  it('rejects a value that is no error JSON with illegal.adaptable', () => {
    expectDittoError(
      () =>
        toErrorResponse(
          parse('{"topic":"ns/t/things/twin/errors","headers":{},"path":"/","value":"oops","status":400}'),
        ),
      'protocoladapter:illegal.adaptable',
      422,
    );
  });
});

describe('declared protocol errors', () => {
  it.each([
    ['protocoladapter:unknown.topicpath', 400],
    ['protocoladapter:unknown.path', 400],
    ['protocoladapter:invalid.path', 400],
    ['protocoladapter:unknown.command', 400],
    ['protocoladapter:unknown.signal', 400],
    ['protocoladapter:illegal.adaptable', 422],
    ['acknowledgement:label.invalid', 400],
    ['acknowledgement:ditto.acklabel.forbidden', 400],
    ['acknowledgement:label.not.declared', 400],
    ['acknowledgement:label.not.unique', 409],
    ['acknowledgement:correlation-id.missing', 400],
    ['acknowledgement:request.duplicate.correlation-id', 409],
    ['acknowledgement:request.timeout', 408],
  ])('declares %s with status %i', (code, status) => {
    expect(declaredErrors()).toContainEqual({ code, status });
  });

  it('words the ack timeout as Appendix A.6 does', () => {
    expect(protocolErrors.ackRequestTimeout({ timeoutMs: 42000 }).toJSON()).toEqual({
      status: 408,
      error: 'acknowledgement:request.timeout',
      message: 'The acknowledgement request reached the specified timeout of 42,000ms.',
      description:
        'Try increasing the timeout and make sure that the requested acknowledgement is sent back in time.',
    });
  });
});
