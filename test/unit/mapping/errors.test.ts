// Mapping errors as Ditto declares them (ditto-interfaces.md §12.2, §2.11).
import { describe, expect, it } from 'vitest';
import { declaredErrors } from '../../../src/errors/ditto-error.js';
import {
  messageMapperConfigFailed,
  messageMapperConfigInvalid,
  messageMappingFailed,
} from '../../../src/errors/mapping.js';

describe('mapping errors', () => {
  it('declares the three connectivity mapping codes with status 400', () => {
    const codes = declaredErrors().filter((e) => e.code.startsWith('connectivity:message.'));
    expect(codes).toEqual(
      expect.arrayContaining([
        { code: 'connectivity:message.mapping.failed', status: 400 },
        { code: 'connectivity:message.mapper.config.invalid', status: 400 },
        { code: 'connectivity:message.mapper.config.failed', status: 400 },
      ]),
    );
  });

  it('renders a mapping failure with the content type, the reason and the script line', () => {
    const error = messageMappingFailed({
      contentType: 'application/json',
      reason: 'TypeError: x is undefined',
      line: 7,
    });
    expect(error.retriable).toBe(false);
    expect(error.toJSON()).toMatchObject({
      status: 400,
      error: 'connectivity:message.mapping.failed',
      message:
        'The message with content-type <application/json> could not be mapped: TypeError: x is undefined (script line 7)',
    });
  });

  it('renders configuration errors with their detail', () => {
    expect(messageMapperConfigInvalid({ detail: 'too big' }).message).toContain('too big');
    expect(messageMapperConfigFailed({ detail: 'syntax' }).message).toContain('syntax');
  });
});
