import { defineError } from './ditto-error.js';

// Connectivity errors (ditto-interfaces.md §2.9, §11). Codes and statuses as Ditto spells them
// (`ConnectionNotAccessibleException`, `ConnectionConfigurationInvalidException`, `ConnectionFailedException`, …).

export const connectionNotFound = defineError<{ connectionId: string }>({
  code: 'connectivity:connection.notfound',
  status: 404,
  message: ({ connectionId }) =>
    `The Connection with ID '${connectionId}' could not be found or requester had insufficient permissions to access it.`,
  description: 'Check if the ID of your requested Connection was correct.',
});

/** ditto: ConnectionHistoryNotAccessibleException (3.2+); `at` as for things:thing.history.notfound. */
export const connectionHistoryNotFound = defineError<{ connectionId: string; at: string }>({
  code: 'connectivity:connection.history.notfound',
  status: 404,
  message: ({ connectionId, at }) =>
    `The Connection with ID '${connectionId}' at ${at} could not be found or requester had insufficient permissions to access it.`,
  description:
    'Check if the ID of your requested Connection was correct, you have sufficient permissions and ensure that the asked for revision/timestamp does not exceed the history-retention-duration or is from the future.',
});

/** A connection's JSON (or a part a connector checks) is invalid; the message names the field. */
export const connectionConfigurationInvalid = defineError<{ detail: string }>({
  code: 'connectivity:connection.configuration.invalid',
  status: 400,
  retriable: false,
  message: ({ detail }) => `The configuration of the Connection is invalid: ${detail}`,
  description: 'Make sure all fields of the Connection are valid (see the connection JSON schema).',
});

export const connectionConflict = defineError<{ connectionId: string }>({
  code: 'connectivity:connection.conflict',
  status: 409,
  message: ({ connectionId }) => `The Connection with ID '${connectionId}' already exists.`,
  description: 'Choose another Connection ID.',
});

/** Connecting (a dry run or `openConnection`) failed; `detail` never contains credentials. */
export const connectionFailed = defineError<{ connectionId: string; detail: string }>({
  code: 'connectivity:connection.failed',
  status: 504,
  message: ({ connectionId, detail }) =>
    `The Connection with ID '${connectionId}' failed to connect: ${detail}`,
  description: 'Check that the endpoint is reachable and the credentials are correct.',
});

export const connectionUnavailable = defineError<{ connectionId: string }>({
  code: 'connectivity:connection.unavailable',
  status: 503,
  message: ({ connectionId }) => `The Connection with ID '${connectionId}' is not available at the moment.`,
  description: 'Try again later.',
});

export const connectionIdInvalid = defineError<{ connectionId: string }>({
  code: 'connectivity:connection.id.invalid',
  status: 400,
  message: ({ connectionId }) => `The Connection ID '${connectionId}' is not valid.`,
  description: 'A Connection ID is 1 to 100 characters of a-z, A-Z, 0-9, -, _ and :.',
});

export const connectionUriInvalid = defineError<{ detail: string }>({
  code: 'connectivity:connection.uri.invalid',
  status: 400,
  message: ({ detail }) => `The URI of the Connection is invalid: ${detail}`,
  description:
    'The URI must look like <scheme>://[user:password@]host:port (credentials are not shown here).',
});

export const connectionIdNotSettable = defineError<void>({
  code: 'connectivity:id.notsettable',
  status: 400,
  message: () => 'The Connection ID must not be set when a Connection is created; it is generated.',
  description: 'Remove the "id" field from the body or use PUT /connections/{id}.',
});

/** ditto: §11.2 the resolved enforcement input matched none of the filters; the message is dropped. */
export const enforcementFailed = defineError<{ input: string; entityId: string }>({
  code: 'connectivity:connection.id.enforcement.failed',
  status: 400,
  retriable: false,
  message: ({ input, entityId }) =>
    `The configured filters could not be matched against the given target with ID '${entityId}' (input '${input}').`,
  description:
    'Either modify the configured filters or make sure the message is sent via the correct address.',
});

export const connectionCommandUnknown = defineError<{ command: string }>({
  code: 'connectivity:connection.command.unknown',
  status: 400,
  message: ({ command }) => `The connection command '${command}' is not supported.`,
  description:
    'Use one of connectivity.commands:openConnection, closeConnection, resetConnectionMetrics, enableConnectionLogs, resetConnectionLogs.',
});

/** An inbound message larger than the configured maximum; dropped, not retriable. */
export const messageTooLarge = defineError<{ size: number; max: number }>({
  code: 'connectivity:message.toolarge',
  status: 413,
  retriable: false,
  message: ({ size, max }) => `The message of ${size} bytes is larger than the allowed ${max} bytes.`,
  description: 'Send smaller messages.',
});

/** The inbound signal is of a kind a connection source does not forward (e.g. a twin event). */
export const signalNotSupported = defineError<{ topic: string }>({
  code: 'connectivity:signal.unsupported',
  status: 400,
  retriable: false,
  message: ({ topic }) => `Signals with topic '${topic}' are not supported by connection sources.`,
  description: 'Sources forward twin and live commands, live messages, live responses and acknowledgements.',
});

/**
 * Internal: a connector client is not connected (or lost its connection) when asked to consume or publish.
 * Retriable; the runtime's back-off reconnects (STYLE lesson 2). Never sent to HTTP clients as such.
 */
export const notConnected = defineError<{ detail: string }>({
  code: 'connectivity:client.notconnected',
  status: 503,
  retriable: true,
  message: ({ detail }) => `Not connected: ${detail}`,
  description: 'The connection is reconnecting; try again later.',
});
