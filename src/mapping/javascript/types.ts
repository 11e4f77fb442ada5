/**
 * Types of the JavaScript payload mapper (ditto-interfaces.md §12.2).
 */

export type { ExternalMessage } from '../types.js';

/** A Ditto Protocol message (§4.1) as plain JSON data. */
export interface DittoProtocolMessage {
  topic: string;
  path: string;
  headers: Record<string, unknown>;
  value?: unknown;
  status?: number;
  extra?: unknown;
  revision?: number;
  timestamp?: string;
  fields?: string;
  [key: string]: unknown;
}

/** The mapper options as a connection's `mappingDefinitions.<id>.options` carries them (§12.1 `JavaScript`). */
export interface JavaScriptMapperOptions {
  /** Inbound script; `""` or absent ⇒ the payload is taken as Ditto Protocol JSON without running a script. */
  incomingScript?: string;
  /** Outbound script; `""` or absent ⇒ the Ditto Protocol JSON is sent as text without running a script. */
  outgoingScript?: string;
  /** Load bytebuffer.js 5.0.1 (`dcodeIO.ByteBuffer`); `true` or `"true"` (case-insensitive). */
  loadBytebufferJS?: boolean | string;
  /** Load long.js 3.2.0 (`dcodeIO.Long`); `true` or `"true"` (case-insensitive). */
  loadLongJS?: boolean | string;
}

/** Resource limits of one mapper; defaults are Ditto's where Ditto has one (§13). */
export interface JavaScriptLimits {
  /** Per script, in UTF-8 bytes (ditto: maxScriptSizeBytes = 50000). Larger ⇒ config error at creation. */
  maxScriptSizeBytes: number;
  /** Per mapped message (ditto: maxScriptExecutionTime = 500ms). Also bounds loading the scripts. */
  maxExecutionTimeMs: number;
  /** Heap limit of the mapper's isolate in MB (isolated-vm minimum: 8). Exceeding it fails the message. */
  memoryLimitMb: number;
  /** Messages one mapper call may return (ditto: ≤ 10 messages per mapper). */
  maxResultsPerMessage: number;
  /** Upper bound of the serialised results of one mapped message, in UTF-16 code units. */
  maxOutputChars: number;
  /** Messages handed to the isolate in one call (amortises the boundary crossing). */
  maxBatchSize: number;
}

export const DEFAULT_LIMITS: JavaScriptLimits = Object.freeze({
  maxScriptSizeBytes: 50_000,
  maxExecutionTimeMs: 500,
  memoryLimitMb: 32,
  maxResultsPerMessage: 10,
  maxOutputChars: 1_000_000,
  maxBatchSize: 200,
});

/** Outcome of one message of a batch: never throws for a single bad message. */
export type MappingOutcome<T> = { ok: true; value: T } | { ok: false; error: Error };
