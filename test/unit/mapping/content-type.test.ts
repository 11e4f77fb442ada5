// Text versus bytes for inbound JavaScript mapping (ditto-interfaces.md §12.2).
import { describe, expect, it } from 'vitest';
import { isTextContentType, scriptPayload } from '../../../src/mapping/javascript/content-type.js';

describe('isTextContentType', () => {
  it.each([
    ['text/plain', true],
    ['TEXT/CSV; charset=utf-8', true],
    ['application/json', true],
    ['application/vnd.eclipse.ditto+json', true],
    ['application/merge-patch+json', true],
    ['application/cloudevents+json; charset=UTF-8', true],
    ['application/xml', true],
    ['application/soap+xml', true],
    ['application/x-www-form-urlencoded', true],
    [undefined, true],
    ['', true],
    ['application/octet-stream', false],
    ['application/cbor', false],
    ['image/png', false],
    ['application/vnd.eclipse-hono-empty-notification', false],
  ])('classifies %s as text: %s', (contentType, text) => {
    expect(isTextContentType(contentType)).toBe(text);
  });
});

describe('scriptPayload', () => {
  it('passes text for a text type and bytes for a binary type, never both', () => {
    expect(scriptPayload({ headers: { 'content-type': 'application/json' }, textPayload: '{}' })).toEqual({
      contentType: 'application/json',
      textPayload: '{}',
      bytePayload: null,
    });
    const bytes = new Uint8Array([1, 2]);
    expect(
      scriptPayload({ headers: { 'content-type': 'application/octet-stream' }, bytePayload: bytes }),
    ).toEqual({
      contentType: 'application/octet-stream',
      textPayload: null,
      bytePayload: bytes,
    });
  });

  it('lets bytes win over text when a connector gives both', () => {
    const fromBytes = scriptPayload({
      headers: { 'content-type': 'text/plain' },
      textPayload: 'stale',
      bytePayload: new TextEncoder().encode('fresh'),
    });
    expect(fromBytes.textPayload).toBe('fresh');
    const binary = scriptPayload({
      headers: {},
      contentType: 'application/cbor',
      textPayload: 'stale',
      bytePayload: new Uint8Array([9]),
    });
    expect([...binary.bytePayload!]).toEqual([9]);
  });

  it('encodes text as UTF-8 for a binary type and decodes bytes with the charset for a text type', () => {
    expect([
      ...scriptPayload({ headers: { 'content-type': 'application/octet-stream' }, textPayload: 'é' })
        .bytePayload!,
    ]).toEqual([0xc3, 0xa9]);
    expect(
      scriptPayload({
        headers: { 'Content-Type': 'text/plain; charset=ISO-8859-1' },
        bytePayload: new Uint8Array([0xe9]),
      }).textPayload,
    ).toBe('é');
  });

  it('prefers the explicit contentType over the header and finds the header case-insensitively', () => {
    expect(scriptPayload({ headers: { 'Content-Type': 'text/plain' } }).contentType).toBe('text/plain');
    expect(
      scriptPayload({ headers: { 'content-type': 'text/plain' }, contentType: 'application/octet-stream' })
        .contentType,
    ).toBe('application/octet-stream');
  });
});
