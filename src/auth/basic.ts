/**
 * HTTP basic authentication against the configured users (§8). API users act as subject `nginx:<user>`,
 * as Ditto's default nginx basic-auth setup yields; devops users are a separate realm.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserCredential } from '../config/config.js';

export interface BasicCredentials {
  user: string;
  password: string;
}

/** Parses an `Authorization: Basic …` header; undefined when absent or not basic. */
export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Whether the credentials match one of the users. Both sides are HMAC'd with a key made per process, so
 * every comparison is of two 32-byte digests in constant time (`timingSafeEqual`): neither the length of
 * the user or password nor how many leading characters match shows in the time. Every configured user is
 * compared, whether or not an earlier one matched, and an unknown user costs the same as a wrong password.
 */
export function checkUser(users: readonly UserCredential[], credentials: BasicCredentials): boolean {
  const user = digest(credentials.user);
  const password = digest(credentials.password);
  let ok = 0;
  for (const u of digestsOf(users))
    ok |= Number(timingSafeEqual(u.user, user)) & Number(timingSafeEqual(u.password, password));
  return ok === 1;
}

const KEY = randomBytes(32);
const digest = (text: string): Buffer => createHmac('sha256', KEY).update(text, 'utf8').digest();

/** The configured users' digests, made once per list (the users are fixed at start). */
const digests = new WeakMap<readonly UserCredential[], Array<{ user: Buffer; password: Buffer }>>();
function digestsOf(users: readonly UserCredential[]): Array<{ user: Buffer; password: Buffer }> {
  let list = digests.get(users);
  if (!list)
    digests.set(users, (list = users.map((u) => ({ user: digest(u.user), password: digest(u.password) }))));
  return list;
}
