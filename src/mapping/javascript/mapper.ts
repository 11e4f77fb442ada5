/**
 * Ditto's `JavaScript` payload mapper (ditto-interfaces.md §12.1, §12.2, §14 item 14).
 *
 * `createJavaScriptMapper(options, limits?)` validates the options, compiles the scripts ONCE into a
 * dedicated isolate and returns a mapper that reuses them for every message. Called by the mapper registry
 * when a connection's mapping definition is loaded; configuration problems reject here, not on the first
 * message:
 *   - a script larger than `maxScriptSizeBytes` ⇒ `connectivity:message.mapper.config.invalid` (400);
 *   - a script that does not compile or throws / times out while loading ⇒ `connectivity:message.mapper.config.failed` (400).
 *
 * The mapper's methods are asynchronous: the script runs on isolated-vm's thread pool, so a slow script never
 * blocks Node's event loop. Calls made in the same tick are handed to the isolate as one batch (up to
 * `maxBatchSize`), which is what makes the sandbox fast; batches of one mapper run one after the other.
 *   - `mapIncoming(msg)` → the Ditto Protocol messages (`[]` when the script returned null/undefined). The
 *     script gets the payload forms the message has, as Ditto's scripts do (src/mapping/payload.ts):
 *     `textPayload` a string or null, `bytePayload` an ArrayBuffer (a copy) or null. Both cross into the
 *     isolate before the script runs: the wrapper passes them to `mapToDittoProtocolMsg` as arguments, so
 *     neither can be produced on demand there.
 *   - `mapOutgoing(msg)` → the external messages (`[]` when dropped).
 *   - both reject with `connectivity:message.mapping.failed` (DittoError, 400, not retriable) when the script
 *     throws, times out, runs out of memory or stack, or returns an invalid result; the reason and, when
 *     known, the script line number are in the message. Other messages are unaffected.
 *   - `mapIncomingBatch` / `mapOutgoingBatch` never reject for a single message: one outcome per input.
 *   - `close()` disposes the isolate; later calls reject.
 */
import { messageMapperConfigFailed, messageMapperConfigInvalid } from '../../errors/mapping.js';
import { findHeader } from '../payload.js';
import {
  inboundResults,
  mappingFailed,
  outboundResults,
  passThroughIncoming,
  passThroughOutgoing,
} from './results.js';
import {
  createSandbox,
  ScriptLoadError,
  type Direction,
  type Piece,
  type Sandbox,
  type SandboxItem,
} from './sandbox.js';
import {
  DEFAULT_LIMITS,
  type DittoProtocolMessage,
  type ExternalMessage,
  type JavaScriptLimits,
  type JavaScriptMapperOptions,
  type MappingOutcome,
} from './types.js';

export interface JavaScriptMapper {
  mapIncoming(message: ExternalMessage): Promise<DittoProtocolMessage[]>;
  mapOutgoing(message: DittoProtocolMessage): Promise<ExternalMessage[]>;
  mapIncomingBatch(messages: ExternalMessage[]): Promise<Array<MappingOutcome<DittoProtocolMessage[]>>>;
  mapOutgoingBatch(messages: DittoProtocolMessage[]): Promise<Array<MappingOutcome<ExternalMessage[]>>>;
  /** Times the isolate was recreated after a memory-limit kill (for metrics and tests). */
  readonly restarts: number;
  close(): void;
}

/** Ditto reads these options with Boolean.parseBoolean: `true` or "true" in any case. */
export function optionFlag(value: boolean | string | undefined): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

interface Job {
  item: SandboxItem;
  settle: (piece: Piece, buffers: ArrayBuffer[]) => void;
  fail: (error: unknown) => void;
}

function checkSize(name: string, script: string, limit: number): void {
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > limit) {
    throw messageMapperConfigInvalid({
      detail: `the ${name} has ${bytes} bytes, more than the allowed ${limit} bytes`,
    });
  }
}

