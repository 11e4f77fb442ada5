/**
 * Ditto Protocol messages received on a WebSocket session (ditto-interfaces.md §5, §4, §9, §10): parsed
 * once, dispatched by kind, answered on the same socket with the request's `correlation-id` (generated
 * when missing). Errors are protocol errors on the entity's topic, or the fallback topic
 * `unknown/unknown/things/twin/errors` when the message names no entity.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AckRouter } from '../../acks/router.js';
import type { AuthContext } from '../../auth/context.js';
import { unknownSignal } from '../../errors/protocol.js';
import { messagePayloadTooLarge } from '../../errors/streaming.js';
import { executeCommand, MAX_MESSAGE_BYTES, sendMessage } from '../../live/execute.js';
import { liveResponseMessage, liveTimeoutError, type LiveRouter } from '../../live/router.js';
import type { DittoHeaders } from '../../model/signals.js';
import {
  DEFAULT_TIMEOUT_MS,
  entityIdOf,
  fromAcknowledgements,
  fromPolicyCommandResponse,
  fromRetrieveThingsResponse,
  fromThingCommandResponse,
  ORIGIN_HEADER,
  parseProtocolMessage,
  parseTimeout,
  toSignal,
  type AdaptedSignal,
  type ProtocolMessage,
} from '../../protocol/index.js';
import type { PoliciesService } from '../../policies/service.js';
import type { SearchService } from '../../search/service.js';
import type { SubscriberRegistry } from '../../streaming/registry.js';
import type { ThingsService } from '../../things/service.js';
import { executePolicyCommand } from './policies.js';
import type { StreamingSubscriptions } from '../../history/subscriptions.js';
import type { WsSearch } from './search.js';
import type { WsSession } from './session.js';

export interface WsDeps {
  things: ThingsService;
  registry: SubscriberRegistry;
  live: LiveRouter;
  acks: AckRouter;
  search?: SearchService;
  /** Policy commands (§4.7); without it they are answered `protocoladapter:unknown.signal`. */
  policies?: PoliciesService;
  logger: Logger;
  /** Verifies a refreshed JWT (`JWT-TOKEN`) for the session's current auth; throws a DittoError. */
  refreshAuth?: (token: string, current: AuthContext) => Promise<AuthContext>;
  onClose?: (session: WsSession) => void;
  /** The search protocol handler of a session (§4.5), created on first use. */
  searchFor?: (session: WsSession) => WsSearch;
  /** The streaming subscription protocol handler (history) of a session, created on first use. */
  streamingFor?: (session: WsSession) => StreamingSubscriptions | undefined;
}

// ditto: §4.1 commands wait at most 60 s, messages (claim) up to 600 s.
const MAX_COMMAND_TIMEOUT_MS = 60_000;
const MAX_MESSAGE_TIMEOUT_MS = 600_000;

/** Handles one Ditto Protocol text frame of `session`. */
export async function handleProtocolMessage(text: string, session: WsSession, deps: WsDeps): Promise<void> {
  let msg: ProtocolMessage;
  let adapted: AdaptedSignal;
  try {
    msg = parseProtocolMessage(text);
  } catch (err) {
    session.fail(err, { headers: correlationOf(text) });
    return;
  }
  if (!msg.headers['correlation-id']) msg.headers['correlation-id'] = randomUUID();
  delete msg.headers[ORIGIN_HEADER];
  const entityId = entityIdOf(msg.topic);
  const isPolicy = msg.topic.group === 'policies';
  const context = {
    ...(isPolicy ? { policyId: entityId } : { thingId: entityId }),
    channel: msg.topic.channel,
    headers: { 'correlation-id': msg.headers['correlation-id'] },
    path: msg.path,
  };
  try {
    adapted = toSignal(msg);
    await dispatch(adapted, session, deps);
  } catch (err) {
    // ditto: §5 no response with response-required:false — except the header error that refuses it (§9).
    if (
      msg.headers['response-required'] === 'false' &&
      (err as { error?: string }).error !== 'header.invalid'
    )
      return;
    session.fail(err, context);
  }
}

