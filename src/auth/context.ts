import type { DittoHeaders } from '../model/signals.js';

/** Who is asking: the authorization subjects a request or a connection source acts as (§8). */
export interface AuthContext {
  /** `issuer:subject` strings, e.g. `nginx:ditto`; the first is the default subject. */
  subjects: readonly string[];
}

/** ditto: §4.1 `ditto-originator` is the first subject of whoever caused a signal; Ditto sets it, a client cannot. */
export function setOriginator(headers: DittoHeaders, auth: AuthContext): void {
  if (auth.subjects.length > 0) headers['ditto-originator'] = auth.subjects[0];
  else delete headers['ditto-originator'];
}
