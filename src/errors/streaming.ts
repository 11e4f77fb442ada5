/**
 * Errors of the streaming transports (WebSocket, SSE; ditto-interfaces.md §5, §6) and of live messages
 * (§2.6, §10). Acknowledgement errors live in protocol.ts; RQL errors in search.ts.
 */
import { defineError } from './ditto-error.js';

// ditto: GatewayWebsocketSessionExpiredException — emitted before the socket of an expired JWT is closed.
export const websocketSessionExpired = defineError<void>({
  code: 'gateway:websocket.session.expired',
  status: 401,
  message: () => 'The websocket session expired together with its JWT.',
  description: 'Send a fresh token with JWT-TOKEN?jwtToken=<jwt> before the current one expires.',
});

// ditto: GatewayWebsocketSessionClosedException — an invalid JWT-TOKEN refresh closes the session.
export const websocketSessionClosed = defineError<{ detail: string }>({
  code: 'gateway:websocket.session.closed',
  status: 403,
  message: ({ detail }) => `The websocket session was closed: ${detail}`,
  description: 'A refreshed token must be valid and authenticate the same subjects as the session.',
});

export const messagePayloadTooLarge = defineError<{ size: number; max: number }>({
  code: 'messages:payload.toolarge',
  status: 413,
  message: ({ size, max }) =>
    `The size of '${size}' bytes exceeds the maximal allowed Message payload size of '${max}' bytes.`,
  description: 'Reduce the size of the message payload.',
});

export const messageTimeout = defineError<{ timeoutMs: number }>({
  code: 'messages:message.timeout',
  status: 408,
  message: ({ timeoutMs }) => `No response to the message arrived within ${timeoutMs} ms.`,
  description: 'Make sure a subscriber of the thing answers the message, or increase the timeout.',
});

export const messageNotAllowed = defineError<{ thingId: string; path: string }>({
  code: 'messages:send.notallowed',
  status: 403,
  message: ({ thingId, path }) =>
    `You are not allowed to send messages to '${path}' of the Thing '${thingId}'.`,
  description: 'Check the WRITE permission on the message: resource in the policy of the thing.',
});

export const searchSubscriptionNotFound = defineError<{ subscriptionId: string }>({
  code: 'thing-search:subscription.notfound',
  status: 404,
  message: ({ subscriptionId }) => `The search subscription '${subscriptionId}' does not exist.`,
  description: 'Subscribe first and use the subscriptionId of the created event.',
});

// ditto: protocol-specification-streaming-subscription — errors of a streaming subscription (history), sent
// inside its `failed` event.

/** ditto: StreamingSubscriptionNotFoundException — a request or cancel names no (or no longer a) subscription. */
export const streamingSubscriptionNotFound = defineError<{ subscriptionId: string }>({
  code: 'streaming.subscription.not.found',
  status: 404,
  message: ({ subscriptionId }) => `No subscription with ID '${subscriptionId}' exists.`,
  description:
    'Subscribe first and use the subscriptionId of the created event; a subscription ends after complete, failed, cancel or 60 s without a request.',
});

/** ditto: StreamingSubscriptionProtocolErrorException — the client broke the reactive-streams rules (e.g. a demand below 1). */
export const streamingSubscriptionProtocolError = defineError<{ detail: string }>({
  code: 'streaming.subscription.protocol.error',
  status: 400,
  message: ({ detail }) => detail,
  description: 'Request a positive demand of a subscription that is still open.',
});

/** ditto: StreamingSubscriptionTimeoutException — no request for the idle timeout. */
export const streamingSubscriptionTimeout = defineError<{ subscriptionId: string }>({
  code: 'streaming.subscription.timeout',
  status: 408,
  message: ({ subscriptionId }) =>
    `The subscription '${subscriptionId}' stopped due to a lack of interaction.`,
  description: 'Send a request within 60 s of the previous one.',
});
