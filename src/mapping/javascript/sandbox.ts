/**
 * The sandbox: one isolated-vm isolate per mapper (a separate V8 heap with a hard memory limit; no
 * `require`, `process`, timers, file system or network exist in it, and no host object is ever placed in it:
 * only strings and copied ArrayBuffers cross the boundary). See README.md in this folder for why
 * isolated-vm was chosen over node:vm and worker threads.
 *
 * Contract of `runBatch(direction, items)`:
 *   - runs the mapping script once per item, in order, in ONE call into the isolate where possible;
 *   - every item gets its own time budget of `maxExecutionTimeMs`: when a call times out, the items completed
 *     so far are kept, the running item fails if it had the whole budget, otherwise it is retried first in a
 *     fresh call (so a slow-but-legal message is never blamed for the time its predecessors used);
 *   - when the isolate dies of its memory limit, a new one is created (the mapper's globals start afresh) and
 *     the unfinished items run one per call, so only the culprit fails; the same one-per-call retry applies
 *     when a call fails outside the runner's per-message error handling (a rejected dynamic `import()`);
 *   - never rejects for a bad message; each item resolves to its own piece (see RUNNER in runtime-source.ts).
 *
 * State: the user scripts' globals persist across messages of the same mapper (Ditto's Rhino scope is
 * shared per mapper instance too) until the isolate is recreated after a memory failure. Two mappers never
 * share anything: each has its own isolate.
 */
import ivm from 'isolated-vm';
import { DEFAULT_INCOMING, DEFAULT_OUTGOING, DITTO_SCOPE, RUNNER } from './runtime-source.js';
import { librarySources } from './libraries.js';
import type { JavaScriptLimits } from './types.js';

export type Direction = 'in' | 'out';

/** A script that failed to load; `line` when V8 reported one. */
export class ScriptLoadError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'ScriptLoadError';
  }
}

/** One item's raw result: a successful `{r: [...]}` or a failure `{e, l?}` with outbound byte buffers resolved. */
export type Piece = { r: unknown[] } | { e: string; l?: number };

export interface SandboxItem {
  /** The item as JSON (inbound wire item or the Ditto Protocol message). */
  json: string;
  /** Inbound byte payload, copied into the isolate. */
  bytes?: ArrayBuffer | null;
}

export interface SandboxSetup {
  incomingScript: string;
  outgoingScript: string;
  loadLongJS: boolean;
  loadBytebufferJS: boolean;
  limits: JavaScriptLimits;
}

export interface Sandbox {
  runBatch(
    direction: Direction,
    items: SandboxItem[],
  ): Promise<{ pieces: Piece[]; buffers: ArrayBuffer[][] }>;
  /** How many times the isolate was recreated after dying (memory limit). */
  readonly restarts: number;
  close(): void;
}

interface Live {
  isolate: ivm.Isolate;
  context: ivm.Context;
  run: ivm.Reference<(...args: unknown[]) => unknown>;
  progress: ivm.Reference<() => unknown>;
}

const TIMEOUT_MESSAGE = 'Script execution timed out.';

function lineOf(message: string, filename: string): number | undefined {
  const match = new RegExp(`${filename}:(\\d+)`).exec(message);
  return match ? Number(match[1]) : undefined;
}

async function load(setup: SandboxSetup): Promise<Live> {
  const { limits } = setup;
  const isolate = new ivm.Isolate({ memoryLimit: limits.memoryLimitMb });
  try {
    const context = await isolate.createContext();
    const factory = await context.eval(RUNNER, { reference: true, timeout: limits.maxExecutionTimeMs });
    const entry = (await factory.apply(
      undefined,
      [context.global.derefInto(), limits.maxResultsPerMessage, limits.maxOutputChars],
      {
        result: { reference: true },
      },
    )) as ivm.Reference<{ run: unknown; progress: unknown }>;
    const run = (await entry.get('run', { reference: true })) as ivm.Reference<
      (...args: unknown[]) => unknown
    >;
    const progress = (await entry.get('progress', { reference: true })) as ivm.Reference<() => unknown>;
    const libs = librarySources();
    const sources: Array<{ filename: string; code: string; user: boolean }> = [];
    if (setup.loadLongJS) sources.push({ ...libs.long, user: false });
    if (setup.loadBytebufferJS) sources.push({ ...libs.bytebuffer, user: false });
    sources.push({ filename: 'ditto-scope.js', code: DITTO_SCOPE, user: false });
    sources.push({ filename: 'incoming-mapping.js', code: DEFAULT_INCOMING, user: false });
    sources.push({ filename: 'outgoing-mapping.js', code: DEFAULT_OUTGOING, user: false });
    if (setup.incomingScript !== '')
      sources.push({ filename: 'incomingScript', code: setup.incomingScript, user: true });
    if (setup.outgoingScript !== '')
      sources.push({ filename: 'outgoingScript', code: setup.outgoingScript, user: true });
    for (const source of sources) {
      try {
        const script = await isolate.compileScript(source.code, { filename: source.filename });
        await script.run(context, { timeout: limits.maxExecutionTimeMs });
        script.release();
      } catch (error) {
        if (!source.user) throw error;
        const message = error instanceof Error ? error.message : String(error);
        const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : message;
        const reason = isolate.isDisposed ? 'the script exceeded the memory limit while loading' : message;
        throw new ScriptLoadError(`${source.filename}: ${reason}`, lineOf(stack, source.filename));
      }
    }
    return { isolate, context, run, progress };
  } catch (error) {
    if (!isolate.isDisposed) isolate.dispose();
    throw error;
  }
}

