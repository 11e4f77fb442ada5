/**
 * Error responses ↔ Ditto Protocol (ditto-interfaces.md §2.11, §4.2 `errors`, §5):
 * `{ns}/{name}/things/{channel}/errors`, `{ns}/{name}/policies/errors`, and without entity context the
 * fallback `unknown/unknown/things/twin/errors` (code `FALLBACK_ID`). `value` is the error JSON, `status` its
 * status; the request's headers (correlation ID) are preserved.
 */
import { copyOf } from '../util/objects.js';
import type { DittoError } from '../errors/ditto-error.js';
import { illegalAdaptable, unknownTopicPath } from '../errors/protocol.js';
import { parseNamespacedId } from '../model/ids.js';
import type { Channel, DittoHeaders, ErrorResponse } from '../model/signals.js';
import { isPlainObject } from '../util/json-pointer.js';
import type { ProtocolMessage } from './message.js';
import { formatTopic, type TopicPath } from './topic.js';

export const FALLBACK_NAMESPACE = 'unknown';
export const FALLBACK_NAME = 'unknown';

export interface ErrorContext {
  /** The thing the failed request addressed (takes precedence over policyId). */
  thingId?: string;
  policyId?: string;
  /** Channel of a thing error; default `twin`. */
  channel?: Channel;
  /** The headers of the failed request; `correlation-id` must be kept. */
  headers: DittoHeaders;
  /** Path of the failed request; default `/`. */
  path?: string;
}

function splitId(id: string | undefined): { namespace: string; name: string } | undefined {
  return id === undefined ? undefined : parseNamespacedId(id);
}

/** Renders `error` as a Ditto Protocol error response for the entity in `context`. */
export function errorToProtocol(error: DittoError, context: ErrorContext): ProtocolMessage {
  const thing = splitId(context.thingId);
  const policy = thing ? undefined : splitId(context.policyId);
  let topic: TopicPath;
  if (thing) topic = { ...thing, group: 'things', channel: context.channel ?? 'twin', criterion: 'errors' };
  else if (policy) topic = { ...policy, group: 'policies', criterion: 'errors' };
  else
    topic = {
      namespace: FALLBACK_NAMESPACE,
      name: FALLBACK_NAME,
      group: 'things',
      channel: 'twin',
      criterion: 'errors',
    };

  const headers: DittoHeaders = copyOf(context.headers);
  // Extra headers of the error (e.g. an ETag on 412) travel with it as on HTTP.
  for (const [k, v] of Object.entries(error.headers ?? {})) headers[k.toLowerCase()] = v;
  return { topic, headers, path: context.path ?? '/', value: error.toJSON(), status: error.status };
}

/** Reads an error response, e.g. a live device answering a live command with an error. */
export function toErrorResponse(msg: ProtocolMessage): ErrorResponse {
  const { topic } = msg;
  if (topic.criterion !== 'errors') {
    throw unknownTopicPath({ topic: formatTopic(topic) }, { description: 'Expected an errors topic.' });
  }
  const error = msg.value;
  if (
    !isPlainObject(error) ||
    !Number.isInteger(error.status) ||
    typeof error.error !== 'string' ||
    typeof error.message !== 'string'
  ) {
    throw illegalAdaptable({
      detail: "The value of an error response must be an error JSON with 'status', 'error' and 'message'.",
    });
  }
  const response: ErrorResponse = {
    entityType: topic.group === 'policies' ? 'policy' : 'thing',
    error: error as ErrorResponse['error'],
    headers: msg.headers,
  };
  const fallback = topic.namespace === FALLBACK_NAMESPACE && topic.name === FALLBACK_NAME;
  const id = `${topic.namespace}:${topic.name}`;
  if (!fallback && parseNamespacedId(id)) response.entityId = id;
  if (topic.channel !== undefined) response.channel = topic.channel;
  return response;
}

/** Re-renders a received error response (e.g. to forward a device's error to the requester). */
export function fromErrorResponse(e: ErrorResponse): ProtocolMessage {
  const id = e.entityId === undefined ? undefined : parseNamespacedId(e.entityId);
  const { namespace, name } = id ?? { namespace: FALLBACK_NAMESPACE, name: FALLBACK_NAME };
  const topic: TopicPath =
    e.entityType === 'policy'
      ? { namespace, name, group: 'policies', criterion: 'errors' }
      : { namespace, name, group: 'things', channel: e.channel ?? 'twin', criterion: 'errors' };
  return { topic, headers: e.headers, path: '/', value: e.error, status: e.error.status };
}
