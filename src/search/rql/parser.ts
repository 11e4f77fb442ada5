import { rqlExpressionInvalid } from '../../errors/search.js';
import type { ComparisonOp, Literal, RqlNode } from './ast.js';
import { propertyProblem, type FilterMode } from './properties.js';
import { parseTimePlaceholder } from './time.js';

// RQL predicate parser (ditto-interfaces.md §3.1; Ditto's RqlPredicateParser/RqlParserBase grammar).
// Whitespace is allowed at the start, after literals and after the commas separating sub-queries of
// and/or; nowhere else (not inside or around property names, not after the final ")"). Errors are
// `rql.expression.invalid` naming the 0-based character offset that is wrong.
//
// Limits (a filter is client input, parsed and then walked recursively by the evaluator, the index
// planner and the SQL compiler): logical operators nest at most MAX_RQL_DEPTH levels, checked before
// each descent, so no input can overflow a stack; like/ilike patterns have at most
// MAX_LIKE_PATTERN_LENGTH characters (bounds the wildcard matcher's work per value, util/glob.ts).

const WHITESPACE = ' \n\r\t\f';
const COMPARISONS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'like', 'ilike']);
const NUMBER = /[+-]?(?:0|[1-9][0-9]*)(\.[0-9]+)?/y;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
export const MAX_RQL_DEPTH = 100;
export const MAX_LIKE_PATTERN_LENGTH = 1_000;

class Parser {
  pos = 0;
  constructor(
    readonly input: string,
    readonly mode: FilterMode,
  ) {}

  fail(detail: string, position = this.pos): never {
    throw rqlExpressionInvalid({ position, detail });
  }

  found(): string {
    return this.pos < this.input.length ? `'${this.input[this.pos]}'` : 'the end of the expression';
  }

  skipWhitespace(): void {
    while (this.pos < this.input.length && WHITESPACE.includes(this.input[this.pos])) this.pos++;
  }

  expect(char: string): void {
    if (this.input[this.pos] !== char) this.fail(`expected '${char}' but found ${this.found()}`);
    this.pos++;
  }

  query(depth = 1): RqlNode {
    const start = this.pos;
    while (this.pos < this.input.length && this.input[this.pos] >= 'a' && this.input[this.pos] <= 'z')
      this.pos++;
    const name = this.input.slice(start, this.pos);
    if (name === '')
      this.fail(
        `expected an operator (eq, ne, gt, ge, lt, le, like, ilike, in, exists, empty, and, or, not) but found ${this.found()}`,
      );
    if (COMPARISONS.has(name)) {
      this.expect('(');
      const property = this.property();
      this.expect(',');
      const valueAt = this.pos;
      const value = this.literal();
      if (
        (name === 'like' || name === 'ilike') &&
        typeof value === 'string' &&
        value.length > MAX_LIKE_PATTERN_LENGTH
      ) {
        this.fail(
          `the ${name} pattern has ${value.length} characters, more than ${MAX_LIKE_PATTERN_LENGTH}`,
          valueAt,
        );
      }
      this.expect(')');
      return { op: name as ComparisonOp, property, value };
    }
    switch (name) {
      case 'in': {
        this.expect('(');
        const property = this.property();
        const values: Literal[] = [];
        do {
          this.expect(',');
          values.push(this.literal());
        } while (this.input[this.pos] === ',');
        this.expect(')');
        return { op: 'in', property, values };
      }
      case 'and':
      case 'or': {
        this.expect('(');
        this.descend(depth, start);
        const children: RqlNode[] = [this.query(depth + 1)];
        while (this.input[this.pos] === ',') {
          this.pos++;
          this.skipWhitespace();
          children.push(this.query(depth + 1));
        }
        this.expect(')');
        return { op: name, children };
      }
      case 'not': {
        this.expect('(');
        this.descend(depth, start);
        const child = this.query(depth + 1);
        this.expect(')');
        return { op: 'not', child };
      }
      case 'exists':
      case 'empty': {
        this.expect('(');
        const property = this.property();
        this.expect(')');
        return { op: name, property };
      }
      default:
        return this.fail(`unknown operator '${name}'`, start);
    }
  }

