/**
 * Types shared by the mapper registry, the built-in mappers and their callers (ditto-interfaces.md §12).
 * STYLE lesson 8: a mapper is a function `(message, context) => messages[]`; the registry owns conditions,
 * limits and fan-out, so a built-in mapper only maps one message.
 */
import type { DittoError } from '../errors/ditto-error.js';
import type { ProtocolMessage } from '../protocol/index.js';

/**
 * A message as a connector consumed it (inbound) or as a target publishes it (outbound).
 * Inbound: the payload forms the transport gives (ditto: ExternalMessage with text, bytes or both;
 * src/mapping/payload.ts says who gives which); the content type is `contentType`, else the `content-type`
 * header (case-insensitive). Outbound: exactly one of `textPayload` / `bytePayload` is set and
 * `contentType`, when set, is also the `content-type` header.
 */
export interface ExternalMessage {
  headers: Record<string, string>;
  textPayload?: string;
  bytePayload?: Uint8Array;
  contentType?: string;
}

/** A Ditto Protocol JSON object (§4.1): `topic`, `headers`, `path`, optional `value`, `status`, … */
export type ProtocolJson = Record<string, unknown>;

/** A mapper's inbound messages as JSON, and parsed (the validation every result passes: parse once, use both). */
export interface IncomingOutcome {
  mapper: string;
  result: ProtocolJson[];
  messages: ProtocolMessage[];
}

/** One mapper's outcome for one message: its messages (possibly none: dropped or skipped) or its error. */
export type MapperOutcome<T> = { mapper: string; result: T[] } | { mapper: string; error: DittoError };

/** What a mapper may know about where it runs; fixed for the life of a registry. */
export interface MapperContext {
  /** The connection the mapper belongs to (`{{ connection:id }}`). */
  readonly connectionId: string;
  /** Clock in epoch milliseconds (`{{ time:now }}`, CloudEvents `time`, Normalized); default Date.now. */
  readonly now: () => number;
}

/** Per-message facts that are not in the message itself (ditto: ExternalMessage.getAuthorizationContext). */
export interface InboundOptions {
  /** The first subject of the source's authorization context (`{{ request:subjectId }}`). */
  readonly authorizationSubject?: string;
}

/**
 * One configured mapper instance (ditto: MessageMapper). Either method may be absent: an absent direction
 * maps nothing (Ditto returns an empty list, e.g. `Normalized` inbound, `ConnectionStatus` outbound).
 * A method returns the mapped messages (empty = dropped) or throws/rejects; the registry turns a failure
 * into the mapper's error entry and enforces the 10-message limit.
 */
export interface MessageMapper {
  mapIncoming?(message: ExternalMessage, options: InboundOptions): Promise<ProtocolJson[]> | ProtocolJson[];
  /** `text`: `message` as JSON text when the caller has it; a mapper that sends the JSON as is uses it. */
  mapOutgoing?(message: ProtocolJson, text?: string): Promise<ExternalMessage[]> | ExternalMessage[];
  /** Releases resources (the JavaScript isolate); called once by the registry's close(). */
  close?(): void;
}

/**
 * A mapping engine (ditto: the class behind a `mappingEngine` alias). `validate` runs when a connection is
 * saved (synchronous, cheap, throws `connectivity:message.mapper.config.invalid`); `create` builds the
 * instance once per definition (may be expensive: the JavaScript engine compiles into an isolate).
 */
export interface MappingEngine {
  /** The alias as §12.1 spells it, e.g. `Ditto`, `ImplicitThingCreation`. */
  readonly alias: string;
  /** Mandatory configuration ⇒ usable only through `mappingDefinitions`, not as a bare alias. */
  readonly configurationMandatory: boolean;
  /** ditto: `content-type-blocklist` default (comma list); only `Ditto` and the mappers built on it have one. */
  readonly defaultContentTypeBlocklist?: string;
  validate(options: Record<string, unknown>): void;
  create(options: Record<string, unknown>, context: MapperContext): Promise<MessageMapper> | MessageMapper;
}
