/**
 * The connection model (ditto-interfaces.md §11.1–§11.4): the JSON a client saves, and the normalised form
 * the runtime works with (defaults applied, templates compiled once at save time, STYLE lesson 9).
 */
import type { CompiledTemplate } from '../placeholders/index.js';
import type { ThingPredicate } from '../search/index.js';
import type { FieldSelector } from '../util/field-selector.js';

export type ConnectionStatusValue = 'open' | 'closed';
export type ResourceStatus = 'open' | 'closed' | 'failed' | 'misconfigured' | 'unknown';

/** The connection JSON as stored and returned (§11.1); unknown to us are kept verbatim. */
export interface ConnectionJson {
  id: string;
  name?: string;
  connectionType: string;
  connectionStatus: ConnectionStatusValue;
  uri: string;
  sources?: Record<string, unknown>[];
  targets?: Record<string, unknown>[];
  clientCount?: number;
  failoverEnabled?: boolean;
  validateCertificates?: boolean;
  ca?: string;
  credentials?: Record<string, unknown>;
  processorPoolSize?: number;
  specificConfig?: Record<string, string>;
  mappingDefinitions?: Record<string, unknown>;
  tags?: string[];
  [key: string]: unknown;
}

export type ResponseType = 'response' | 'error' | 'nack';

export interface HeaderMappingEntry {
  name: string;
  template: CompiledTemplate;
}

export interface ReplyTarget {
  address: CompiledTemplate;
  headerMapping: HeaderMappingEntry[];
  expectedResponseTypes: ResponseType[];
}

export interface Source {
  /** Position in `sources` (used in status and metrics). */
  index: number;
  addresses: string[];
  consumerCount: number;
  qos: number;
  /** Subject templates (may use `{{ header:x }}` except on MQTT 3.1.1). */
  authorizationContext: CompiledTemplate[];
  enforcement?: { input: CompiledTemplate; filters: CompiledTemplate[] };
  /** Labels the source asks for before settling (§9); built-in `twin-persisted` is implied for twin writes. */
  acknowledgementRequests: { includes: string[]; filter?: CompiledTemplate };
  declaredAcks: string[];
  headerMapping: HeaderMappingEntry[];
  payloadMapping: string[];
  replyTarget?: ReplyTarget;
}

export type TargetTopicKind =
  | 'twin.events'
  | 'live.messages'
  | 'live.commands'
  | 'live.events'
  | 'policy.announcements'
  | 'connection.announcements';

/** A target topic with its parameters compiled when the connection is saved (as a streaming subscription's). */
export interface TargetTopic {
  kind: TargetTopicKind;
  namespaces?: string[];
  /** RQL in event mode (§3.2), evaluated like a WebSocket session's (src/streaming/views.ts). */
  filter?: ThingPredicate;
  extraFields?: FieldSelector;
  /** `extraFields` as written. */
  extraFieldsText?: string;
}

export interface Target {
  index: number;
  /** The address as written (may hold placeholders). */
  address: string;
  addressTemplate: CompiledTemplate;
  topics: TargetTopic[];
  authorizationContext: string[];
  headerMapping: HeaderMappingEntry[];
  payloadMapping: string[];
  qos: number;
  issuedAcknowledgementLabel?: string;
}

/** A validated connection: the JSON as saved plus the compiled parts the runtime uses. */
export interface Connection {
  id: string;
  json: ConnectionJson;
  type: string;
  desired: ConnectionStatusValue;
  uri: URL;
  clientCount: number;
  failoverEnabled: boolean;
  validateCertificates: boolean;
  ca?: string;
  credentials?: Record<string, unknown>;
  specificConfig: Record<string, string>;
  mappingDefinitions?: Record<string, unknown>;
  sources: Source[];
  targets: Target[];
}

/** ditto: §11.1 connection ID `[a-zA-Z0-9-_:]{1,100}`. */
export const CONNECTION_ID = /^[a-zA-Z0-9\-_:]{1,100}$/;

/** The URI with its password replaced, for status details, logs and error messages. */
export function redactUri(uri: string | URL): string {
  try {
    const url = typeof uri === 'string' ? new URL(uri) : new URL(uri.href);
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return '<unparsable uri>';
  }
}
