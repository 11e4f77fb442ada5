/**
 * Wildcard matching for RQL `like`/`ilike` (ditto-interfaces.md §3.2) and the placeholder function
 * `fn:filter(…, 'like', …)`: a full match where `*` is any run of characters, `?` exactly one character
 * (a Unicode code point), everything else literal. Never a RegExp built from the pattern: a backtracking
 * engine takes exponential time on patterns such as `*a*a*a*b`.
 *
 * Algorithm: the pattern is split at `*` into fixed-length segments; the first is anchored at the start,
 * the last at the end, and each one between is placed at its leftmost occurrence after the previous one
 * (for fixed-length segments the greedy leftmost placement finds a match whenever one exists). A segment
 * without `?` is found with `indexOf`; one with `?` with the bit-parallel Shift-And algorithm. Time per
 * value is O(n) for patterns without `?` and O(n * ceil(k / 32)) otherwise (k: longest segment with `?`);
 * RQL bounds patterns to MAX_LIKE_PATTERN_LENGTH characters (src/search/rql/parser.ts).
 *
 * Case-insensitive matching compares simple case foldings per code point, as a RegExp with the `iu` flags
 * would (the in-memory semantics this replaces).
 */

export interface GlobOptions {
  caseInsensitive?: boolean;
  /** Wildcards do not match line terminators (\n \r \u2028 \u2029), like `.` in a RegExp without `s`. */
  singleLine?: boolean;
}

export type GlobMatcher = (value: string) => boolean;

/** The characters before the first wildcard (a prefix every match starts with, case-sensitively). */
export function literalPrefix(glob: string): string {
  const wildcard = glob.search(/[*?]/);
  return wildcard < 0 ? glob : glob.slice(0, wildcard);
}

const folds = new Map<number, number>();

function single(text: string): number | undefined {
  const cp = text.codePointAt(0)!;
  return text.length === (cp > 0xffff ? 2 : 1) ? cp : undefined;
}

/** Whether RegExp `iu` treats the two code points as the same (the reference this folding follows). */
function sameIgnoringCase(a: number, b: number): boolean {
  return new RegExp(`^\\u{${a.toString(16)}}$`, 'iu').test(String.fromCodePoint(b));
}

/**
 * A representative of the code point's case class: lower(upper(c)), else lower(c), whichever is one code
 * point that RegExp `iu` also treats as equal to c (e.g. dotless ı stays ı: `I` is not its equal), else c.
 */
function foldCodePoint(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  let folded = folds.get(cp);
  if (folded === undefined) {
    const ch = String.fromCodePoint(cp);
    folded = cp;
    const upper = single(ch.toUpperCase());
    for (const candidate of [
      upper === undefined ? undefined : single(String.fromCodePoint(upper).toLowerCase()),
      single(ch.toLowerCase()),
    ]) {
      if (candidate === undefined) continue;
      if (candidate === cp || sameIgnoringCase(cp, candidate)) {
        folded = candidate;
        break;
      }
    }
    if (folds.size >= 65_536) folds.clear();
    folds.set(cp, folded);
  }
  return folded;
}

/** The string with every code point replaced by its simple case folding. */
export function foldCase(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += String.fromCodePoint(foldCodePoint(ch.codePointAt(0)!));
  return out;
}

function isLineTerminator(cp: number): boolean {
  return cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029;
}

const ANY = -1;

/** One `*`-free piece of the pattern as code points (ANY for `?`). */
interface Segment {
  codes: number[];
  /** The piece as a string when it has no `?`. */
  literal?: string;
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    out.push(cp);
    if (cp > 0xffff) i++;
  }
  return out;
}

/**
 * Bit-parallel search (Shift-And) for a fixed-length segment with `?`: bit i of the state is set when the
 * last i + 1 characters match the segment's first i + 1; a match ends where bit k - 1 becomes set.
 */
class ShiftAnd {
  private readonly words: number;
  private readonly byChar = new Map<number, Uint32Array>();
  /** Accepted by the `?` positions only: the mask of characters that do not occur in the segment. */
  private readonly other: Uint32Array;
  private readonly none: Uint32Array;
  private readonly state: Uint32Array;

  constructor(
    private readonly segment: readonly number[],
    private readonly singleLine: boolean,
  ) {
    this.words = (segment.length + 31) >>> 5;
    this.other = new Uint32Array(this.words);
    this.none = new Uint32Array(this.words);
    this.state = new Uint32Array(this.words);
    segment.forEach((cp, i) => {
      if (cp === ANY) this.other[i >>> 5] |= 1 << (i & 31);
    });
    segment.forEach((cp, i) => {
      if (cp === ANY) return;
      let mask = this.byChar.get(cp);
      if (!mask) this.byChar.set(cp, (mask = this.other.slice()));
      mask[i >>> 5] |= 1 << (i & 31);
    });
  }

