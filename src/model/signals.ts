/**
 * The internal signals every transport (HTTP, WebSocket, SSE, connections) converts to and from.
 * They mirror the Ditto Protocol (ditto-interfaces.md §4) with the topic already parsed, so a message is
 * parsed once at the edge and never re-parsed on the way through.
 */

/** Ditto headers. Keys are lower-case (Ditto header names are case-insensitive); values are strings as on
 * HTTP. The protocol adapter renders the headers Ditto sends as JSON arrays or booleans
 * (`requested-acks`, `declared-acks`, `response-required`) in their JSON form. */
export type DittoHeaders = Record<string, string>;

export type Channel = 'twin' | 'live';

export type ThingCommandAction = 'create' | 'retrieve' | 'modify' | 'merge' | 'delete';
export type ThingEventAction = 'created' | 'modified' | 'merged' | 'deleted';

/** A command on a thing at a JSON pointer `path` ('/' is the whole thing). */
export interface ThingCommand {
  thingId: string;
  channel: Channel;
  action: ThingCommandAction;
  /** JSON pointer inside the thing, e.g. `/features/lamp/properties/on`; `/` for the thing. */
  path: string;
  value?: unknown;
  /** Field selector of a retrieve (§2.3). */
  fields?: string;
  headers: DittoHeaders;
  /**
   * The subscriber ID of the streaming session (WebSocket) that sent the command: the signals it causes are
   * not published back to that session (ditto: the internal header `ditto-origin`, never read from or written
   * to clients). Set by the transport, never from input, never persisted.
   */
  session?: string;
}

/** The answer to a ThingCommand: `status` 2xx with an optional value, or an error (`error` set). */
export interface ThingCommandResponse {
  thingId: string;
  channel: Channel;
  action: ThingCommandAction;
  path: string;
  status: number;
  value?: unknown;
  headers: DittoHeaders;
}

/** A persisted change of a thing (twin channel) or a live event forwarded from a device. */
export interface ThingEvent {
  thingId: string;
  channel: Channel;
  action: ThingEventAction;
  path: string;
  /** created/modified: the new value at `path`; merged: the merge patch; deleted: absent. */
  value?: unknown;
  revision: number;
  /** ISO-8601 UTC. */
  timestamp: string;
  headers: DittoHeaders;
}

// ---------------------------------------------------------------------------------------------------------------
// Added by the protocol adapter (src/protocol/): the remaining Ditto Protocol signals (ditto-interfaces.md §4).

/** Retrieve of several things at once (§4.2): topic `{ns}/_/things/{channel}/commands/retrieve` or `_/_/…`
 * with `value: {"thingIds": [...]}`. */
export interface RetrieveThings {
  /** The namespace of the topic; undefined for the wildcard `_`. */
  namespace?: string;
  channel: Channel;
  thingIds: string[];
  fields?: string;
  headers: DittoHeaders;
}

/** The answer to RetrieveThings: `value` is the array of (field-selected, readable) things. */
export interface RetrieveThingsResponse {
  namespace?: string;
  channel: Channel;
  status: number;
  things: unknown[];
  headers: DittoHeaders;
}

/** `to` = the thing's inbox (sent to the device), `from` = its outbox (sent by the device). */
export type MessageDirection = 'to' | 'from';

/** A live message (§4.4) or, when `status` is set, the response to one. The payload is the protocol `value`
 * as is: JSON, a string, or base64 text for binary content types; `content-type` stays in the headers. */
export interface ThingMessage {
  thingId: string;
  /** Set when the message addresses a feature (`/features/{featureId}/inbox/...`). */
  featureId?: string;
  direction: MessageDirection;
  /** The message subject; may contain '/'. `claim` is the claim message (thing level only). */
  subject: string;
  payload?: unknown;
  /** Present on responses only. */
  status?: number;
  headers: DittoHeaders;
}

/** One acknowledgement (§4.6, §9) for a thing signal, correlated by the `correlation-id` header. */
export interface Acknowledgement {
  thingId: string;
  channel: Channel;
  label: string;
  status: number;
  payload?: unknown;
  headers: DittoHeaders;
}

/** Several acknowledgements aggregated (§4.6): status 200 when all are 2xx, else 424; one ack ⇒ its status. */
export interface Acknowledgements {
  thingId: string;
  channel: Channel;
  status: number;
  acknowledgements: Acknowledgement[];
  headers: DittoHeaders;
}

