/**
 * Resolution of compiled templates (ditto-interfaces.md §11.5; ditto: ExpressionResolver.substitute).
 *
 * Runs per message on the hot path: no parsing here, only resolver calls and string concatenation.
 * Semantics:
 * - each expression yields values; a placeholder with several values (JWT array claims, fn:split) yields
 *   one result per value, combined with the rest of the template as a cartesian product;
 * - an expression whose value is missing ("empty" at the end of its pipeline) makes the whole template
 *   `unresolved`; a prefix without a resolver counts as missing;
 * - `fn:delete()` removes its expression; when every expression is deleted and there is no literal text
 *   the template is `deleted`.
 */
import { placeholderNotResolvable } from '../errors/placeholders.js';
import {
  DELETED,
  UNRESOLVED,
  type CompiledTemplate,
  type ExpressionPart,
  type PipelineResult,
  type PipelineValues,
  type PlaceholderRef,
  type PlaceholderResolvers,
  type TemplateResult,
} from './types.js';

const DELETED_RESULT: TemplateResult = Object.freeze({ kind: 'deleted' });

function lookup(ref: PlaceholderRef, resolvers: PlaceholderResolvers): PipelineValues {
  const resolver = resolvers[ref.prefix];
  if (resolver === undefined) return UNRESOLVED;
  const value = resolver(ref.name);
  if (value === undefined) return UNRESOLVED;
  return typeof value === 'string' ? [value] : value;
}

/** Evaluates one `{{ ... }}`: its input placeholder, then each function of the pipeline. */
export function evaluateExpression(part: ExpressionPart, resolvers: PlaceholderResolvers): PipelineResult {
  let values: PipelineValues = part.input === undefined ? UNRESOLVED : lookup(part.input, resolvers);
  for (const call of part.stages) {
    let args = call.constArgs;
    if (args === undefined) {
      args = call.args.map((a) => (a.kind === 'string' ? [a.value] : lookup(a.ref, resolvers)));
    }
    const result = call.fn.apply(values, args, call.state);
    // ditto: "fn:delete() ... Any following expressions are ignored."
    if (result === DELETED) return DELETED;
    values = result;
  }
  return values;
}

type Evaluate = (part: ExpressionPart) => PipelineResult | string | { unresolved: string };

function substitute(template: CompiledTemplate, evaluate: Evaluate): TemplateResult {
  const parts = template.parts;
  let single = '';
  let multi: string[] | undefined;
  let kept = parts.length === 0;
  for (const part of parts) {
    let text: string;
    if (part.kind === 'literal') {
      text = part.text;
    } else {
      const r = evaluate(part);
      if (r === DELETED) continue;
      if (typeof r === 'string') {
        text = r;
      } else if ('unresolved' in r) {
        return { kind: 'unresolved', placeholder: r.unresolved };
      } else if (r.length === 0) {
        return { kind: 'unresolved', placeholder: part.expression };
      } else if (r.length === 1) {
        text = r[0];
      } else {
        kept = true;
        const before = multi ?? [single];
        multi = [];
        for (const prefix of before) for (const v of r) multi.push(prefix + v);
        continue;
      }
    }
    kept = true;
    if (multi === undefined) single += text;
    else for (let k = 0; k < multi.length; k++) multi[k] += text;
  }
  if (!kept) return DELETED_RESULT;
  return { kind: 'resolved', values: multi ?? [single] };
}

/** Resolves a compiled template against the caller's resolvers. */
export function resolveTemplate(template: CompiledTemplate, resolvers: PlaceholderResolvers): TemplateResult {
  return substitute(template, (part) => {
    // Fast path for a bare `{{ prefix:name }}`: a single string value needs no array.
    if (part.stages.length === 0 && part.input !== undefined) {
      const value = resolvers[part.input.prefix]?.(part.input.name);
      return value === undefined ? UNRESOLVED : value;
    }
    return evaluateExpression(part, resolvers);
  });
}

export interface PartialOptions {
  /** Prefixes that must resolve: if such a placeholder is present but its value is missing, the result is
   * `unresolved` instead of keeping the expression. */
  readonly requireResolved?: readonly string[];
}

/** Resolves only the expressions whose placeholders all have a resolver; the others stay in the text as
 * written (ditto: resolvePartiallyAsPipelineElement, used for `{{ connection:id }}` in addresses before the
 * signal-specific placeholders are known). An expression whose value is missing also stays as written,
 * unless its input prefix is listed in `requireResolved`. The values are template texts again. */
export function resolvePartially(
  template: CompiledTemplate,
  resolvers: PlaceholderResolvers,
  options: PartialOptions = {},
): TemplateResult {
  return substitute(template, (part) => {
    if (part.placeholders.some((p) => resolvers[p.prefix] === undefined)) return part.source;
    const r = evaluateExpression(part, resolvers);
    if (r !== DELETED && r.length === 0) {
      const prefix = part.input?.prefix;
      if (prefix !== undefined && options.requireResolved?.includes(prefix))
        return { unresolved: part.expression };
      return part.source;
    }
    return r;
  });
}

/** All resolved values; empty when unresolved or deleted. */
export function resolveAll(template: CompiledTemplate, resolvers: PlaceholderResolvers): readonly string[] {
  const r = resolveTemplate(template, resolvers);
  return r.kind === 'resolved' ? r.values : [];
}

/** The first resolved value; undefined when unresolved or deleted (e.g. header mapping skips the header). */
export function resolveFirst(
  template: CompiledTemplate,
  resolvers: PlaceholderResolvers,
): string | undefined {
  const r = resolveTemplate(template, resolvers);
  return r.kind === 'resolved' ? r.values[0] : undefined;
}

/** All resolved values; throws `placeholder:placeholder.notresolvable` when unresolved or deleted. */
export function resolveOrThrow(
  template: CompiledTemplate,
  resolvers: PlaceholderResolvers,
): readonly string[] {
  const r = resolveTemplate(template, resolvers);
  if (r.kind === 'resolved') return r.values;
  throw placeholderNotResolvable({
    placeholder: r.kind === 'unresolved' ? r.placeholder : template.text,
    template: template.text,
    reason: r.kind === 'deleted' ? 'the expression was deleted' : undefined,
  });
}
