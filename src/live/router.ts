/**
 * The live channel (ditto-interfaces.md §2.6, §4.4, §10): live messages and live commands are authorized
 * against the thing's policy, published to the live subscribers that may READ them (WebSocket
 * START-SEND-MESSAGES / START-SEND-LIVE-COMMANDS, connection targets), and the first response with
 * the same `correlation-id` wins. Nothing is persisted; no twin event is emitted.
 */
import { setOriginator, type AuthContext } from '../auth/context.js';
import { commandTimeout } from '../errors/general.js';
import { messageNotAllowed, messageTimeout } from '../errors/streaming.js';
import { thingNotFound, thingNotModifiable } from '../errors/things.js';
import type {
  ErrorResponse,
  ThingCommand,
  ThingCommandResponse,
  ThingEvent,
  ThingMessage,
} from '../model/signals.js';
import {
  CLAIM_SUBJECT,
  fromErrorResponse,
  fromThingCommand,
  fromThingCommandResponse,
  fromThingMessage,
  messagePath,
  type ProtocolMessage,
} from '../protocol/index.js';
import type { SubscriberRegistry } from '../streaming/registry.js';
import type { Subscriber } from '../streaming/subscription.js';
import type { ThingEnforcer } from '../things/policy-directory.js';
import type { ThingsService } from '../things/service.js';

/** What a live subscriber may answer with. */
export type LiveResponse =
  | { kind: 'message'; signal: ThingMessage }
  | { kind: 'command'; signal: ThingCommandResponse }
  | { kind: 'error'; signal: ErrorResponse };

export interface LiveOutcome {
  /** The first response, or undefined after the timeout. */
  response?: LiveResponse;
  /** Who the signal was published to. */
  recipients: ReadonlySet<Subscriber>;
}

const READ = ['READ'] as const;
const WRITE = ['WRITE'] as const;

export class LiveRouter {
  private readonly waiting = new Map<string, (response: LiveResponse) => void>();

  constructor(
    private readonly options: {
      registry: SubscriberRegistry;
      things: ThingsService;
      policies: { enforcerFor(policyId: string | undefined): Promise<ThingEnforcer | undefined> };
    },
  ) {}

  /** The enforcer of an existing thing that `auth` may at least partly read; else 404 `things:thing.notfound`. */
  private async enforcerOf(thingId: string, auth: AuthContext): Promise<ThingEnforcer> {
    const record = await this.options.things.get(thingId);
    const enforcer = record ? await this.options.policies.enforcerFor(record.value!.policyId) : undefined;
    if (!enforcer?.hasPartial('thing:/', auth.subjects, READ)) throw thingNotFound({ thingId });
    return enforcer;
  }

  /**
   * Sends a live message (§2.6): needs WRITE on `message:<path>` (claim messages need none). Waits up to
   * `timeoutMs` for the first response (0: does not wait). Not published to the subscriber with the ID
   * `session` (the WebSocket session that sent it). Throws 404/403 DittoErrors.
   */
  async sendMessage(
    message: ThingMessage,
    auth: AuthContext,
    timeoutMs: number,
    session?: string,
  ): Promise<LiveOutcome> {
    const enforcer = await this.enforcerOf(message.thingId, auth);
    setOriginator(message.headers, auth);
    const path = messagePath(message);
    const isClaim =
      message.subject === CLAIM_SUBJECT && message.direction === 'to' && message.featureId === undefined;
    if (!isClaim && !enforcer.hasUnrestricted('message:' + path, auth.subjects, WRITE)) {
      throw messageNotAllowed({ thingId: message.thingId, path });
    }
    const protocol = fromThingMessage(message);
    return this.publishAndWait(message.headers['correlation-id'], timeoutMs, () =>
      this.options.registry.publishLive(
        'messages',
        message.thingId,
        protocol,
        'message:' + path,
        enforcer,
        message,
        session,
      ),
    );
  }

