/**
 * Parses a template once into a CompiledTemplate (ditto-interfaces.md §11.5): literal text mixed with
 * expressions `{{ prefix:name }}` (spaces optional) and pipelines `{{ a:b | fn:x(...) | fn:y() }}`.
 *
 * Grammar (inside `{{ }}`; `|` and `}}` inside quoted strings do not count):
 *   expression := stage ( '|' stage )*          at most MAX_PIPELINE_FUNCTIONS function stages
 *   stage      := placeholder | 'fn:' name ws* '(' [ arg ( ',' arg )* ] ')'
 *   placeholder:= prefix ':' name               prefix [A-Za-z_][A-Za-z0-9_-]*, name non-empty
 *   arg        := "'" chars "'" | '"' chars '"' | placeholder     (\' and \" escape a quote)
 * Only the first stage may be a placeholder; a pipeline starting with a function gets "empty" as input.
 *
 * Errors (thrown as DittoError, 400): unparsable expression or unclosed `{{` -> placeholder.notresolvable;
 * unknown function or missing parentheses -> function.unknown; wrong arguments -> function.signature.invalid;
 * more than 10 functions -> function.too.complex. Whether a prefix/name is allowed where the template is used
 * is checked by validateTemplate (validate.ts), not here.
 */
import {
  placeholderFunctionSignatureInvalid,
  placeholderFunctionTooComplex,
  placeholderFunctionUnknown,
  placeholderNotResolvable,
} from '../errors/placeholders.js';
import { MAX_PIPELINE_FUNCTIONS, PIPELINE_FUNCTIONS } from './functions.js';
import type {
  CompiledArg,
  CompiledTemplate,
  ExpressionPart,
  FunctionCall,
  PipelineValues,
  PlaceholderRef,
  TemplatePart,
} from './types.js';

const PREFIX = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const FUNCTION_NAME = /^[A-Za-z0-9_-]*/;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Index just after the quoted string starting at `start` (t[start] is the quote); -1 when unterminated. */
function skipQuoted(t: string, start: number): number {
  const quote = t[start];
  for (let i = start + 1; i < t.length; i++) {
    if (t[i] === '\\' && t[i + 1] === quote) i++;
    else if (t[i] === quote) return i + 1;
  }
  return -1;
}

/** Compiles a template. Throws a placeholder DittoError when the syntax or a function call is invalid. */
export function compileTemplate(text: string): CompiledTemplate {
  const parts: TemplatePart[] = [];
  const placeholders: PlaceholderRef[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, open);
    const close = findClose(text, open + 2);
    if (close < 0) {
      throw placeholderNotResolvable({
        placeholder: text.slice(open),
        template: text,
        position: open + 1,
        reason: "missing closing '}}'",
      });
    }
    if (literal !== '') parts.push({ kind: 'literal', text: literal });
    literal = '';
    const expression = compileExpressionAt(text, open, close);
    parts.push(expression);
    placeholders.push(...expression.placeholders);
    i = close + 2;
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal });
  return { text, parts, placeholders };
}

/** Compiles a bare expression without braces, e.g. `time:now-1h` in an RQL value (§3.1). */
export function compileExpression(expression: string): CompiledTemplate {
  return compileTemplate(`{{ ${expression} }}`);
}

