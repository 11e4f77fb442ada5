/**
 * Errors of connectors and the connectivity runtime, by cause (src/errors/base.ts). Who reads `retriable`:
 * the client state machine (client-runner.ts) shows a client `misconfigured` and stops retrying when
 * connect() or createSource() rejects with `retriable: false`, and `failed` (back-off, reconnect) otherwise.
 */
import { TwinbridgeError, type TwinbridgeErrorOptions } from '../errors/base.js';

/** Connecting (or consuming) failed; retriable unless a subclass says the cause needs a configuration change. */
export class ConnectError extends TwinbridgeError {}

/**
 * The broker refused for a reason that only a configuration change heals: credentials, authorization, a
 * virtual host, an MQTT CONNACK refusal, a refused subscription.
 */
export class RefusedError extends ConnectError {
  constructor(message: string, options: Omit<TwinbridgeErrorOptions, 'retriable'> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** The TLS handshake failed on trust: the broker's certificate, its host name, or our client certificate. */
export class TlsTrustError extends ConnectError {
  constructor(message: string, options: Omit<TwinbridgeErrorOptions, 'retriable'> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** A resolved target address the broker cannot take (it will not be taken on a retry either). */
export class AddressInvalidError extends TwinbridgeError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/** The endpoint did not answer in time; another attempt may. */
export class TimeoutError extends TwinbridgeError {
  constructor(message: string, options: Omit<TwinbridgeErrorOptions, 'retriable'> = {}) {
    super(message, { ...options, retriable: true });
  }
}

/**
 * True when `error`, or an error it wraps (`cause`, kafkajs' `originalError`), is a TLS trust failure: the
 * broker's certificate is untrusted, expired or names another host (Node's codes such as
 * SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID, OpenSSL's HOSTNAME_MISMATCH), or the handshake
 * failed in OpenSSL, e.g. the broker refused our client certificate (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA). A
 * handshake that timed out (ERR_TLS_HANDSHAKE_TIMEOUT) is not one: it may succeed next time.
 */
export function isTlsTrustError(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; cause?: unknown; originalError?: unknown } | undefined, depth = 0;
    e && typeof e === 'object' && depth < 6;
    depth++
  ) {
    if (typeof e.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|^ERR_SSL_/.test(e.code))
      return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

export interface ConnectErrorOptions {
  /** The message; default the error's own. Connectors never put credentials into it. */
  message?: string;
  /**
   * The protocol's refusals that do not heal by retrying (MQTT CONNACK codes, AMQP reply codes, SASL
   * conditions, Kafka authorization types): true, or a clearer message than the library's.
   */
  refused?: (error: Error) => boolean | string;
}

/**
 * The one classifier of connect failures: what a connector's connect() (or createSource()) rejects with. A
 * TLS trust failure is a TlsTrustError, what `refused` recognises a RefusedError (both not retriable);
 * anything else (unreachable, timed out, reset) a retriable ConnectError. A library's own retriable flag is
 * not taken over (kafkajs marks errors final once its own short retries are spent; the runtime retries on).
 */
export function connectError(error: unknown, options: ConnectErrorOptions = {}): ConnectError {
  if (error instanceof ConnectError && options.message === undefined) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const message = options.message ?? err.message;
  if (isTlsTrustError(err)) return new TlsTrustError(message, { cause: err });
  const refused = options.refused?.(err);
  if (typeof refused === 'string') return new RefusedError(refused, { cause: err });
  if (refused) return new RefusedError(message, { cause: err });
  return new ConnectError(message, { cause: err });
}
