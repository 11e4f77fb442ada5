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
import type { Acknowledgement, Acknowledgements, DittoHeaders, ThingCommand, ThingCommandResponse } from '../model/signals.js';
import { headerList } from '../protocol/index.js';
import { compileFilter, parseRql } from '../search/index.js';
import type { Subscriber } from '../streaming/subscription.js';
import type { ThingsService } from '../things/service.js';
import { withSpecialFields } from '../things/service.js';
import { liveTimeoutError, type LiveRouter } from './router.js';

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
  /** The session that sent the command: live commands are not echoed to it. */
  origin?: Subscriber;
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
export async function executeCommand(deps: ExecuteDeps, command: ThingCommand, auth: AuthContext, options: ExecuteOptions): Promise<CommandResult> {
  const responseRequired = command.headers['response-required'] !== 'false' && options.timeoutMs > 0;
  const explicit = command.headers['requested-acks'] !== undefined ? headerList(command.headers['requested-acks']) : [];
  const awaitAcks = !responseRequired && explicit.length > 0 && options.timeoutMs > 0 && options.acksWithoutResponse === 'await';
  if (!responseRequired && explicit.length > 0 && !awaitAcks) {
    throw headerInvalid({ name: 'requested-acks', detail: 'acknowledgements cannot be requested with response-required=false or timeout=0' });
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
  const aggregator = onlyMain ? undefined : deps.acks.expect(command.thingId, channel, labels, options.timeoutMs, command.headers);
  const decorate = (response: ThingCommandResponse): ThingCommandResponse => {
    if (conditionMatched === undefined) return response;
    return { ...response, headers: { ...response.headers, channel, 'live-channel-condition-matched': String(conditionMatched) } };
  };

  let response: ThingCommandResponse;
  try {
    response = channel === 'live' ? await runLive(deps, { ...command, channel }, auth, options) : await deps.things.execute({ ...command, channel: 'twin' }, auth);
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
  const ack: Acknowledgement = { thingId: response.thingId, channel: response.channel, label, status: response.status, headers: response.headers };
  if (response.value !== undefined) ack.payload = response.value;
  return ack;
}

async function runLive(deps: ExecuteDeps, command: ThingCommand, auth: AuthContext, options: ExecuteOptions): Promise<ThingCommandResponse> {
  const outcome = await deps.live.sendCommand(command, auth, options.timeoutMs, options.origin);
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
    return { thingId: command.thingId, channel: 'live', action: command.action, path: command.path, status: e.status, value: e, headers: correlated(command.headers, response.signal.headers) };
  }
  if (response.kind === 'command') return { ...response.signal, headers: correlated(command.headers, response.signal.headers) };
  throw liveTimeoutError('command', options.timeoutMs); // a message answering a command: not a response to it
}

function correlated(request: DittoHeaders, response: DittoHeaders): DittoHeaders {
  return { ...response, 'correlation-id': request['correlation-id'] ?? response['correlation-id'] ?? '' };
}

async function matchesTwin(things: ThingsService, thingId: string, condition: string, auth: AuthContext): Promise<boolean> {
  const predicate = compileFilter(parseRql(condition, 'event'), { mode: 'event' });
  const readable = await things.readable(thingId, auth);
  if (!readable) throw thingNotFound({ thingId });
  return predicate(withSpecialFields(readable.thing, readable.record));
}

