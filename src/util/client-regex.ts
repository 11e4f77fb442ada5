/**
 * Regular expressions written by clients (merge-patch deletion keys `{{ ~regex~ }}`, ditto-interfaces.md
 * §2.4). They run on RE2 (the pure-JavaScript port `re2js`): an automaton that matches in time linear in
 * the input, without backtracking, so `^(a+)+$` costs no more than `^a+$`. RE2 has no backreferences and no
 * lookaround; such a pattern is invalid, like a syntax error.
 *
 * Linear in the input is linear times the size of the compiled program, and compiling costs with its size
 * too (each `x{1000}` is a thousand copies), so patterns are bounded before and after compiling.
 */
import { RE2JS } from 're2js';

/** Characters of a pattern. */
export const MAX_REGEX_LENGTH = 1_000;
/** Sum of the counts of `{n}`/`{n,m}` repetitions, checked before compiling. */
export const MAX_REGEX_REPEATS = 200;
/** Instructions of the compiled program (re2js `programSize`). */
export const MAX_REGEX_PROGRAM = 2_000;

export class ClientRegexError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`invalid regular expression: ${reason}`);
    this.name = 'ClientRegexError';
  }
}

export interface ClientRegex {
  /** Whether the pattern matches the whole text (as Java's Matcher.matches, which Ditto uses). */
  matchesWhole(text: string): boolean;
}

const REPEAT = /\{(\d+)(?:,(\d*))?\}/y;

/** The summed counts of counted repetitions, skipping escapes and character classes. */
function repeatCount(pattern: string): number {
  let sum = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '{') {
      REPEAT.lastIndex = i;
      const m = REPEAT.exec(pattern);
      if (m) sum += Math.max(Number(m[1]), m[2] ? Number(m[2]) : 0);
    }
  }
  return sum;
}

const cache = new Map<string, ClientRegex>();
const CACHE_MAX = 256;

/** Compiles a client's pattern; throws ClientRegexError for invalid or too large ones. Cached. */
export function compileClientRegex(pattern: string): ClientRegex {
  const cached = cache.get(pattern);
  if (cached) return cached;
  if (pattern.length > MAX_REGEX_LENGTH)
    throw new ClientRegexError(pattern, `it is longer than ${MAX_REGEX_LENGTH} characters`);
  if (repeatCount(pattern) > MAX_REGEX_REPEATS)
    throw new ClientRegexError(
      pattern,
      `its counted repetitions ({n,m}) add up to more than ${MAX_REGEX_REPEATS}`,
    );
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (err) {
    throw new ClientRegexError(pattern, (err as Error).message.replace(/^error parsing regexp: /, ''));
  }
  if (compiled.programSize() > MAX_REGEX_PROGRAM)
    throw new ClientRegexError(pattern, `it compiles to more than ${MAX_REGEX_PROGRAM} instructions`);
  const regex: ClientRegex = { matchesWhole: (text) => compiled.testExact(text) };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(pattern, regex);
  return regex;
}
