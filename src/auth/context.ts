/** Who is asking: the authorization subjects a request or a connection source acts as (§8). */
export interface AuthContext {
  /** `issuer:subject` strings, e.g. `nginx:ditto`; the first is the default subject. */
  subjects: readonly string[];
}
