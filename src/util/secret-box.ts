/**
 * Authenticated encryption of short secrets at rest: AES-256-GCM (node:crypto) with a random 96-bit IV per
 * value, written as `encrypted_<base64url(iv | ciphertext | tag)>` (the prefix Ditto gives its encrypted
 * connection fields). The additional data binds a value to where it belongs (e.g. a connection and a
 * field), so a ciphertext copied to another place does not open.
 *
 * A key ring holds the current key, which seals, and older keys, which still open (key rotation): `open`
 * tells whether the value was sealed with an older key, so its owner can seal it again with the current one.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TwinbridgeError } from '../errors/base.js';

export const SEALED_PREFIX = 'encrypted_';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** A sealed value that does not open with any key of the ring (another key, or tampered with). */
export class SecretOpenError extends TwinbridgeError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

export class SecretKeyRing {
  private readonly keys: readonly Buffer[];

  /** `current` seals and opens; `old` only open (newest first). */
  constructor(current: Buffer, old: readonly Buffer[] = []) {
    for (const key of [current, ...old])
      if (key.length !== KEY_BYTES) throw new Error(`a secrets key must be ${KEY_BYTES} bytes`);
    this.keys = [current, ...old.filter((k) => !k.equals(current))];
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * The plain text of a sealed value and whether it was sealed with an older key. Throws SecretOpenError
   * when no key of the ring opens it (another key, another context, or altered).
   */
  open(sealed: string, context: string): { plain: string; stale: boolean } {
    const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    if (!isSealed(sealed) || bytes.length < IV_BYTES + TAG_BYTES)
      throw new SecretOpenError('not a sealed value');
    const iv = bytes.subarray(0, IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
    for (let i = 0; i < this.keys.length; i++) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.keys[i], iv);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
        return { plain, stale: i > 0 };
      } catch {
        // not this key: try the next
      }
    }
    throw new SecretOpenError('no configured key opens it');
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** A key as configured: 32 bytes in base64 or base64url (e.g. `openssl rand -base64 32`). */
export function parseKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text.trim()))
    throw new Error(`must be ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  return key;
}
