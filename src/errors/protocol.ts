import { defineError } from './ditto-error.js';

// Errors of the Ditto Protocol adapter (ditto-interfaces.md §2.11; code `protocol/*Exception.java`) and of
// acknowledgements (§2.11, §9; code `base/model/.../acks/*Exception.java`).
//
// An envelope that is not Ditto Protocol JSON fails with the general errors Ditto uses for it (errors/general.ts):
// unparseable text → `json.invalid`, a missing `topic`/`path` → `json.field.missing`, a field of the wrong type
// → `json.format.invalid`. They are re-exported below so transports can import them from here.
export {
  jsonInvalid as envelopeNotJson,
  jsonFieldMissing as envelopeFieldMissing,
  jsonFormatInvalid as envelopeInvalid,
} from './general.js';

export const unknownTopicPath = defineError<{ topic: string }>({
  code: 'protocoladapter:unknown.topicpath',
  status: 400,
  message: ({ topic }) => `The topic path '${topic}' is not supported.`,
  description: 'Check if the topic path is correct.',
});

export const unknownPath = defineError<{ path: string }>({
  code: 'protocoladapter:unknown.path',
  status: 400,
  message: ({ path }) => `The path '${path}' does not correspond to any known command, response or event.`,
  description: 'Check if the path is correct.',
});

/** A path of the right kind but the wrong shape, e.g. a message path whose subject differs from the topic. */
export const invalidPath = defineError<{ path: string }>({
  code: 'protocoladapter:invalid.path',
  status: 400,
  message: ({ path }) => `The path '${path}' is not valid.`,
  description: 'Check if the path is correct.',
});

export const unknownCommand = defineError<{ command: string }>({
  code: 'protocoladapter:unknown.command',
  status: 400,
  message: ({ command }) => `The command '${command}' is not supported by the adapter.`,
  description: 'Check if the command is correct.',
});

export const unknownSignal = defineError<{ signal: string }>({
  code: 'protocoladapter:unknown.signal',
  status: 400,
  message: ({ signal }) => `The signal '${signal}' is not supported by the adapter.`,
  description: 'Check if the signal is correct.',
});

/** A well-formed envelope whose content does not fit its topic (e.g. a modify without `value`). */
export const illegalAdaptable = defineError<{ detail: string }>({
  code: 'protocoladapter:illegal.adaptable',
  status: 422,
  message: ({ detail }) => detail,
  description: 'Please ensure that the Adaptable matches the expectations.',
});

// ---- acknowledgements (§9) ----

export const ackLabelInvalid = defineError<{ label: string }>({
  code: 'acknowledgement:label.invalid',
  status: 400,
  message: ({ label }) => `Acknowledgement label <${label}> is invalid.`,
  description: 'An acknowledgement label must match ({{\\s*[a-z]+:[a-z]+\\s*}}:)?[a-zA-Z0-9-_:]{3,165}.',
});

export const ackLabelForbidden = defineError<{ label: string }>({
  code: 'acknowledgement:ditto.acklabel.forbidden',
  status: 400,
  message: ({ label }) =>
    `The Ditto internal Acknowledgement label <${label}> is not allowed to be issued externally!`,
  description: 'Make sure to not issue an Ditto internal Acknowledgement label.',
});

export const ackLabelNotDeclared = defineError<{ label: string }>({
  code: 'acknowledgement:label.not.declared',
  status: 400,
  message: ({ label }) => `Cannot send acknowledgement with label <${label}>, which is not declared.`,
  description: 'Each subscriber may only send acknowledgements whose label it declared.',
});

export const ackLabelNotUnique = defineError<{ labels: string[] }>({
  code: 'acknowledgement:label.not.unique',
  status: 409,
  message: ({ labels }) =>
    `One or more declared acknowledgement labels are taken by other subscribers: ${labels.join(', ')}.`,
  description: 'Please ensure all other subscribers with the declared acknowledgement labels are offline.',
});

export const ackCorrelationIdMissing = defineError<void>({
  code: 'acknowledgement:correlation-id.missing',
  status: 400,
  message: () => 'Correlation-id header for acknowledgement is missing.',
  description: "Please provide the mandatory header 'correlation-id' as part of your acknowledgement.",
});

export const ackDuplicateCorrelationId = defineError<{ correlationId: string }>({
  code: 'acknowledgement:request.duplicate.correlation-id',
  status: 409,
  message: ({ correlationId }) =>
    `Correlation-id <${correlationId}> for acknowledgement request was already used very recently.`,
  description: 'Please provide unique correlation-ids when requesting acknowledgements.',
});

export const ackRequestTimeout = defineError<{ timeoutMs: number }>({
  code: 'acknowledgement:request.timeout',
  status: 408,
  message: ({ timeoutMs }) =>
    `The acknowledgement request reached the specified timeout of ${timeoutMs.toLocaleString('en-US')}ms.`,
  description:
    'Try increasing the timeout and make sure that the requested acknowledgement is sent back in time.',
});
