import { defineError } from './ditto-error.js';

// General errors carry no prefix (ditto-interfaces.md §2.11).

export const jsonInvalid = defineError<{ detail: string }>({
  code: 'json.invalid',
  status: 400,
  message: ({ detail }) => `Failed to parse JSON: ${detail}`,
  description: 'Check if the JSON was valid (e.g. on https://jsonlint.com) and if it was in required format.',
});

export const jsonFormatInvalid = defineError<{ detail: string }>({
  code: 'json.format.invalid',
  status: 400,
  message: ({ detail }) => detail,
  description: 'Check if the JSON was valid and if it was in required format.',
});

export const jsonFieldMissing = defineError<{ field: string }>({
  code: 'json.field.missing',
  status: 400,
  message: ({ field }) => `JSON did not include required <${field}> field!`,
  description: 'Check if all required JSON fields were set.',
});

export const jsonKeyInvalid = defineError<{ key: string }>({
  code: 'json.key.invalid',
  status: 400,
  message: ({ key }) => `The JSON key <${key}> is invalid!`,
  description: 'JSON keys must not contain slashes or control characters.',
});

export const jsonPointerInvalid = defineError<{ pointer: string }>({
  code: 'json.pointer.invalid',
  status: 400,
  message: ({ pointer }) => `The JSON pointer <${pointer}> is invalid!`,
  description: 'Check if the JSON pointer is a valid RFC 6901 pointer without empty segments.',
});

export const fieldSelectorInvalid = defineError<{ selector: string; detail?: string }>({
  code: 'json.fieldselector.invalid',
  status: 400,
  message: ({ selector, detail }) =>
    `The field selector <${selector}> is not valid${detail ? `: ${detail}` : ''}.`,
  description:
    'Check if the field selector is valid, e.g. "thingId,attributes/location,features/*/properties(a,b)".',
});

export const headerInvalid = defineError<{ name: string; detail: string }>({
  code: 'header.invalid',
  status: 400,
  message: ({ name, detail }) => `The value of the header '${name}' is not valid: ${detail}`,
  description: 'Verify that the header has the correct syntax.',
});

export const timeoutInvalid = defineError<{ value: string; max?: string }>({
  code: 'timeout.invalid',
  status: 400,
  message: ({ value, max }) =>
    `The timeout <${value}> is not valid; it must be a duration${max === undefined ? '' : ` of at most ${max}`}.`,
  description:
    'Use a duration like 10s, 250ms or 1m: a whole number with ms, s, m or h (a bare number means seconds).',
});

export const mediaTypeUnsupported = defineError<{ contentType: string; allowed: string[] }>({
  code: 'mediatype.unsupported',
  status: 415,
  message: ({ contentType }) =>
    `The Media-Type <${contentType || 'none'}> is not supported for this resource.`,
  description:
    'Send application/json (PATCH: application/merge-patch+json; search POST: application/x-www-form-urlencoded).',
});

export const commandTimeout = defineError<{ timeout: string }>({
  code: 'command.timeout',
  status: 408,
  message: ({ timeout }) => `The command did not complete within the timeout of ${timeout}.`,
  description: 'Try again later or with a longer timeout.',
});

export const internalError = defineError<void>({
  code: 'internalerror',
  status: 500,
  message: () => 'There was a rare case of an unexpected internal error.',
  description: 'Please contact the service team or try again later.',
});

export const tooManyRequests = defineError<void>({
  code: 'too.many.requests',
  status: 429,
  message: () => 'Too many requests.',
  description: 'Slow down and try again later.',
});

export const headersTooLarge = defineError<void>({
  code: 'headers.too.large',
  status: 431,
  message: () => 'The headers of the request are too large.',
});

export const uriTooLong = defineError<{ length: number }>({
  code: 'gateway:uri.toolong',
  status: 414,
  message: ({ length }) => `The request URI of ${length} characters is longer than the allowed 8192.`,
  description: 'Shorten the request, e.g. request fewer ids at once or use the search with POST.',
});

export const serviceUnavailable = defineError<{ detail: string }>({
  code: 'service.unavailable',
  status: 503,
  message: ({ detail }) => `The service is not available: ${detail}`,
  description: 'Try again later.',
});

export const uriInvalid = defineError<{ uri: string }>({
  code: 'uri.invalid',
  status: 400,
  message: ({ uri }) => `The URI <${uri}> contains invalid characters or escapes.`,
  description: 'Encode the URI according to RFC 3986 (a `%` must start a valid escape such as `%25`).',
});

export const requestTooLarge = defineError<{ size: number; max: number }>({
  code: 'request.toolarge',
  status: 413,
  message: ({ size, max }) => `The request body of ${size} bytes exceeds the allowed ${max} bytes.`,
  description: 'Send a smaller request body.',
});

export const requestInvalid = defineError<{ detail: string }>({
  code: 'request.invalid',
  status: 400,
  message: ({ detail }) => `The request is invalid: ${detail}`,
  description:
    'Check the request line, headers and body against the HTTP specification and the API documentation.',
});
