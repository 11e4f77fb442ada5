import type { DittoHeaders } from '../model/signals.js';

/** Who is asking: the authorization subjects a request or a connection source acts as (§8). */
export interface AuthContext {
  /** `issuer:subject` strings, e.g. `nginx:ditto`; the first is the default subject. */
  subjects: readonly string[];
}

/**
 * One string per distinct list of subjects, for maps that share work between requesters with the same
 * subjects (pruned views, per-user caps, cursor scopes). JSON keeps it unambiguous: with a separator, a
 * subject that contains it (a JWT claim can hold any character) would share a key with two other subjects.
 */
export function subjectsKeyOf(auth: AuthContext): string {
  return JSON.stringify(auth.subjects);
}

/** ditto: §4.1 `ditto-originator` is the first subject of whoever caused a signal; Ditto sets it, a client cannot. */
export function setOriginator(headers: DittoHeaders, auth: AuthContext): void {
  if (auth.subjects.length > 0) headers['ditto-originator'] = auth.subjects[0];
  else delete headers['ditto-originator'];
}
