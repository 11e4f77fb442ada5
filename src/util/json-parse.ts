/**
 * JSON text from clients, devices and mapping scripts is parsed here, with a nesting limit: V8's parser
 * builds arbitrarily deep values, but serialising, copying or walking them later (JSON.stringify, the
 * merge patch, pruning) recurses and overflows the stack past a few thousand levels. A body nested deeper
 * than `jsonLimits.maxDepth` objects/arrays is rejected before it is parsed, as `json.invalid` (the code
 * Ditto answers for JSON it cannot read; Ditto has no depth-specific code).
 *
 * The depth check runs without recursion or allocation: text with at most `maxDepth` opening brackets
 * (nearly every payload) cannot exceed it, which a few native `indexOf` calls tell; only other text is
 * scanned bracket by bracket, skipping strings.
 */
import { jsonInvalid } from '../errors/general.js';

/** The process-wide limit; set once from the configuration (TWINBRIDGE_MAX_JSON_DEPTH) by createServices. */
export const jsonLimits = { maxDepth: 100 };

/** JSON.parse of client text: `json.invalid` (400) when it is not JSON or nests deeper than the limit. */
export function parseJson(text: string, maxDepth = jsonLimits.maxDepth): unknown {
  if (nestsDeeperThan(text, maxDepth))
    throw jsonInvalid({ detail: `it nests deeper than ${maxDepth} levels of objects and arrays.` });
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw jsonInvalid({ detail: (cause as Error).message }, { cause });
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether `text` opens more than `maxDepth` objects/arrays at once, counting brackets outside strings.
 * Malformed text may give either answer; JSON.parse rejects it anyway.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  const n = text.length;
  if (n <= maxDepth || opensAtMost(text, maxDepth)) return false;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote: the first one not escaped by an odd number of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(i - 1 - backslashes) === BACKSLASH) backslashes++;
        if ((backslashes & 1) === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Whether `text` holds at most `max` of `{` and `[` in all (inside strings too). */
function opensAtMost(text: string, max: number): boolean {
  let count = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++count > max) return false;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++count > max) return false;
  return true;
}