function parsePieces(count: number, joined: string): Piece[] {
  return count === 0 ? [] : (JSON.parse(`[${joined}]`) as Piece[]);
}

/** Decodes the runner's answer `[count, pieces, buffers]` (see RUNNER). */
function decodeAnswer(answer: unknown): { done: number; pieces: Piece[]; buffers: ArrayBuffer[] } {
  const [done, joined, buffers] = answer as [number, string, ArrayBuffer[]];
  return { done, pieces: parsePieces(done, joined), buffers };
}

/** Creates the mapper's isolate and loads libraries, Ditto's scope, defaults and the user scripts once. */
export async function createSandbox(setup: SandboxSetup): Promise<Sandbox> {
  let live: Live | undefined = await load(setup);
  let restarts = 0;
  let closed = false;
  const timeout = setup.limits.maxExecutionTimeMs;

  async function ensureLive(): Promise<Live> {
    if (closed) throw new Error('the mapper is closed');
    if (live === undefined || live.isolate.isDisposed) {
      live = undefined;
      live = await load(setup);
      restarts++;
    }
    return live;
  }

  /** One call into the isolate for items[from..]; returns how many items completed and their pieces. */
  async function call(
    direction: Direction,
    items: SandboxItem[],
  ): Promise<{
    done: number;
    pieces: Piece[];
    buffers: ArrayBuffer[];
    failure?: 'timeout' | 'memory' | string;
  }> {
    const current = await ensureLive();
    const json = `[${items.map((item) => item.json).join(',')}]`;
    const bytes =
      direction === 'in' && items.some((item) => item.bytes) ? items.map((item) => item.bytes ?? null) : null;
    try {
      // Strings and null cross the boundary as primitives; only byte payloads need a structured copy.
      const args =
        bytes === null ? [direction, json, null] : [direction, json, new ivm.ExternalCopy(bytes).copyInto()];
      return decodeAnswer(await current.run.apply(undefined, args, { result: { copy: true }, timeout }));
    } catch (error) {
      if (current.isolate.isDisposed) return { done: 0, pieces: [], buffers: [], failure: 'memory' };
      if (error instanceof Error && error.message === TIMEOUT_MESSAGE) {
        // Promise jobs a script left behind run when the call ends, within the same time limit; reading the
        // progress is bounded too, so leftover jobs cannot hang the mapper.
        const answer = await current.progress
          .apply(undefined, [], { result: { copy: true }, timeout })
          // Unreadable too: nothing counts as done; the timeout is the failure reported for the batch.
          .catch(() => [0, '', []]);
        return { ...decodeAnswer(answer), failure: 'timeout' };
      }
      // The call failed outside the runner's per-message try/catch (e.g. isolated-vm rejects a dynamic
      // import() after the script returned): the batch's results are lost; the caller finds the culprit.
      return {
        done: 0,
        pieces: [],
        buffers: [],
        failure: error instanceof Error ? error.message : String(error),
      };
    }
  }

  async function runBatch(direction: Direction, items: SandboxItem[]) {
    const pieces: Piece[] = [];
    const buffers: ArrayBuffer[][] = [];
    let from = 0;
    let oneByOne = false;
    while (from < items.length) {
      const slice = oneByOne ? items.slice(from, from + 1) : items.slice(from);
      const result = await call(direction, slice);
      for (let i = 0; i < result.done; i++) {
        pieces.push(result.pieces[i]);
        buffers.push(result.buffers);
      }
      from += result.done;
      if (result.failure === 'timeout' && result.done === 0) {
        pieces.push({ e: `the script exceeded the execution time limit of ${timeout} ms` });
        buffers.push([]);
        from++;
      } else if (result.failure !== undefined && result.failure !== 'timeout') {
        if (slice.length === 1) {
          const reason =
            result.failure === 'memory'
              ? `the script exceeded the memory limit of ${setup.limits.memoryLimitMb} MB`
              : result.failure;
          pieces.push({ e: reason });
          buffers.push([]);
          from++;
        } else {
          oneByOne = true; // find the culprit: the rest of this batch runs one message per call
        }
      }
    }
    return { pieces, buffers };
  }

  return {
    runBatch,
    get restarts() {
      return restarts;
    },
    close() {
      closed = true;
      if (live && !live.isolate.isDisposed) live.isolate.dispose();
      live = undefined;
    },
  };
}
