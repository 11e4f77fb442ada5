import { defineError, type DittoErrorOptions, type DittoError } from './ditto-error.js';

// Search errors (ditto-interfaces.md §2.7, §2.11, §14.11). The RQL error is a general error (no prefix);
// search errors carry `thing-search:` (Ditto's docs wrongly write `things-search:`).

/** A filter that is not valid RQL (§3.1). `position` is the 0-based character offset that is wrong. */
export const rqlExpressionInvalid = defineError<{ position: number; detail: string }>({
  code: 'rql.expression.invalid',
  status: 400,
  message: ({ position, detail }) => `Invalid RQL expression at position ${position}: ${detail}`,
  description:
    'Check if the RQL expression is valid, e.g. "and(eq(attributes/manufacturer,\\"ACME\\"),gt(_revision,3))".',
  href: 'https://www.eclipse.dev/ditto/basic-rql.html',
});

/** An `option=` value that is not valid (§3.3), including `limit` combined with `size`/`cursor`. */
export const searchOptionInvalid = defineError<{ detail: string }>({
  code: 'thing-search:search.option.invalid',
  status: 400,
  message: ({ detail }) => `Invalid search option: ${detail}`,
  description:
    'Check the options, e.g. "sort(+thingId,-_modified),size(25),cursor(<cursor>)"; "limit" must not be combined with "size" or "cursor".',
  href: 'https://www.eclipse.dev/ditto/httpapi-search.html',
});

export const searchNamespacesInvalid = defineError<{ namespaces: string; detail: string }>({
  code: 'thing-search:search.namespaces.invalid',
  status: 400,
  message: ({ namespaces, detail }) => `The namespaces <${namespaces}> are invalid: ${detail}`,
  description: 'Provide a comma separated list of valid namespaces, e.g. "org.eclipse.ditto,com.acme".',
});

export const queryTimeExceeded = defineError<{ timeoutMs: number }>({
  code: 'thing-search:query.time.exceeded',
  status: 408,
  message: ({ timeoutMs }) => `The search query did not complete within ${timeoutMs} ms.`,
  description: 'Narrow the filter (e.g. by namespaces) or try again later with a longer timeout.',
});

/**
 * A cursor that cannot be decoded or that was issued for another filter or sort. Ditto reports cursor
 * problems with the option error (a cursor is an option), so this renders as
 * `thing-search:search.option.invalid` with a cursor-specific message.
 */
export function cursorInvalid(detail: string, options?: DittoErrorOptions): DittoError {
  return searchOptionInvalid({ detail: `the cursor is invalid: ${detail}` }, options);
}