function findClose(t: string, from: number): number {
  for (let i = from; i < t.length; i++) {
    const c = t[i];
    if (c === "'" || c === '"') {
      const end = skipQuoted(t, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === '}' && t[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}

interface Stage {
  text: string;
  /** 0-based offset of the stage in the template. */
  offset: number;
}

function splitStages(t: string, from: number, to: number): Stage[] {
  const stages: Stage[] = [];
  let start = from;
  const push = (end: number) => {
    let s = start;
    let e = end;
    while (s < e && isSpace(t[s])) s++;
    while (e > s && isSpace(t[e - 1])) e--;
    stages.push({ text: t.slice(s, e), offset: s });
  };
  for (let i = from; i < to; i++) {
    const c = t[i];
    if (c === "'" || c === '"') {
      i = skipQuoted(t, i) - 1;
    } else if (c === '|') {
      push(i);
      start = i + 1;
    }
  }
  push(to);
  return stages;
}

function compileExpressionAt(template: string, open: number, close: number): ExpressionPart {
  const source = template.slice(open, close + 2);
  const expression = template.slice(open + 2, close).trim();
  const stages = splitStages(template, open + 2, close);
  const functionCount = stages.length - (stages[0].text.startsWith('fn:') ? 0 : 1);
  if (functionCount > MAX_PIPELINE_FUNCTIONS) {
    throw placeholderFunctionTooComplex({
      max: MAX_PIPELINE_FUNCTIONS,
      count: functionCount,
      template,
      position: open + 1,
    });
  }
  const placeholders: PlaceholderRef[] = [];
  let input: PlaceholderRef | undefined;
  const calls: FunctionCall[] = [];
  stages.forEach((stage, index) => {
    if (stage.text === '') {
      throw placeholderNotResolvable({
        placeholder: source,
        template,
        position: open + 1,
        reason: 'empty pipeline stage',
      });
    }
    if (stage.text.startsWith('fn:')) {
      const call = compileCall(template, stage);
      calls.push(call);
      for (const a of call.args) if (a.kind === 'placeholder') placeholders.push(a.ref);
    } else if (index === 0) {
      input = parsePlaceholder(template, stage.text, stage.offset);
      placeholders.unshift(input);
    } else {
      throw placeholderFunctionUnknown({ expression: stage.text, template, position: stage.offset + 1 });
    }
  });
  return { kind: 'expression', source, expression, position: open + 1, input, stages: calls, placeholders };
}

function parsePlaceholder(template: string, text: string, offset: number): PlaceholderRef {
  const colon = text.indexOf(':');
  const prefix = colon < 0 ? '' : text.slice(0, colon).trim();
  const name = colon < 0 ? '' : text.slice(colon + 1).trim();
  if (!PREFIX.test(prefix) || name === '') {
    throw placeholderNotResolvable({
      placeholder: text,
      template,
      position: offset + 1,
      reason: "expected 'prefix:name'",
    });
  }
  return { prefix, name, source: text, position: offset + 1 };
}

function compileCall(template: string, stage: Stage): FunctionCall {
  const text = stage.text;
  const position = stage.offset + 1;
  const name = FUNCTION_NAME.exec(text.slice(3))![0];
  const fn = PIPELINE_FUNCTIONS.get(name);
  let i = 3 + name.length;
  while (isSpace(text[i])) i++;
  if (fn === undefined || text[i] !== '(') {
    throw placeholderFunctionUnknown({ expression: text, template, position });
  }
  const invalid = (detail: string) =>
    placeholderFunctionSignatureInvalid({
      expression: text,
      signature: fn.signature,
      template,
      position,
      detail,
    });

  // Arguments between the parentheses.
  const args: CompiledArg[] = [];
  i++;
  const skipSpaces = () => {
    while (isSpace(text[i])) i++;
  };
  skipSpaces();
  if (text[i] === ')') {
    i++;
  } else {
    for (;;) {
      skipSpaces();
      const c = text[i];
      if (c === "'" || c === '"') {
        const end = skipQuoted(text, i);
        if (end < 0) throw invalid('unterminated string');
        const raw = text.slice(i + 1, end - 1);
        args.push({ kind: 'string', value: raw.replaceAll('\\' + c, c) });
        i = end;
      } else {
        let end = i;
        while (end < text.length && text[end] !== ',' && text[end] !== ')') end++;
        const token = text.slice(i, end).trim();
        if (token === '' || !token.includes(':') || /\s/.test(token) || token.startsWith('fn:')) {
          throw invalid(
            token === '' ? 'missing argument' : `'${token}' is neither a quoted string nor a placeholder`,
          );
        }
        if (!fn.placeholderArgs)
          throw invalid(`arguments must be quoted strings, got placeholder '${token}'`);
        args.push({ kind: 'placeholder', ref: parsePlaceholder(template, token, stage.offset + i) });
        i = end;
      }
      skipSpaces();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ')') {
        i++;
        break;
      }
      throw invalid(i >= text.length ? "missing ')'" : `unexpected '${text.slice(i)}'`);
    }
  }
  skipSpaces();
  if (i < text.length) throw invalid(`unexpected '${text.slice(i)}' after ')'`);
  if (args.length < fn.minArgs || args.length > fn.maxArgs) {
    const expected = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
    throw invalid(`expected ${expected} argument(s), got ${args.length}`);
  }
  const problem = fn.check?.(args);
  if (problem !== undefined) throw invalid(problem);
  const constArgs: PipelineValues[] | undefined = args.every((a) => a.kind === 'string')
    ? args.map((a) => [(a as { value: string }).value])
    : undefined;
  return { fn, args, constArgs, state: fn.prepare?.(args), source: text, position };
}
