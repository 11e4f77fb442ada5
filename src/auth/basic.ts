/**
 * HTTP basic authentication against the configured users (§8). API users act as subject `nginx:<user>`,
 * as Ditto's default nginx basic-auth setup yields; devops users are a separate realm.
 */
import { timingSafeEqual } from 'node:crypto';
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

/** Whether the credentials match one of the users; compares in constant time per candidate. */
export function checkUser(users: readonly UserCredential[], credentials: BasicCredentials): boolean {
  let ok = false;
  for (const u of users) {
    if (u.user === credentials.user && safeEqual(u.password, credentials.password)) ok = true;
  }
  return ok;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
