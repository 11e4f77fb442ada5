/**
 * Shared types of the placeholder engine (ditto-interfaces.md §11.5).
 *
 * A template such as `device/{{ thing:name | fn:upper() }}` is parsed once into a CompiledTemplate and then
 * resolved many times against PlaceholderResolvers: one function per prefix that the caller supplies for the
 * signal at hand (see resolvers.ts for builders).
 */

/** What a resolver returns for a name: one value, several values (e.g. a JWT array claim, each becomes one
 * result), or undefined when the value is missing (the placeholder is then "unresolved"). */
export type PlaceholderValue = string | readonly string[] | undefined;

/** Resolves the `name` of `{{ prefix:name }}` for one prefix. Called on the hot path: keep it cheap. */
export type PlaceholderResolver = (name: string) => PlaceholderValue;

/** Resolvers by prefix, e.g. `{ thing: thingResolver(id), header: headerResolver(headers) }`. */
export type PlaceholderResolvers = Readonly<Record<string, PlaceholderResolver | undefined>>;

/** The values flowing through a pipeline: a non-empty list is resolved, the empty list is "unresolved"
 * (Ditto: `empty`), DELETED is the result of `fn:delete()` (the whole expression disappears). */
export const DELETED: unique symbol = Symbol('deleted');
export type Deleted = typeof DELETED;
export type PipelineValues = readonly string[];
export type PipelineResult = PipelineValues | Deleted;

export const UNRESOLVED: PipelineValues = Object.freeze([]) as PipelineValues;

/** `prefix:name` as written in a template; `position` is 1-based in the template text. */
export interface PlaceholderRef {
  readonly prefix: string;
  readonly name: string;
  /** `prefix:name` as written (trimmed). */
  readonly source: string;
  readonly position: number;
}

export type CompiledArg =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'placeholder'; readonly ref: PlaceholderRef };

/** One entry of the function table (functions.ts). */
export interface PipelineFunction {
  /** Name without `fn:`, e.g. `substring-before`. */
  readonly name: string;
  /** Human-readable signature used in error messages, e.g. `fn:replace(String from, String to)`. */
  readonly signature: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Whether arguments may be placeholders (`fn:default(thing:id)`) besides quoted strings. */
  readonly placeholderArgs: boolean;
  /** Static check of the arguments at compile time; returns a reason when invalid. */
  readonly check?: (args: readonly CompiledArg[]) => string | undefined;
  /** Precomputes per-call state from the arguments once (e.g. the form of `fn:filter`). */
  readonly prepare?: (args: readonly CompiledArg[]) => unknown;
  /** Applies the function. `input` is never DELETED (the pipeline stops at `fn:delete()`); `args` are the
   * argument values (a constant is a one-element list, a placeholder its resolved values, maybe empty). */
  readonly apply: (input: PipelineValues, args: readonly PipelineValues[], state: unknown) => PipelineResult;
}

export interface FunctionCall {
  readonly fn: PipelineFunction;
  readonly args: readonly CompiledArg[];
  /** Argument values when all arguments are constants (no per-call allocation), else undefined. */
  readonly constArgs: readonly PipelineValues[] | undefined;
  readonly state: unknown;
  /** The stage as written, e.g. `fn:default('x')`. */
  readonly source: string;
  readonly position: number;
}

export interface LiteralPart {
  readonly kind: 'literal';
  readonly text: string;
}

export interface ExpressionPart {
  readonly kind: 'expression';
  /** The whole `{{ ... }}` as written (kept verbatim by partial resolution). */
  readonly source: string;
  /** The content between the braces, trimmed, e.g. `thing:id | fn:upper()`. */
  readonly expression: string;
  readonly position: number;
  /** The placeholder the pipeline starts with; undefined when it starts with a function (input "empty"). */
  readonly input: PlaceholderRef | undefined;
  readonly stages: readonly FunctionCall[];
  /** All placeholders of this expression: the input and placeholder arguments. */
  readonly placeholders: readonly PlaceholderRef[];
}

export type TemplatePart = LiteralPart | ExpressionPart;

export interface CompiledTemplate {
  readonly text: string;
  readonly parts: readonly TemplatePart[];
  /** Every placeholder used anywhere in the template, in order of appearance. */
  readonly placeholders: readonly PlaceholderRef[];
}

/** The outcome of resolving a template:
 * - `resolved`: one or more strings (several when a placeholder yields several values: JWT arrays, split);
 * - `unresolved`: some placeholder's value was missing (`placeholder` names the first such expression);
 *   the caller decides: header mapping skips the header, a target address drops the message, enforcement fails;
 * - `deleted`: every expression was removed by `fn:delete()` and there is no literal text. */
export type TemplateResult =
  | { readonly kind: 'resolved'; readonly values: readonly string[] }
  | { readonly kind: 'unresolved'; readonly placeholder: string }
  | { readonly kind: 'deleted' };
