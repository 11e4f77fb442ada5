import { defineError } from './ditto-error.js';

// Payload-mapping errors (ditto-interfaces.md §12, §13). Codes and statuses as Ditto spells them
// (`MessageMappingFailedException`, `MessageMapperConfigurationInvalidException`,
// `MessageMapperConfigurationFailedException`).

/**
 * One message could not be mapped: the script threw, ran out of time, memory or stack, or returned
 * something that is not a valid result. Raised per message; other messages of the same mapper are
 * unaffected. Not retriable: the same payload fails the same way.
 */
export const messageMappingFailed = defineError<{ contentType?: string; reason: string; line?: number }>({
  code: 'connectivity:message.mapping.failed',
  status: 400,
  retriable: false,
  message: ({ contentType, reason, line }) =>
    `The message with content-type <${contentType ?? ''}> could not be mapped: ${reason}` +
    (line === undefined ? '' : ` (script line ${line})`),
  description:
    'Check if you are sending the correct content-type/payload combination and that the mapping script works.',
});

/** A mapper option is invalid (e.g. a script larger than the allowed size); detected when the mapper is created. */
export const messageMapperConfigInvalid = defineError<{ detail: string }>({
  code: 'connectivity:message.mapper.config.invalid',
  status: 400,
  retriable: false,
  message: ({ detail }) => `The message mapper configuration is invalid: ${detail}`,
  description: 'Make sure the mapping options are valid (e.g. the script sizes are within the limits).',
});

/** A mapping script could not be loaded (syntax error or an exception while it was evaluated at creation). */
export const messageMapperConfigFailed = defineError<{ detail: string }>({
  code: 'connectivity:message.mapper.config.failed',
  status: 400,
  retriable: false,
  message: ({ detail }) => `The message mapper could not be configured: ${detail}`,
  description: 'Check the mapping script for syntax errors and exceptions thrown while it is loaded.',
});
