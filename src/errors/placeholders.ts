import { defineError } from './ditto-error.js';

// Placeholder and pipeline-function errors (ditto-interfaces.md §11.5; code `placeholders/*Exception.java`).
// All are 400: they describe a template a client wrote. Each message names the placeholder or function and,
// when known, where it is in the template (1-based position of its first character).

/** Where a placeholder or function sits in its template; rendered as a suffix of the message. */
export interface TemplateLocation {
  template?: string;
  /** 1-based character position inside `template`. */
  position?: number;
}

function where({ template, position }: TemplateLocation): string {
  if (template === undefined) return '';
  return position === undefined
    ? ` in template '${template}'`
    : ` at position ${position} of template '${template}'`;
}

export const placeholderNotResolvable = defineError<
  TemplateLocation & { placeholder: string; reason?: string }
>({
  code: 'placeholder:placeholder.notresolvable',
  status: 400,
  message: (p) =>
    `The placeholder '${p.placeholder}'${where(p)} could not be resolved${p.reason ? `: ${p.reason}` : ''}.`,
  description:
    'Please make sure that placeholders are written as {{ prefix:name }}, are supported where they are used ' +
    'and that the values they refer to (headers, claims, ...) are present.',
});

export const placeholderUnknown = defineError<
  TemplateLocation & { placeholder: string; supported?: string[] }
>({
  code: 'placeholder:placeholder.unknown',
  status: 400,
  message: (p) => `The placeholder '${p.placeholder}'${where(p)} is unknown.`,
  description: 'Please use one of the placeholders supported where the template is used.',
});

export const placeholderFunctionUnknown = defineError<TemplateLocation & { expression: string }>({
  code: 'placeholder:function.unknown',
  status: 400,
  message: (p) => `The function <${p.expression}>${where(p)} is not known.`,
  description:
    'Ensure to only use supported functions. Check if you maybe just forgot to use parentheses for a function ' +
    'with empty parameters.',
});

export const placeholderFunctionSignatureInvalid = defineError<
  TemplateLocation & { expression: string; signature: string; detail?: string }
>({
  code: 'placeholder:function.signature.invalid',
  status: 400,
  message: (p) =>
    `The function signature <${p.expression}>${where(p)} could not be parsed${p.detail ? `: ${p.detail}` : ''}. ` +
    `Expected <${p.signature}>.`,
  description: "Ensure to conform to the function's signature.",
});

export const placeholderFunctionTooComplex = defineError<TemplateLocation & { max: number; count: number }>({
  code: 'placeholder:function.too.complex',
  status: 400,
  message: (p) =>
    `The placeholder functions${where(p)} are not accepted as they are too complex ` +
    `(${p.count} chained functions, at most ${p.max} allowed).`,
  description:
    'Please reduce the complexity (e.g. amount of chained functions below the maximum of 10) of the functions.',
});