  /**
   * Sends a live event (§10): needs WRITE on the changed path; published to the subscribers of live events
   * that may READ it (WebSocket, SSE, connection targets) except the subscriber with the ID `session`. No
   * response.
   */
  async sendEvent(event: ThingEvent, auth: AuthContext, session?: string): Promise<void> {
    const enforcer = await this.enforcerOf(event.thingId, auth);
    if (!enforcer.hasUnrestricted('thing:' + event.path, auth.subjects, WRITE))
      throw thingNotModifiable({ thingId: event.thingId });
    setOriginator(event.headers, auth);
    const record = await this.options.things.get(event.thingId);
    this.options.registry.publishEvent('live-events', event, record?.value?.policyId, undefined, session);
  }

  /**
   * Sends a live command (§10): retrieve needs READ, other actions WRITE on the path (like twin). The
   * response of a retrieve is filtered to what the requester may read. Not published to the session that
   * sent it (`command.session`).
   */
  async sendCommand(command: ThingCommand, auth: AuthContext, timeoutMs: number): Promise<LiveOutcome> {
    const enforcer = await this.enforcerOf(command.thingId, auth);
    setOriginator(command.headers, auth);
    const resource = 'thing:' + command.path;
    if (command.action === 'retrieve') {
      if (!enforcer.hasPartial(resource, auth.subjects, READ))
        throw thingNotFound({ thingId: command.thingId });
    } else if (!enforcer.hasUnrestricted(resource, auth.subjects, WRITE)) {
      throw thingNotModifiable({ thingId: command.thingId });
    }
    const protocol = fromThingCommand(command);
    const outcome = await this.publishAndWait(command.headers['correlation-id'], timeoutMs, () =>
      this.options.registry.publishLive(
        'live-commands',
        command.thingId,
        protocol,
        resource,
        enforcer,
        command,
        command.session,
      ),
    );
    const response = outcome.response;
    if (
      response?.kind === 'command' &&
      response.signal.value !== undefined &&
      command.action === 'retrieve'
    ) {
      const value = enforcer.filterReadable('thing', command.path, response.signal.value, auth.subjects);
      outcome.response = { kind: 'command', signal: { ...response.signal, value } };
    }
    return outcome;
  }

  /** A response from a live subscriber; returns whether a request was waiting for it (first one wins). */
  respond(response: LiveResponse): boolean {
    const correlationId = response.signal.headers['correlation-id'];
    if (correlationId === undefined) return false;
    const resolve = this.waiting.get(correlationId);
    if (!resolve) return false;
    this.waiting.delete(correlationId);
    resolve(response);
    return true;
  }

  private async publishAndWait(
    correlationId: string | undefined,
    timeoutMs: number,
    publish: () => ReadonlySet<Subscriber>,
  ): Promise<LiveOutcome> {
    if (timeoutMs <= 0 || correlationId === undefined) return { recipients: publish() };
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<LiveResponse | undefined>((resolve) => {
      this.waiting.set(correlationId, resolve);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const recipients = publish();
      return { recipients, response: await answered };
    } finally {
      clearTimeout(timer);
      this.waiting.delete(correlationId);
    }
  }
}

/** A live response as sent back to the requester, with the request's `correlation-id`. */
export function liveResponseMessage(response: LiveResponse, correlationId: string): ProtocolMessage {
  const headers = { ...response.signal.headers, 'correlation-id': correlationId };
  if (response.kind === 'message') return fromThingMessage({ ...response.signal, headers });
  if (response.kind === 'error') return fromErrorResponse({ ...response.signal, headers });
  return fromThingCommandResponse({ ...response.signal, headers });
}

/** The 408 of an unanswered live message / live command. */
export function liveTimeoutError(kind: 'message' | 'command', timeoutMs: number) {
  return kind === 'message'
    ? messageTimeout({ timeoutMs })
    : commandTimeout({ timeout: `${timeoutMs / 1000}s` });
}
