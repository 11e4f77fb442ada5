/**
 * The connector contract (STYLE lesson 1: a connector is a folder plus a spec). A connector knows one broker
 * protocol; the runtime (src/connectivity) owns everything else: the life cycle and back-off, mapping,
 * enforcement, acknowledgements, metrics and logs. Connectors live in connectors/<type>/ and are listed in
 * connectors/index.ts; only src/main.ts (and tests) hand that list to the runtime.
 */
import type { Connection, Source, Target } from './model.js';

/** A message as a connector consumed it. */
export interface InboundMessage {
  /** Transport headers (lower-case names), e.g. MQTT 5 user properties plus `mqtt.topic`, `mqtt.qos`, `mqtt.retain`. */
  headers: Record<string, string>;
  payload: Buffer;
  /**
   * Whether the mappers get the payload as text besides the bytes (ditto: each protocol's consumer builds its
   * ExternalMessage with text and bytes, or bytes only; stated by the connector's `inboundPayload`), and how
   * it decodes: `utf-8` always as UTF-8, `charset` with the charset of the `content-type` header (default
   * UTF-8). Absent: bytes only. The runtime decodes when a mapper first reads the text.
   */
  text?: 'utf-8' | 'charset';
  /** The concrete address it came from (MQTT: the topic). Used by `{{ source:address }}`. */
  address: string;
  /**
   * Settles the message positively: the broker may forget it (MQTT: PUBACK). Called exactly once, only after
   * the twin write is durable or the message was deliberately dropped (STYLE lesson 7).
   */
  ack(): void;
  /** Settles negatively; `redeliver` asks for redelivery (MQTT: reconnect when `reconnectForRedelivery`). */
  nack(redeliver: boolean): void;
}

/** A message to publish. Headers are external headers (after header mapping). */
export interface OutboundMessage {
  address: string;
  headers: Record<string, string>;
  payload: Buffer;
  contentType?: string;
}

/** A consumer started by a client for one address of a source. */
export interface SourceHandle {
  /** Stops delivering new messages (in-flight cap reached); already delivered ones still settle. */
  pause(): void;
  resume(): void;
}

/**
 * What the endpoint answered to a write, for protocols that answer (HTTP push, §11.6); brokers that only
 * confirm have none. The runtime turns it into the issued acknowledgement or the live response (§9).
 */
export interface WriteResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  payload: Buffer;
}

export interface TargetHandle {
  /**
   * Publishes; resolves when the broker confirmed (MQTT QoS ≥ 1: PUBACK) — with the endpoint's answer when
   * the protocol has one — and rejects otherwise. A rejection because the endpoint answered with a failure
   * status carries that answer as `response` (see `responseOf`).
   */
  write(message: OutboundMessage): Promise<WriteResponse | void>;
}

/** The endpoint's answer a rejected write carries, if any. */
export function responseOf(err: unknown): WriteResponse | undefined {
  const response = (err as { response?: WriteResponse } | null)?.response;
  return response !== undefined && typeof response.status === 'number' ? response : undefined;
}

export interface ClientContext {
  connection: Connection;
  /** 0-based index of this client (clientCount > 1 runs several). */
  clientIndex: number;
  /**
   * Whether other clients consume the same sources: clientCount > 1, or other instances of a cluster
   * (docs/scale-out.md). A connector that can must then split the load through the broker's groups
   * (MQTT 5: `$share/<group>/<filter>`); Kafka groups and AMQP queues share by themselves.
   */
  shared: boolean;
  /** Called once when an open client loses its connection; the runtime then reconnects with back-off. */
  onDisconnect(error: Error): void;
}

/**
 * One physical client of a connection. The runtime calls connect() (again after close() on reconnect),
 * then createSource/createTarget for each source address × consumer and each target. Implementations turn
 * the broker library's own reconnection off: the runtime's state machine is the single owner of status.
 */
export interface ConnectorClient {
  /**
   * Resolves when connected; rejects with the classified error (`connectError`, src/connectivity/errors.ts):
   * retriable unless `retriable === false`.
   */
  connect(): Promise<void>;
  createSource(
    source: Source,
    address: string,
    consumerIndex: number,
    deliver: (message: InboundMessage) => void,
  ): Promise<SourceHandle>;
  createTarget(target: Target): Promise<TargetHandle>;
  /** Closes the client; in-flight messages that were not acked are redelivered by the broker later. */
  close(): Promise<void>;
}

/** What a connector supports; the runtime, validation and the conformance suite read these. */
export interface ConnectorCapabilities {
  sources: boolean;
  targets: boolean;
  /** Highest clientCount allowed (MQTT 3.1.1: 1); validation refuses more, naming the field. */
  maxClientCount: number;
  /** Highest consumerCount per source address; validation refuses more, naming the field. */
  maxConsumerCount: number;
  /** Whether several clients/consumers share a source's load (broker-side groups, MQTT 5 shared subscriptions). */
  consumerGroups: boolean;
  /** Whether arbitrary application headers travel (MQTT 3.1.1: no). */
  applicationHeaders: boolean;
  /**
   * Whether `nack(true)` makes the broker deliver the message again to the same client (the conformance
   * suite checks it). MQTT: no — only a reconnect (`reconnectForRedelivery`) brings unacknowledged messages back.
   */
  redeliveryOnNack: boolean;
  /** Whether the tests can restart the broker underneath (local brokers). */
  brokerRestart: boolean;
  /**
   * Whether mapping scripts get an `application/octet-stream` payload (MQTT 3.1.1: any payload) as
   * `textPayload` too, besides `bytePayload` (ditto: MQTT and Kafka always give both; AMQP bytes only).
   */
  binaryPayloadAsText: boolean;
}

export interface ConnectorDefinition<C = Record<string, string>> {
  /** The `connectionType` (§11.1). */
  type: string;
  /** JSON schema of `specificConfig` (values are strings, §11.1); secrets marked with `x-secret: true`. */
  configSchema: Record<string, unknown>;
  capabilities: ConnectorCapabilities;
  /**
   * Markdown: the payload forms mapping scripts get from this connector's sources (`InboundMessage.text`;
   * Ditto's JavaScript mapping API `textPayload` / `bytePayload`) and which Ditto code it follows. Rendered
   * into the generated README.
   */
  inboundPayload: string;
  /** Markdown on behaviour the schema cannot tell (acknowledgements, responses), appended to the generated README. */
  notes?: string;
  /** How the connector does TLS (`ca`, `validateCertificates`, client certificates), Markdown for its README. */
  tls?: string;
  /** Extra checks of a whole connection (addresses, qos, headers); throws `connection.configuration.invalid`. */
  validate(connection: Connection): void;
  /** The typed specificConfig (defaults applied). */
  parseConfig(connection: Connection): C;
  createClient(context: ClientContext): ConnectorClient;
}

/** Declares a connector (identity function that pins the types). */
export function defineConnector<C>(definition: ConnectorDefinition<C>): ConnectorDefinition<C> {
  return definition;
}

export type AnyConnector = ConnectorDefinition<any>;
