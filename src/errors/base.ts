/**
 * The root of the service's error classes (kafkajs' taxonomy: `KafkaJSError` with `retriable`, a subclass per
 * cause): every error says whether repeating the same operation may succeed and wraps what caused it.
 * DittoError (what clients are answered with) and the connectivity errors (src/connectivity/errors.ts)
 * extend it; so do the store's and the secret box's own errors.
 */
export interface TwinbridgeErrorOptions {
  /** Whether repeating the operation may succeed; default true (a failure is transient unless known otherwise). */
  retriable?: boolean;
  /** The error that caused this one (logs show it; responses never do). */
  cause?: unknown;
}

export class TwinbridgeError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: TwinbridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? true;
  }
}

/**
 * Whether `error` says that retrying may succeed: its `retriable` flag, true when it has none (kafkajs' rule;
 * the connection runtime shows a client misconfigured only on an explicit `retriable: false`).
 */
export function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown } | null)?.retriable !== false;
}
