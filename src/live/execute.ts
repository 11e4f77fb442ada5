/**
 * Executes a thing command from a streaming or HTTP client with Ditto's header semantics
 * (ditto-interfaces.md §2.1, §9, §10): the channel (twin or live, `live-channel-condition`,
 * `live-channel-timeout-strategy`), `requested-acks` with aggregation, `response-required`, `timeout`.
 * Shared by the WebSocket session and the HTTP routes so both behave the same.
 */
import type { AckRouter } from '../acks/router.js';
import type { AuthContext } from '../auth/context.js';
import { headerInvalid } from '../errors/general.js';
import { thingNotFound } from '../errors/things.js';
import type {
  Acknowledgement,
  Acknowledgements,
  DittoHeaders,
  ThingCommand,
  ThingCommandResponse,
  ThingMessage,
} from '../model/signals.js';
import { headerList } from '../protocol/index.js';
import { compileFilter, parseRql } from '../search/index.js';
import type { ThingsService } from '../things/service.js';
import { withSpecialFields } from '../model/special-fields.js';
import { liveTimeoutError, type LiveResponse, type LiveRouter } from './router.js';

export interface ExecuteDeps {
  things: ThingsService;
  live: LiveRouter;
  acks: AckRouter;
}

export type CommandResult =
  | { kind: 'response'; response: ThingCommandResponse }
  | { kind: 'acks'; acks: Acknowledgements }
  | { kind: 'none' };

export interface ExecuteOptions {
  /** The command timeout in ms (already parsed and bounded by the transport). */
  timeoutMs: number;
  /**
   * ditto: §9 HTTP with `response-required=false` and requested acks answers 202 once the acks are in;
   * WebSocket refuses that combination (`header.invalid`). `timeout=0` with acks is refused on both.
   */
  acksWithoutResponse?: 'await' | 'refuse';
}

/** Requested labels (§9): the header if present, else the channel's default for modifying commands. */
export function requestedAcks(command: Pick<ThingCommand, 'action' | 'channel' | 'headers'>): string[] {
  const header = command.headers['requested-acks'];
  if (header !== undefined) return headerList(header);
  if (command.action === 'retrieve') return command.channel === 'live' ? ['live-response'] : [];
  return [command.channel === 'live' ? 'live-response' : 'twin-persisted'];
}

/**
 * Runs the command. Throws the DittoError of a failed command (the caller renders it as an error
 * response); `header.invalid` when acknowledgements are requested together with `response-required:false`
 * or `timeout:0` (§9).
 */
export async function executeCommand(
  deps: ExecuteDeps,
  command: ThingCommand,
  auth: AuthContext,
  options: ExecuteOptions,
): Promise<CommandResult> {
  const responseRequired = command.headers['response-required'] !== 'false' && options.timeoutMs > 0;
  const explicit =
    command.headers['requested-acks'] !== undefined ? headerList(command.headers['requested-acks']) : [];
  const awaitAcks =
    !responseRequired &&
    explicit.length > 0 &&
    options.timeoutMs > 0 &&
    options.acksWithoutResponse === 'await';
  if (!responseRequired && explicit.length > 0 && !awaitAcks) {
    throw headerInvalid({
      name: 'requested-acks',
      detail: 'acknowledgements cannot be requested with response-required=false or timeout=0',
    });
  }
  let channel = command.channel;
  let conditionMatched: boolean | undefined;
  const liveCondition = command.headers['live-channel-condition'];
  if (channel === 'twin' && liveCondition !== undefined && command.action === 'retrieve') {
    // ditto: §10 a twin retrieve switches to live when the condition holds on the twin.
    conditionMatched = await matchesTwin(deps.things, command.thingId, liveCondition, auth);
    if (conditionMatched) channel = 'live';
  }
  const mainLabel = channel === 'live' ? 'live-response' : 'twin-persisted';
  const labels = responseRequired || awaitAcks ? requestedAcks({ ...command, channel }) : [];
  const onlyMain = labels.length === 0 || (labels.length === 1 && labels[0] === mainLabel);
  const aggregator = onlyMain
    ? undefined
    : deps.acks.expect(command.thingId, channel, labels, options.timeoutMs, command.headers);
  const decorate = (response: ThingCommandResponse): ThingCommandResponse => {
    if (conditionMatched === undefined) return response;
    return {
      ...response,
      headers: { ...response.headers, channel, 'live-channel-condition-matched': String(conditionMatched) },
    };
  };

  let response: ThingCommandResponse;
  try {
    response =
      channel === 'live'
        ? await runLive(deps, { ...command, channel }, auth, options)
        : await deps.things.execute({ ...command, channel: 'twin' }, auth);
  } catch (err) {
    aggregator?.finish();
    throw err;
  }
  response = decorate(response);
  if (aggregator) aggregator.receive(mainAck(response, mainLabel));
  if (!responseRequired) {
    if (aggregator) await aggregator.done;
    return { kind: 'none' };
  }
  if (!aggregator) return { kind: 'response', response };
  return { kind: 'acks', acks: await aggregator.done };
}

