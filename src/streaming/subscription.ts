/**
 * Subscriptions of the streaming transports (ditto-interfaces.md §5 control-message parameters, §6 SSE
 * query parameters, §15 consumer groups): what a subscriber wants of one kind of signal, parsed and
 * compiled once when it subscribes.
 */
import type { AuthContext } from '../auth/context.js';
import { headerInvalid } from '../errors/general.js';
import type { ProtocolJson, ProtocolMessage } from '../protocol/message.js';
import { compileFilter, parseNamespaces, parseRql, type ThingPredicate } from '../search/index.js';
import { parseFieldSelector, type FieldSelector } from '../util/field-selector.js';

/** The kinds of signals a subscriber can start (one per WebSocket START-SEND-* control message). */
export type StreamKind = 'events' | 'messages' | 'live-commands' | 'live-events' | 'policy-announcements';

export interface Subscription {
  kind: StreamKind;
  /** Only signals of things in these namespaces (§5 `namespaces`). */
  namespaces?: ReadonlySet<string>;
  /** RQL in event mode (§3.2), evaluated on the signal rendered as a partial thing plus `extra`. */
  filter?: ThingPredicate;
  /** `extraFields`: parts of the thing added to each signal as `extra` (§5, §6). */
  extraFields?: FieldSelector;
  extraFieldsText?: string;
  /**
   * WebSocket `fields`: the event's value is projected like a partial thing (`thingId`, paths…); an event
   * with nothing selected at its path is not sent. (SSE applies `fields` itself, with `_context` etc.)
   */
  projection?: FieldSelector;
  projectionText?: string;
  /** Consumer group (§15): each signal goes to one member of the group. */
  group?: string;
  /** Transport-specific narrowing (SSE `ids`, a thing's sub-path, a message mailbox). */
  match?: (thingId: string, path: string) => boolean;
  /**
   * Only the twin events this instance made (scale-out, docs/scale-out.md): connection targets publish each
   * change once per cluster, from the instance that has it first and in order.
   */
  localOnly?: boolean;
}

/** One signal as handed to one subscriber: pruned for its subjects, with its `extra`. */
export interface Delivery {
  kind: StreamKind;
  thingId: string;
  /** The protocol message as this subscriber may see it (pruned, `extra` set). */
  message: ProtocolMessage;
  /** The message as Ditto Protocol JSON (§4.1), rendered once per distinct shape; read only: it is shared. */
  json: ProtocolJson;
  /** `json` as text, once per distinct shape (shared by subscribers). */
  text: string;
  /** `text` as UTF-8, encoded once by the first transport that needs bytes (shared like `text`). */
  bytes?: Buffer;
  /** `text` as an unmasked WebSocket text frame, built once and written to every session as is. */
  frame?: Buffer;
  /** Events: the readable part of the change as a partial thing with `thingId` (SSE renders this). */
  partial?: Record<string, unknown>;
  /** The typed signal (ThingEvent, ThingMessage, ThingCommand) for transports that need it. */
  signal: unknown;
  /** The signal's views for other subscribers (consumer-group redelivery) and its thing. */
  source: DeliverySource;
}

export interface DeliverySource {
  /** Renders the same signal for another subscriber (consumer-group redelivery). */
  deliveryFor(subscriber: Subscriber, subscription: Subscription): Delivery | undefined;
  /** Events: the thing after the change as `subscriber` may read it (`thing-json:` placeholders), else undefined. */
  readableThing(subscriber: Subscriber): Record<string, unknown> | undefined;
}

/** Why a signal in a subscriber's namespaces did not reach it: no READ permission, or its filter did not match. */
export type Miss = 'unreadable' | 'filtered';

/**
 * A WebSocket session, an SSE stream or a connection target (src/connectivity/outbound.ts). The registry calls
 * `offer` once per signal that passed the subscription; it runs synchronously on the bus and must not block.
 */
export interface Subscriber {
  readonly id: string;
  readonly auth: AuthContext;
  /** Sessions with the same subjects share pruned views of a signal. */
  readonly subjectsKey: string;
  /**
   * Takes a delivery or refuses it (closed, buffer full). A refused delivery of a consumer group goes to
   * another member; outside a group it is dropped (ditto: §5 publisher buffer overflow is dropped).
   */
  offer(delivery: Delivery): boolean;
  /**
   * Optional: told of each signal of a subscribed kind, in the subscription's namespaces, that `offer` did not
   * get because of `miss` (solo subscriptions; connection metrics count these as `filtered`).
   */
  missed?(miss: Miss, thingId: string, headers: Record<string, string>): void;
}

/** The parameters of §5/§6: `filter`, `namespaces`, `extraFields`, `group` (and `fields`, kept by SSE). */
export interface SubscriptionParams {
  filter?: string;
  namespaces?: string;
  extraFields?: string;
  group?: string;
}

const GROUP_NAME = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Compiles the parameters. Throws `rql.expression.invalid`, `thing-search:search.namespaces.invalid`,
 * `json.fieldselector.invalid` or `header.invalid` (group name) — the subscription is then not created.
 */
export function compileSubscription(kind: StreamKind, params: SubscriptionParams): Subscription {
  const subscription: Subscription = { kind };
  if (params.namespaces !== undefined && params.namespaces !== '') {
    subscription.namespaces = new Set(parseNamespaces(params.namespaces));
  }
  if (params.filter !== undefined && params.filter !== '') {
    subscription.filter = compileFilter(parseRql(params.filter, 'event'), { mode: 'event' });
  }
  if (params.extraFields !== undefined && params.extraFields !== '') {
    subscription.extraFields = parseFieldSelector(params.extraFields);
    subscription.extraFieldsText = params.extraFields;
  }
  if (params.group !== undefined) {
    if (!GROUP_NAME.test(params.group)) {
      throw headerInvalid({
        name: 'group',
        detail: `<${params.group}> is not a valid consumer group name ([A-Za-z0-9._:-]{1,100})`,
      });
    }
    subscription.group = params.group;
  }
  return subscription;
}