  /** Fails at `start` (the operator) when its operands would nest deeper than MAX_RQL_DEPTH. */
  descend(depth: number, start: number): void {
    if (depth >= MAX_RQL_DEPTH)
      this.fail(`the expression nests more than ${MAX_RQL_DEPTH} levels of and, or, not`, start);
  }

  /** Characters except , ) " \ with backslash escapes; never trimmed (§3.1, §14.9). */
  property(): string {
    const start = this.pos;
    const text = this.characters();
    if (text === '') this.fail(`expected a property but found ${this.found()}`, start);
    const problem = propertyProblem(text, this.mode);
    if (problem) this.fail(problem, start);
    return text;
  }

  characters(): string {
    let out = '';
    for (;;) {
      const c = this.input[this.pos];
      if (c === undefined || c === ',' || c === ')' || c === '"') return out;
      if (c === '\\') {
        this.pos++;
        out += this.escape(false);
      } else {
        out += c;
        this.pos++;
      }
    }
  }

  /** After a backslash: " \ / b f n r t uXXXX, and ' inside single-quoted strings. */
  escape(singleQuoted: boolean): string {
    const c = this.input[this.pos];
    const simple: Record<string, string> = {
      '\\': '\\',
      '/': '/',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
    };
    if (c !== undefined && simple[c] !== undefined) {
      this.pos++;
      return simple[c];
    }
    if (c === (singleQuoted ? "'" : '"')) {
      this.pos++;
      return c;
    }
    if (c === 'u') {
      const hex = this.input.slice(this.pos + 1, this.pos + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid unicode escape, expected \\uXXXX', this.pos - 1);
      this.pos += 5;
      return String.fromCharCode(parseInt(hex, 16));
    }
    return this.fail(`invalid escape sequence '\\${c ?? ''}'`, this.pos - 1);
  }

  string(quote: '"' | "'"): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.input[this.pos];
      if (c === undefined) this.fail('unterminated string literal', start);
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        this.pos++;
        out += this.escape(quote === "'");
      } else {
        out += c;
        this.pos++;
      }
    }
  }

  literal(): Literal {
    const start = this.pos;
    const c = this.input[this.pos];
    let value: Literal;
    if (c === '"' || c === "'") {
      value = this.string(c);
    } else if (this.input.startsWith('time:', this.pos)) {
      const text = 'time:' + ((this.pos += 5), this.characters());
      if (!parseTimePlaceholder(text))
        this.fail(
          `unsupported placeholder '${text}' (expected time:now or time:now_epoch_millis with an optional offset like -1h, at most about 250,000 years, and truncation like [d])`,
          start,
        );
      value = { placeholder: text };
    } else if (c !== undefined && /[+\-0-9]/.test(c)) {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(this.input);
      if (!m) return this.fail(`expected a number but found ${this.found()}`);
      if (m[1] === undefined) {
        // Long: "-0" is rejected (RqlParserBase.LongLiteral); the value must fit a signed 64-bit long.
        if (m[0] === '-0') this.fail("'-0' is not a valid number", start);
        const big = BigInt(m[0]);
        if (big < LONG_MIN || big > LONG_MAX)
          this.fail(`number '${m[0]}' is out of the range of a long`, start);
      }
      this.pos += m[0].length;
      value = Number(m[0]);
    } else if (this.input.startsWith('true', this.pos)) {
      this.pos += 4;
      value = true;
    } else if (this.input.startsWith('false', this.pos)) {
      this.pos += 5;
      value = false;
    } else if (this.input.startsWith('null', this.pos)) {
      this.pos += 4;
      value = null;
    } else {
      return this.fail(
        `expected a literal (number, "string", 'string', true, false, null or time:now) but found ${this.found()}`,
      );
    }
    this.skipWhitespace();
    return value;
  }
}

/**
 * Parses a normalized RQL filter (§3.1) into an AST; throws `rql.expression.invalid`. Mode `event`
 * (change-notification filters) additionally accepts placeholder properties such as `topic:action`.
 */
export function parseRql(input: string, mode: FilterMode = 'search'): RqlNode {
  const parser = new Parser(input, mode);
  parser.skipWhitespace();
  const node = parser.query();
  if (parser.pos !== input.length)
    parser.fail(`expected the end of the expression but found ${parser.found()}`);
  return node;
}