export async function createJavaScriptMapper(
  options: JavaScriptMapperOptions,
  limits: Partial<JavaScriptLimits> = {},
): Promise<JavaScriptMapper> {
  const effective: JavaScriptLimits = { ...DEFAULT_LIMITS, ...limits };
  const incomingScript = options.incomingScript ?? '';
  const outgoingScript = options.outgoingScript ?? '';
  if (typeof incomingScript !== 'string' || typeof outgoingScript !== 'string') {
    throw messageMapperConfigInvalid({ detail: 'incomingScript and outgoingScript must be strings' });
  }
  checkSize('incomingScript', incomingScript, effective.maxScriptSizeBytes);
  checkSize('outgoingScript', outgoingScript, effective.maxScriptSizeBytes);

  let sandbox: Sandbox | undefined;
  if (incomingScript !== '' || outgoingScript !== '') {
    try {
      sandbox = await createSandbox({
        incomingScript,
        outgoingScript,
        loadLongJS: optionFlag(options.loadLongJS),
        loadBytebufferJS: optionFlag(options.loadBytebufferJS),
        limits: effective,
      });
    } catch (error) {
      if (error instanceof ScriptLoadError) {
        const where = error.line === undefined ? '' : ` (line ${error.line})`;
        throw messageMapperConfigFailed({ detail: `${error.message}${where}` }, { cause: error });
      }
      throw error;
    }
  }

  const queues: Record<Direction, Job[]> = { in: [], out: [] };
  let draining = false;
  let closed = false;

  async function drain(): Promise<void> {
    try {
      while (queues.in.length > 0 || queues.out.length > 0) {
        for (const direction of ['in', 'out'] as const) {
          const jobs = queues[direction].splice(0, effective.maxBatchSize);
          if (jobs.length === 0) continue;
          try {
            const { pieces, buffers } = await sandbox!.runBatch(
              direction,
              jobs.map((job) => job.item),
            );
            jobs.forEach((job, i) => job.settle(pieces[i], buffers[i]));
          } catch (error) {
            for (const job of jobs) job.fail(error);
          }
        }
      }
    } finally {
      draining = false;
    }
  }

  function enqueue(direction: Direction, job: Job): void {
    if (closed) {
      job.fail(new Error('the JavaScript mapper is closed'));
      return;
    }
    queues[direction].push(job);
    if (!draining) {
      draining = true;
      queueMicrotask(() => void drain());
    }
  }

  function mapIncoming(message: ExternalMessage): Promise<DittoProtocolMessage[]> {
    const contentType = message.contentType ?? findHeader(message.headers, 'content-type');
    if (incomingScript === '') {
      try {
        return Promise.resolve(passThroughIncoming(message, contentType));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const { textPayload, bytePayload } = message;
    const wire: Record<string, unknown> = { h: message.headers };
    if (textPayload !== undefined) wire.t = textPayload;
    if (bytePayload !== undefined) wire.b = true;
    if (contentType !== undefined) wire.c = contentType;
    const bytes = bytePayload === undefined ? null : copyToArrayBuffer(bytePayload);
    return new Promise((resolve, reject) =>
      enqueue('in', {
        item: { json: JSON.stringify(wire), bytes },
        settle: (piece) => {
          try {
            resolve(inboundResults(piece, contentType));
          } catch (error) {
            reject(error);
          }
        },
        fail: (error) => reject(mappingFailed(contentType, describe(error), undefined, error)),
      }),
    );
  }

  function mapOutgoing(message: DittoProtocolMessage): Promise<ExternalMessage[]> {
    const contentType =
      typeof message.headers?.['content-type'] === 'string'
        ? (message.headers['content-type'] as string)
        : undefined;
    if (outgoingScript === '') return Promise.resolve(passThroughOutgoing(message));
    let json: string;
    try {
      json = JSON.stringify(message);
    } catch (error) {
      return Promise.reject(
        mappingFailed(
          contentType,
          `the Ditto Protocol message is not JSON: ${describe(error)}`,
          undefined,
          error,
        ),
      );
    }
    return new Promise((resolve, reject) =>
      enqueue('out', {
        item: { json },
        settle: (piece, buffers) => {
          try {
            resolve(outboundResults(piece, buffers, contentType));
          } catch (error) {
            reject(error);
          }
        },
        fail: (error) => reject(mappingFailed(contentType, describe(error), undefined, error)),
      }),
    );
  }

  return {
    mapIncoming,
    mapOutgoing,
    mapIncomingBatch: (messages) => Promise.all(messages.map((m) => settle(mapIncoming(m)))),
    mapOutgoingBatch: (messages) => Promise.all(messages.map((m) => settle(mapOutgoing(m)))),
    get restarts() {
      return sandbox?.restarts ?? 0;
    },
    close() {
      closed = true;
      sandbox?.close();
    },
  };
}

function settle<T>(promise: Promise<T>): Promise<MappingOutcome<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
