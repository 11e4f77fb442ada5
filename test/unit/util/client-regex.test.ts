// Client regular expressions (src/util/client-regex.ts) and the merge-patch deletion keys that use them
// (src/util/merge-patch.ts): linear-time matching, Ditto's whole-key semantics, bounded size, clear errors.
import { describe, expect, it } from 'vitest';
import { DittoError } from '../../../src/errors/ditto-error.js';
import { ClientRegexError, compileClientRegex } from '../../../src/util/client-regex.js';
import { applyMergePatch, regexDeletionPattern } from '../../../src/util/merge-patch.js';

describe('compileClientRegex', () => {
  it('matches whole texts with RE2 syntax', () => {
    expect(compileClientRegex('tmp-.*').matchesWhole('tmp-1')).toBe(true);
    expect(compileClientRegex('2023-04-01').matchesWhole('x2023-04-01')).toBe(false);
    expect(compileClientRegex('[0-9]{4}-04-.+4').matchesWhole('2023-04-04')).toBe(true);
  });

  it('runs patterns that backtrack catastrophically in linear time', () => {
    // With RegExp, ^(a+)+$ against 28 a's and a '!' blocked the event loop for 19.5 s (issue 19); a stall
    // here would time the test out.
    const text = `${'a'.repeat(50_000)}!`;
    for (const pattern of ['^(a+)+$', '(a|aa)*b', '(a*)*c', '(.*a){20}'])
      expect(compileClientRegex(pattern).matchesWhole(text)).toBe(false);
  });

  it('rejects invalid, unsupported and oversized patterns with the reason', () => {
    const reason = (pattern: string) => {
      try {
        compileClientRegex(pattern);
      } catch (err) {
        expect(err).toBeInstanceOf(ClientRegexError);
        return (err as ClientRegexError).reason;
      }
      throw new Error(`accepted ${pattern}`);
    };
    expect(reason('(a')).toContain('missing closing )');
    expect(reason('(a)\\1')).toContain('invalid escape');
    expect(reason('(?=a)a')).toBeTypeOf('string');
    expect(reason('a'.repeat(1001))).toContain('longer than 1000');
    expect(reason('.{0,150}.{0,150}')).toContain('add up to more than 200');
    expect(reason('(?:(?:ab|cd|ef){10}){10}'.repeat(3))).toContain('more than 2000 instructions'); // nested counts multiply
  });
});

describe('merge patch deletion keys', () => {
  const target = { '2023-04-01': 1, '2023-04-02': 2, '2023-04-04': 4, other: 0 };

  it('deletes the sibling keys the regex matches as a whole, with ~ or / delimiters', () => {
    expect(applyMergePatch(target, { '{{ ~2023-04-0[12]~ }}': null, added: true })).toEqual({
      '2023-04-04': 4,
      other: 0,
      added: true,
    });
    expect(applyMergePatch(target, { '{{ /2023-04-01/ }}': null })).toEqual({
      '2023-04-02': 2,
      '2023-04-04': 4,
      other: 0,
    });
    expect(applyMergePatch(target, { '{{ ~04~ }}': null })).toEqual(target); // no partial matches
    expect(regexDeletionPattern('{{ ~a~ }}')).toBe('a');
    expect(regexDeletionPattern('{{~a/}}')).toBeUndefined();
    expect(regexDeletionPattern('plain')).toBeUndefined();
  });

  it('fails with json.key.invalid for an invalid regex, before anything is applied', () => {
    let error: unknown;
    try {
      applyMergePatch(target, { a: 1, nested: { '{{ ~(a~ }}': null } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DittoError);
    expect((error as DittoError).toJSON()).toMatchObject({
      status: 400,
      error: 'json.key.invalid',
      message: 'The JSON key <{{ ~(a~ }}> is invalid!',
    });
    expect((error as DittoError).description).toContain('missing closing )');
  });

  it('deletes among many keys with a catastrophic pattern without stalling', () => {
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`${'a'.repeat(28)}${i}`, i]));
    expect(Object.keys(applyMergePatch(many, { '{{ ~^(a+)+$~ }}': null }) as object)).toHaveLength(2000);
    expect(applyMergePatch(many, { '{{ ~(a+)+[0-9]+~ }}': null })).toEqual({});
  });
});