async function dispatch(adapted: AdaptedSignal, session: WsSession, deps: WsDeps): Promise<void> {
  const auth = session.auth;
  switch (adapted.kind) {
    case 'thing.command': {
      const command = adapted.signal;
      command.session = session.id;
      const result = await executeCommand(deps, command, auth, {
        timeoutMs: parseTimeout(command.headers['timeout'], DEFAULT_TIMEOUT_MS, MAX_COMMAND_TIMEOUT_MS),
      });
      if (result.kind === 'response') session.send(fromThingCommandResponse(result.response));
      else if (result.kind === 'acks') session.send(fromAcknowledgements(result.acks));
      return;
    }
    case 'things.retrieve': {
      const { signal } = adapted;
      const things: unknown[] = [];
      for (const thingId of signal.thingIds) {
        try {
          const response = await deps.things.execute(
            {
              thingId,
              channel: 'twin',
              action: 'retrieve',
              path: '/',
              headers: signal.headers,
              ...(signal.fields === undefined ? {} : { fields: signal.fields }),
            },
            auth,
          );
          things.push(response.value);
        } catch {
          // ditto: §2.5 missing and unreadable things are omitted from the list
        }
      }
      const response = {
        channel: signal.channel,
        status: 200,
        things,
        headers: { 'correlation-id': signal.headers['correlation-id'] ?? '' },
      };
      session.send(
        fromRetrieveThingsResponse(
          signal.namespace === undefined ? response : { ...response, namespace: signal.namespace },
        ),
      );
      return;
    }
    case 'thing.response':
      deps.live.respond({ kind: 'command', signal: adapted.signal });
      return;
    case 'error':
      deps.live.respond({ kind: 'error', signal: adapted.signal });
      return;
    case 'thing.message': {
      const message = adapted.signal;
      if (message.status !== undefined) {
        deps.live.respond({ kind: 'message', signal: message });
        return;
      }
      // ditto: §2.6 the payload limit of HTTP messages holds here too.
      const size = Buffer.byteLength(JSON.stringify(message.payload ?? null));
      if (size > MAX_MESSAGE_BYTES) throw messagePayloadTooLarge({ size, max: MAX_MESSAGE_BYTES });
      const timeoutMs = parseTimeout(message.headers['timeout'], DEFAULT_TIMEOUT_MS, MAX_MESSAGE_TIMEOUT_MS);
      const result = await sendMessage(deps, message, auth, timeoutMs, session.id);
      if (result.kind === 'timeout') throw liveTimeoutError('message', timeoutMs);
      if (result.kind === 'acks') session.send(fromAcknowledgements(result.acks));
      else if (result.kind === 'response')
        session.send(liveResponseMessage(result.response, message.headers['correlation-id'] ?? ''));
      return;
    }
    case 'thing.event': {
      const event = adapted.signal;
      if (event.channel !== 'live') throw unknownSignal({ signal: 'twin events cannot be sent by clients' });
      await deps.live.sendEvent(event, auth, session.id);
      return;
    }
    case 'ack':
      deps.acks.issue(adapted.signal, session);
      return;
    case 'policy.command': {
      if (!deps.policies) throw unknownSignal({ signal: 'policy commands' });
      session.send(
        fromPolicyCommandResponse(await executePolicyCommand(deps.policies, adapted.signal, auth)),
      );
      return;
    }
    case 'search.command': {
      const search = deps.searchFor?.(session);
      if (!search) throw unknownSignal({ signal: 'search' });
      await search.handle(adapted.signal);
      return;
    }
    case 'streaming.command': {
      const streaming = deps.streamingFor?.(session);
      if (!streaming) throw unknownSignal({ signal: 'streaming' });
      streaming.handle(adapted.signal, auth);
      return;
    }
    default:
      throw unknownSignal({ signal: adapted.kind });
  }
}

/** The correlation-id of a frame that is JSON but not a valid protocol message, to answer it correlated. */
function correlationOf(text: string): DittoHeaders {
  try {
    const json: unknown = JSON.parse(text);
    const id = (json as { headers?: Record<string, unknown> })?.headers?.['correlation-id'];
    return typeof id === 'string' ? { 'correlation-id': id } : {};
  } catch {
    return {}; // not JSON: nothing to correlate
  }
}
