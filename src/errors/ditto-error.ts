/**
 * Ditto's error model (ditto-interfaces.md §2.11, jsonschema/error.json).
 *
 * Every error the service can answer with is declared once with `defineError`, which registers its
 * code, HTTP status and texts. The registry lets a test check that each code is documented in
 * docs/errors.md, and lets transports (HTTP, WebSocket, connections) render the same JSON.
 */
import { TwinbridgeError } from './base.js';

export interface DittoErrorJson {
  status: number;
  error: string;
  message: string;
  description?: string;
  href?: string;
}

export interface DittoErrorOptions {
  /** Overrides the declared description for this instance. */
  description?: string;
  /** The error that caused this one; kept for logs, never rendered. */
  cause?: unknown;
  /** Extra HTTP headers the response must carry (e.g. an ETag on 412). */
  headers?: Record<string, string>;
}

/** `retriable` (whether repeating the same request may succeed; drives connection redelivery) is the spec's, else derived from the status. */
export class DittoError extends TwinbridgeError {
  readonly status: number;
  readonly error: string;
  readonly description?: string;
  readonly href?: string;
  readonly headers?: Record<string, string>;

  constructor(spec: ErrorSpec<any>, message: string, options: DittoErrorOptions = {}) {
    super(message, {
      cause: options.cause,
      retriable: spec.retriable ?? (spec.status >= 500 || spec.status === 408 || spec.status === 429),
    });
    this.name = 'DittoError';
    this.status = spec.status;
    this.error = spec.code;
    this.description = options.description ?? spec.description;
    this.href = spec.href;
    this.headers = options.headers;
  }

  toJSON(): DittoErrorJson {
    const json: DittoErrorJson = { status: this.status, error: this.error, message: this.message };
    if (this.description !== undefined) json.description = this.description;
    if (this.href !== undefined) json.href = this.href;
    return json;
  }
}

export interface ErrorSpec<P> {
  /** `prefix:code` as Ditto spells it, e.g. `things:thing.notfound`; general errors have no prefix. */
  code: string;
  status: number;
  message: (params: P) => string;
  description?: string;
  href?: string;
  retriable?: boolean;
}

export type ErrorFactory<P> = ((params: P, options?: DittoErrorOptions) => DittoError) & {
  readonly code: string;
  readonly status: number;
};

const registry = new Map<string, ErrorSpec<any>>();

/** Declares an error once; returns the factory that creates instances of it. */
export function defineError<P = void>(spec: ErrorSpec<P>): ErrorFactory<P> {
  if (registry.has(spec.code)) throw new Error(`error code declared twice: ${spec.code}`);
  registry.set(spec.code, spec);
  const factory = (params: P, options?: DittoErrorOptions) =>
    new DittoError(spec, spec.message(params), options);
  return Object.assign(factory, { code: spec.code, status: spec.status });
}

/** All declared error codes with their status (for documentation and its test). */
export function declaredErrors(): Array<{ code: string; status: number }> {
  return [...registry.values()].map(({ code, status }) => ({ code, status }));
}

/** The declared description of a code (for documentation). */
export function describeError(code: string): string | undefined {
  return registry.get(code)?.description;
}

export function isDittoError(value: unknown): value is DittoError {
  return value instanceof DittoError;
}
