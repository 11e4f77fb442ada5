/** Ditto's duration format, parsed in one place (src/util/duration.ts) for headers, config and connections. */
import { describe, expect, it } from 'vitest';
import { DurationInvalidError, isDuration, parseDuration } from '../../../src/util/duration.js';
import { DEFAULT_TIMEOUT_MS, parseTimeout } from '../../../src/protocol/index.js';

describe('parseDuration', () => {
  it("reads Ditto's units, a bare amount as seconds", () => {
    expect(['250ms', '42', '42s', '5m', '2h', '1d', '1w', '1mo', '1y'].map(parseDuration)).toEqual([
      250, 42_000, 42_000, 300_000, 7_200_000, 86_400_000, 604_800_000, 2_629_746_000, 31_556_952_000,
    ]);
    expect(parseDuration(' 10s ')).toBe(10_000);
  });

  it('refuses what Ditto refuses: fractions, signs, other units, empty text, amounts beyond 2^53 ms', () => {
    for (const text of ['1.5s', '-1s', '+1s', '10 s', '1sec', 's', '', '99999999999999999y']) {
      expect(() => parseDuration(text), text).toThrow(DurationInvalidError);
      expect(isDuration(text), text).toBe(false);
    }
  });
});

describe('the timeout header', () => {
  it('is the default when absent or empty, else the duration up to the maximum', () => {
    expect(parseTimeout(undefined, DEFAULT_TIMEOUT_MS, 60_000)).toBe(60_000);
    expect(parseTimeout('', 5, 60_000)).toBe(5);
    expect(parseTimeout('250ms', DEFAULT_TIMEOUT_MS, 60_000)).toBe(250);
    expect(parseTimeout('10m', DEFAULT_TIMEOUT_MS)).toBe(600_000);
  });

  it('is timeout.invalid when it is not a duration or exceeds the maximum, on every transport alike', () => {
    for (const value of ['1.5s', 'soon', '61s']) {
      expect(() => parseTimeout(value, DEFAULT_TIMEOUT_MS, 60_000), value).toThrow(
        expect.objectContaining({ error: 'timeout.invalid', status: 400 }),
      );
    }
    expect(() => parseTimeout('1.5s', DEFAULT_TIMEOUT_MS)).toThrow(
      /timeout <1\.5s> is not valid; it must be a duration\./,
    );
  });
});