/** An error answer (§2.11, §4.2 `errors` criterion) as received on the protocol, e.g. from a live device. */
export interface ErrorResponse {
  /** Which group the error topic named. */
  entityType: 'thing' | 'policy';
  /** `ns:name` of the topic; undefined for the fallback topic `unknown/unknown/…` and wildcards. */
  entityId?: string;
  channel?: Channel;
  error: { status: number; error: string; message: string; description?: string; href?: string } & Record<
    string,
    unknown
  >;
  headers: DittoHeaders;
}

export type PolicyCommandAction = 'create' | 'retrieve' | 'modify' | 'delete';

/** A command on a policy at a path (§4.7) such as `/entries/owner/subjects/nginx:ditto`. */
export interface PolicyCommand {
  policyId: string;
  action: PolicyCommandAction;
  path: string;
  value?: unknown;
  fields?: string;
  headers: DittoHeaders;
}

export interface PolicyCommandResponse {
  policyId: string;
  action: PolicyCommandAction;
  path: string;
  status: number;
  value?: unknown;
  headers: DittoHeaders;
}

/** A persisted change of a policy (§4.7 `…/policies/events/{created|modified|deleted}`); only history streams them. */
export interface PolicyEvent {
  policyId: string;
  action: 'created' | 'modified' | 'deleted';
  /** The policy path, raw keys joined by '/' (`/entries/owner/resources/thing:/features`). */
  path: string;
  /** created/modified: the value at `path`; deleted: absent. */
  value?: unknown;
  revision: number;
  /** ISO-8601 UTC. */
  timestamp: string;
  headers: DittoHeaders;
}

/** §4.7: announced before subjects of a policy expire. */
export interface PolicyAnnouncement {
  policyId: string;
  name: 'subjectDeletion';
  /** ISO-8601 */
  deleteAt: string;
  subjectIds: string[];
  headers: DittoHeaders;
}

/** §4.7: a connection was opened or closed; `at` is `openedAt` / `closedAt` (ISO-8601). */
export interface ConnectionAnnouncement {
  connectionId: string;
  name: 'opened' | 'closed';
  at: string;
  headers: DittoHeaders;
}

/** Search protocol commands from a client (§4.5). */
export type SearchCommand =
  | {
      type: 'subscribe';
      filter?: string;
      options?: string;
      namespaces?: string[];
      fields?: string;
      headers: DittoHeaders;
    }
  | { type: 'request'; subscriptionId: string; demand: number; headers: DittoHeaders }
  | { type: 'cancel'; subscriptionId: string; headers: DittoHeaders };

/** Search protocol events to a client (§4.5). */
export type SearchEvent =
  | { type: 'created'; subscriptionId: string; headers: DittoHeaders }
  | { type: 'next'; subscriptionId: string; items: unknown[]; headers: DittoHeaders }
  | { type: 'complete'; subscriptionId: string; headers: DittoHeaders }
  | {
      type: 'failed';
      subscriptionId: string;
      error: { status: number; error: string; message: string; description?: string; href?: string };
      headers: DittoHeaders;
    };

/**
 * The streaming subscription protocol (history, ditto: protocol-specification-streaming-subscription): commands
 * of a client on `{ns}/{name}/things/twin/streaming/…` or `{ns}/{name}/policies/streaming/…`.
 */
export type StreamingCommand = { entityType: 'thing' | 'policy'; entityId: string; headers: DittoHeaders } & (
  | {
      type: 'subscribeForPersistedEvents';
      /** Negative: relative to the current revision (-1 is the current one). */
      fromHistoricalRevision?: number;
      /** 0 or negative: relative to the current revision (0 is the current one). */
      toHistoricalRevision?: number;
      /** ISO-8601 date-time. */
      fromHistoricalTimestamp?: string;
      toHistoricalTimestamp?: string;
      /** RQL on each event rendered as a partial thing (thing events only). */
      filter?: string;
    }
  | { type: 'request'; subscriptionId: string; demand: number }
  | { type: 'cancel'; subscriptionId: string }
);

/** The streaming subscription protocol's events to a client (`…/streaming/{created|next|complete|failed}`). */
export type StreamingEvent = {
  entityType: 'thing' | 'policy';
  entityId: string;
  subscriptionId: string;
  headers: DittoHeaders;
} & (
  | { type: 'created' | 'complete' }
  | { type: 'next'; item: unknown }
  | {
      type: 'failed';
      error: { status: number; error: string; message: string; description?: string; href?: string };
    }
);
