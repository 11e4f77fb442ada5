// The wildcard matcher of RQL like/ilike and fn:filter 'like' (src/search/glob.ts): the same answers as the
// full-match RegExp it replaced, for any pattern, without backtracking.
import { describe, expect, it } from 'vitest';
import { compileGlob, foldCase, literalPrefix } from '../../../src/util/glob.js';

/** The RegExp the matcher replaced (reference semantics only; never used by the service). */
function reference(glob: string, options: { caseInsensitive?: boolean; singleLine?: boolean } = {}): RegExp {
  const any = options.singleLine ? '.' : '[\\s\\S]';
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += `${any}*`;
    else if (ch === '?') source += any;
    else source += ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, options.caseInsensitive ? 'iu' : 'u');
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('compileGlob', () => {
  it('matches whole strings with * and ? and takes everything else literally', () => {
    const cases: Array<[string, string, boolean]> = [
      ['', '', true],
      ['', 'a', false],
      ['*', '', true],
      ['*', 'anything', true],
      ['a*', 'abc', true],
      ['a*', 'ba', false],
      ['*c', 'abc', true],
      ['a?c', 'abc', true],
      ['a?c', 'ac', false],
      ['a*b*c', 'aXbYc', true],
      ['a*b*c', 'acb', false],
      ['*ab*ab*', 'abab', true],
      ['*ab*ab*', 'aba', false],
      ['a.c', 'abc', false],
      ['(x)|[y]^$\\', '(x)|[y]^$\\', true],
      ['?', '😀', true], // one code point, two UTF-16 units
      ['??', '😀', false],
      ['*😀?', 'x😀é', true],
      ['a**b', 'ab', true],
    ];
    for (const [glob, value, expected] of cases)
      expect(compileGlob(glob)(value), `${glob} ~ ${value}`).toBe(expected);
  });

  it('answers like the full-match RegExp for random patterns and values, with and without case and line options', () => {
    const rnd = random(19);
    const alphabet = [
      'a',
      'b',
      'A',
      'B',
      '*',
      '?',
      'é',
      'É',
      '😀',
      '\n',
      'ß',
      'ſ',
      'S',
      'K',
      'K',
      'ı',
      'I',
      'i',
      'σ',
      'ς',
      'Σ',
      '\ud800',
    ];
    const text = (n: number, wild: boolean) =>
      Array.from({ length: n }, () => {
        const ch = alphabet[Math.floor(rnd() * alphabet.length)];
        return !wild && (ch === '*' || ch === '?') ? 'a' : ch;
      }).join('');
    for (let i = 0; i < 3000; i++) {
      const glob = text(Math.floor(rnd() * 7), true);
      const value = text(Math.floor(rnd() * 9), false);
      for (const options of [
        {},
        { caseInsensitive: true },
        { singleLine: true },
        { caseInsensitive: true, singleLine: true },
      ]) {
        expect(
          compileGlob(glob, options)(value),
          `${JSON.stringify(glob)} ~ ${JSON.stringify(value)} ${JSON.stringify(options)}`,
        ).toBe(reference(glob, options).test(value));
      }
    }
  });

  it('finishes the patterns that made the backtracking RegExp run for minutes', () => {
    // A RegExp takes exponential time here; the matcher is linear (a stalled test would time out).
    const value = 'a'.repeat(3000);
    expect(compileGlob('*a*a*a*a*a*a*a*a*a*a*a*a*b')(value)).toBe(false);
    expect(compileGlob(`${'*a'.repeat(1500)}*`)(value)).toBe(true);
    expect(compileGlob(`${'*a?'.repeat(500)}*b`)(value)).toBe(false);
    expect(compileGlob(`*${'?'.repeat(999)}b`)(value)).toBe(false);
    expect(compileGlob(`*${'?'.repeat(999)}a`, { caseInsensitive: true })(value)).toBe(true);
  });

  it('folds case like RegExp iu for every code point of the Basic Multilingual Plane', () => {
    const mismatches: string[] = [];
    for (let cp = 0; cp <= 0xffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const folded = foldCase(ch);
      if (folded === ch && ch.toLowerCase() === ch && ch.toUpperCase() === ch) continue; // uncased: matches itself
      const same = (other: string) => new RegExp(`^\\u{${cp.toString(16)}}$`, 'iu').test(other);
      if (!same(folded)) mismatches.push(`${cp.toString(16)} -> ${folded}`);
      for (const relative of [ch.toLowerCase(), ch.toUpperCase(), ch.toUpperCase().toLowerCase()]) {
        if ([...relative].length === 1 && same(relative) && foldCase(relative) !== folded)
          mismatches.push(`${cp.toString(16)} vs ${relative}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('knows the literal prefix of a pattern', () => {
    expect(literalPrefix('abc*d')).toBe('abc');
    expect(literalPrefix('ab?')).toBe('ab');
    expect(literalPrefix('*x')).toBe('');
    expect(literalPrefix('plain')).toBe('plain');
  });
});
