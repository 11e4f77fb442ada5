// The payload forms of HTTP input to the mappers, by content type (src/mapping/payload.ts, §12.2).
import { describe, expect, it } from 'vitest';
import { byContentType, decodeText, isTextContentType } from '../../../src/mapping/payload.js';

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

describe('byContentType', () => {
  it('keeps text for a text type and bytes for a binary type, never both', () => {
    expect(byContentType({ headers: { 'content-type': 'application/json' }, textPayload: '{}' })).toEqual({
      headers: { 'content-type': 'application/json' },
      contentType: 'application/json',
      textPayload: '{}',
    });
    const bytes = new Uint8Array([1, 2]);
    expect(
      byContentType({ headers: { 'content-type': 'application/octet-stream' }, bytePayload: bytes }),
    ).toEqual({
      headers: { 'content-type': 'application/octet-stream' },
      contentType: 'application/octet-stream',
      bytePayload: bytes,
    });
  });

  it('takes the bytes when both are given', () => {
    const fromBytes = byContentType({
      headers: { 'content-type': 'text/plain' },
      textPayload: 'stale',
      bytePayload: new TextEncoder().encode('fresh'),
    });
    expect(fromBytes.textPayload).toBe('fresh');
    expect(fromBytes.bytePayload).toBeUndefined();
    const binary = byContentType({
      headers: {},
      contentType: 'application/cbor',
      textPayload: 'stale',
      bytePayload: new Uint8Array([9]),
    });
    expect([...binary.bytePayload!]).toEqual([9]);
    expect(binary.textPayload).toBeUndefined();
  });

  it('encodes text as UTF-8 for a binary type and decodes bytes with the charset for a text type', () => {
    expect([
      ...byContentType({ headers: { 'content-type': 'application/octet-stream' }, textPayload: 'é' })
        .bytePayload!,
    ]).toEqual([0xc3, 0xa9]);
    expect(
      byContentType({
        headers: { 'Content-Type': 'text/plain; charset=ISO-8859-1' },
        bytePayload: new Uint8Array([0xe9]),
      }).textPayload,
    ).toBe('é');
  });

  it('prefers the explicit contentType over the header and finds the header case-insensitively', () => {
    expect(byContentType({ headers: { 'Content-Type': 'text/plain' } }).contentType).toBe('text/plain');
    expect(
      byContentType({ headers: { 'content-type': 'text/plain' }, contentType: 'application/octet-stream' })
        .contentType,
    ).toBe('application/octet-stream');
  });
});

describe('decodeText', () => {
  it('decodes UTF-8 by default, with U+FFFD for malformed sequences, and falls back to UTF-8 for an unknown charset', () => {
    expect(decodeText(new Uint8Array([0x68, 0xff, 0x69]), undefined)).toBe('h\ufffdi');
    expect(decodeText(new Uint8Array([0xe9]), 'iso-8859-1')).toBe('é');
    expect(decodeText(new Uint8Array([0xc3, 0xa9]), 'no-such-charset')).toBe('é');
  });
});