function mainAck(response: ThingCommandResponse, label: string): Acknowledgement {
  const ack: Acknowledgement = {
    thingId: response.thingId,
    channel: response.channel,
    label,
    status: response.status,
    headers: response.headers,
  };
  if (response.value !== undefined) ack.payload = response.value;
  return ack;
}

async function runLive(
  deps: ExecuteDeps,
  command: ThingCommand,
  auth: AuthContext,
  options: ExecuteOptions,
): Promise<ThingCommandResponse> {
  const outcome = await deps.live.sendCommand(command, auth, options.timeoutMs);
  const response = outcome.response;
  if (response === undefined) {
    // ditto: §10 live-channel-timeout-strategy=use-twin answers from the twin instead of 408.
    if (command.headers['live-channel-timeout-strategy'] === 'use-twin' && command.action === 'retrieve') {
      const twin = await deps.things.execute({ ...command, channel: 'twin' }, auth);
      return { ...twin, headers: { ...twin.headers, channel: 'twin' } };
    }
    throw liveTimeoutError('command', options.timeoutMs);
  }
  if (response.kind === 'error') {
    const e = response.signal.error;
    return {
      thingId: command.thingId,
      channel: 'live',
      action: command.action,
      path: command.path,
      status: e.status,
      value: e,
      headers: correlated(command.headers, response.signal.headers),
    };
  }
  if (response.kind === 'command')
    return { ...response.signal, headers: correlated(command.headers, response.signal.headers) };
  throw liveTimeoutError('command', options.timeoutMs); // a message answering a command: not a response to it
}

function correlated(request: DittoHeaders, response: DittoHeaders): DittoHeaders {
  return { ...response, 'correlation-id': request['correlation-id'] ?? response['correlation-id'] ?? '' };
}

async function matchesTwin(
  things: ThingsService,
  thingId: string,
  condition: string,
  auth: AuthContext,
): Promise<boolean> {
  const predicate = compileFilter(parseRql(condition, 'event'), { mode: 'event' });
  const readable = await things.readable(thingId, auth);
  if (!readable) throw thingNotFound({ thingId });
  return predicate(withSpecialFields(readable.thing, readable.record));
}

/** ditto: §2.6 the largest message payload (413 `messages:payload.toolarge` beyond). */
export const MAX_MESSAGE_BYTES = 250 * 1024;

export type MessageResult =
  | { kind: 'response'; response: LiveResponse }
  | { kind: 'acks'; acks: Acknowledgements }
  | { kind: 'timeout' }
  | { kind: 'none' };

/**
 * Sends a live message (§2.6, §9) with Ditto's acknowledgement semantics, for HTTP and WebSocket alike:
 * `requested-acks` defaults to `live-response`; other labels are aggregated (the response counts as the
 * `live-response` ack) into 200 or 424; `response-required=false` or `timeout=0` waits for nothing, and
 * requesting acks with `timeout=0` is 400 `header.invalid`.
 */
export async function sendMessage(
  deps: Pick<ExecuteDeps, 'live' | 'acks'>,
  message: ThingMessage,
  auth: AuthContext,
  timeoutMs: number,
  session?: string,
): Promise<MessageResult> {
  const responseRequired = message.headers['response-required'] !== 'false' && timeoutMs !== 0;
  const explicit =
    message.headers['requested-acks'] === undefined
      ? undefined
      : headerList(message.headers['requested-acks']);
  if (timeoutMs === 0 && explicit !== undefined && explicit.length > 0) {
    throw headerInvalid({
      name: 'requested-acks',
      detail: 'acknowledgements cannot be requested with timeout=0',
    });
  }
  const labels = responseRequired ? (explicit ?? ['live-response']) : [];
  const onlyMain = labels.length === 0 || (labels.length === 1 && labels[0] === 'live-response');
  const aggregator = onlyMain
    ? undefined
    : deps.acks.expect(message.thingId, 'live', labels, timeoutMs, message.headers);
  let outcome;
  try {
    outcome = await deps.live.sendMessage(message, auth, responseRequired ? timeoutMs : 0, session);
  } catch (err) {
    aggregator?.finish();
    throw err;
  }
  if (!responseRequired) return { kind: 'none' };
  if (aggregator) {
    if (outcome.response !== undefined)
      aggregator.receive(liveResponseAck(message.thingId, outcome.response));
    return { kind: 'acks', acks: await aggregator.done };
  }
  return outcome.response === undefined
    ? { kind: 'timeout' }
    : { kind: 'response', response: outcome.response };
}

/** A live response as the `live-response` acknowledgement it counts as (§9). */
function liveResponseAck(thingId: string, response: LiveResponse): Acknowledgement {
  const headers: DittoHeaders = response.signal.headers;
  if (response.kind === 'error')
    return {
      thingId,
      channel: 'live',
      label: 'live-response',
      status: response.signal.error.status,
      payload: response.signal.error,
      headers,
    };
  const status = response.kind === 'message' ? (response.signal.status ?? 200) : response.signal.status;
  const payload = response.kind === 'message' ? response.signal.payload : response.signal.value;
  const ack: Acknowledgement = { thingId, channel: 'live', label: 'live-response', status, headers };
  if (payload !== undefined) ack.payload = payload;
  return ack;
}
