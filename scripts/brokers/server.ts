// The shape every local broker module fills in; scripts/brokers/index.ts drives them.
import type { ServerName } from './config.js';

export interface LocalServer {
  name: ServerName;
  /** Debian packages the server needs (installed together, before prepare()). */
  aptPackages: readonly string[];
  /** The addresses `brokers:up` prints, one line each. */
  addresses: readonly string[];
  logFile: string;
  /** Installs the rest and writes configuration and data directories; idempotent and quick when done. */
  prepare(): Promise<void>;
  /**
   * True when the configuration on disk is not what prepare() would write now: a running server was
   * started by an older version of this script (e.g. before its TLS listener existed) and must be
   * restarted once to take the new configuration.
   */
  configChanged?(): Promise<boolean>;
  /** Starts the process detached and returns its pid; the caller waits for readiness. */
  start(): Promise<number>;
  /** Stops the process gracefully and waits for it to exit; a no-op when it is not running. */
  stop(): Promise<void>;
  /** The pid of the running server, if any. */
  pid(): number | undefined;
  /** One real client handshake; rejects when the server does not accept it. */
  probe(): Promise<void>;
  /** Runs once the server is ready after a start (e.g. creating the test database). */
  afterReady?(): Promise<void>;
  /** How long a start may take before it counts as failed. */
  startTimeoutMs: number;
}
