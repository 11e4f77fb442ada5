/** The error kernel: one base class with `retriable` and `cause`, and the one classifier of connect failures. */
import { describe, expect, it } from 'vitest';
import { connectError, ConnectError, RefusedError, TlsTrustError } from '../../src/connectivity/errors.js';
import { isRetriable, TwinbridgeError } from '../../src/errors/base.js';
import { notConnected } from '../../src/errors/connectivity.js';
import { thingNotFound } from '../../src/errors/things.js';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('error kernel', () => {
  it('derives a DittoError’s retriable flag from its status and keeps its cause', () => {
    const cause = new Error('socket closed');
    const unavailable = notConnected({ detail: 'x' }, { cause });
    expect(unavailable).toBeInstanceOf(TwinbridgeError);
    expect(unavailable.retriable).toBe(true);
    expect(unavailable.cause).toBe(cause);
    expect(thingNotFound({ thingId: 'a:b' }).retriable).toBe(false);
  });

  it('counts errors without the flag as retriable, only an explicit false as final', () => {
    expect(isRetriable(new Error('x'))).toBe(true);
    expect(isRetriable(undefined)).toBe(true);
    expect(isRetriable(new RefusedError('no'))).toBe(false);
    expect(isRetriable({ retriable: false })).toBe(false);
  });
});

describe('connectError', () => {
  it('classifies TLS trust failures, also wrapped, as not retriable', () => {
    for (const code of [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'CERT_HAS_EXPIRED',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'HOSTNAME_MISMATCH',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
    ]) {
      const error = connectError(new Error('wrapped', { cause: coded(code) }));
      expect(error, code).toBeInstanceOf(TlsTrustError);
      expect(error.retriable, code).toBe(false);
    }
    // kafkajs wraps its causes as `originalError`.
    expect(
      connectError(Object.assign(new Error('kafka'), { originalError: coded('DEPTH_ZERO_SELF_SIGNED_CERT') }))
        .retriable,
    ).toBe(false);
  });

  it('keeps network failures and a TLS handshake timeout retriable, with the message and the cause', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ERR_TLS_HANDSHAKE_TIMEOUT']) {
      const cause = coded(code, `connect ${code}`);
      const error = connectError(cause);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error.retriable, code).toBe(true);
      expect(error.message).toBe(`connect ${code}`);
      expect(error.cause).toBe(cause);
    }
  });

  it("takes the protocol's refusals as final, with a message of its own when it gives one", () => {
    const refused = connectError(new Error('Connection refused: Not authorized'), {
      refused: (e) => /authorized/.test(e.message),
    });
    expect(refused).toBeInstanceOf(RefusedError);
    expect(refused.retriable).toBe(false);
    expect(refused.message).toBe('Connection refused: Not authorized');
    const vhost = connectError(new Error('Expected ConnectionOpenOk'), {
      refused: () => "the broker refused access to vhost 'v'",
    });
    expect(vhost.message).toBe("the broker refused access to vhost 'v'");
    expect(vhost.retriable).toBe(false);
  });

  it('does not take over a library’s own retriable flag, and keeps an error already classified', () => {
    const final = Object.assign(new Error('KafkaJSNumberOfRetriesExceeded'), { retriable: false });
    expect(connectError(final).retriable).toBe(true);
    const classified = new RefusedError('no');
    expect(connectError(classified)).toBe(classified);
    expect(connectError('a string').message).toBe('a string');
  });
});