  /** The end of the leftmost occurrence within text[from, to), or -1. */
  find(text: readonly number[], from: number, to: number): number {
    const { words, state, segment } = this;
    const lastWord = (segment.length - 1) >>> 5;
    const lastBit = 1 << ((segment.length - 1) & 31);
    state.fill(0);
    for (let j = from; j < to; j++) {
      const cp = text[j];
      const mask = this.byChar.get(cp) ?? (this.singleLine && isLineTerminator(cp) ? this.none : this.other);
      let carry = 1; // a match may start at every position
      for (let w = 0; w < words; w++) {
        const next = state[w] >>> 31;
        state[w] = ((state[w] << 1) | carry) & mask[w];
        carry = next;
      }
      if (state[lastWord] & lastBit) return j + 1;
    }
    return -1;
  }
}

function segmentsOf(glob: string): Segment[] {
  return glob.split('*').map((piece) => {
    const codes = codePoints(piece).map((cp) => (cp === 0x3f ? ANY : cp));
    return codes.includes(ANY) ? { codes } : { codes, literal: piece };
  });
}

/** Whether `segment` matches `text` at position `at` exactly (code points). */
function matchesAt(
  segment: readonly number[],
  text: readonly number[],
  at: number,
  singleLine: boolean,
): boolean {
  if (at < 0 || at + segment.length > text.length) return false;
  for (let i = 0; i < segment.length; i++) {
    const cp = text[at + i];
    const want = segment[i];
    if (want === ANY ? singleLine && isLineTerminator(cp) : want !== cp) return false;
  }
  return true;
}

function hasLineTerminator(codes: readonly number[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isLineTerminator(codes[i])) return true;
  return false;
}

/** The general matcher over code points (patterns with `?`, or with lone surrogates). */
function codePointMatcher(segments: Segment[], singleLine: boolean): (text: number[]) => boolean {
  const [first, ...others] = segments;
  const last = others[others.length - 1];
  const middle = others
    .slice(0, -1)
    .filter((s) => s.codes.length > 0)
    .map((s) => ({ length: s.codes.length, search: new ShiftAnd(s.codes, singleLine) }));
  return (text) => {
    if (!last) return first.codes.length === text.length && matchesAt(first.codes, text, 0, singleLine);
    const end = text.length - last.codes.length;
    let pos = first.codes.length;
    if (
      end < pos ||
      !matchesAt(first.codes, text, 0, singleLine) ||
      !matchesAt(last.codes, text, end, singleLine)
    )
      return false;
    for (const segment of middle) {
      const found = segment.search.find(text, pos, end);
      if (found < 0 || (singleLine && hasLineTerminator(text, pos, found - segment.length))) return false;
      pos = found;
    }
    return !(singleLine && hasLineTerminator(text, pos, end));
  };
}

/** The fast matcher over UTF-16 strings for well-formed patterns without `?` (indexOf per segment). */
function stringMatcher(pieces: string[], singleLine: boolean): (text: string) => boolean {
  const [first, ...others] = pieces;
  const gapOk = (text: string, from: number, to: number) => {
    if (!singleLine) return true;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return false;
    }
    return true;
  };
  return (text) => {
    if (others.length === 0) return text === first;
    const last = others[others.length - 1];
    if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last))
      return false;
    const end = text.length - last.length;
    let pos = first.length;
    for (let i = 0; i < others.length - 1; i++) {
      const piece = others[i];
      if (piece === '') continue;
      const found = text.indexOf(piece, pos);
      if (found < 0 || found + piece.length > end || !gapOk(text, pos, found)) return false;
      pos = found + piece.length;
    }
    return gapOk(text, pos, end);
  };
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

/** Compiles a glob into a matcher of whole strings. */
export function compileGlob(glob: string, options: GlobOptions = {}): GlobMatcher {
  const caseInsensitive = options.caseInsensitive ?? false;
  const singleLine = options.singleLine ?? false;
  const pattern = caseInsensitive ? foldCase(glob) : glob;
  const segments = segmentsOf(pattern);
  const prepare = caseInsensitive ? foldCase : (text: string) => text;
  // indexOf on UTF-16 matches only at code point boundaries when the pattern has no lone surrogates.
  if (segments.every((s) => s.literal !== undefined) && !hasLoneSurrogate(pattern)) {
    const match = stringMatcher(
      segments.map((s) => s.literal!),
      singleLine,
    );
    return (value) => match(prepare(value));
  }
  const match = codePointMatcher(segments, singleLine);
  return (value) => match(codePoints(prepare(value)));
}
