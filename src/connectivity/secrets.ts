/**
 * The secrets of a connection and how they are kept at rest. The secret fields are the ones marked
 * `x-secret` in the connection schema (src/connectivity/schema.ts: the URI's password, client keys, SASL,
 * OAuth, HMAC and SSH secrets) and in the connector's `specificConfig` schema: one list that drives
 * encryption and the redaction of status details, logs and error messages (STYLE lesson 3).
 *
 * The store only ever sees them sealed (src/util/secret-box.ts, bound to the connection ID and field);
 * the connection manager seals before each write and opens after each read. The devops API returns them
 * in clear, as Ditto does. Of a URI only the password is sealed (`tcp://user:encrypted_…@host`), so the
 * stored URI still shows where the connection goes.
 */
import { isSealed, type SecretKeyRing } from '../util/secret-box.js';
import type { ConnectionJson } from './model.js';
import { connectionSchema } from './schema.js';

export interface SecretField {
  /** The keys from the connection root to the field. */
  path: readonly string[];
  /** The field is a URI whose password is the secret. */
  uriPassword: boolean;
}

type SchemaNode = { properties?: Record<string, SchemaNode>; 'x-secret'?: boolean | 'password' };

function collect(schema: SchemaNode, at: string[], out: SecretField[]): SecretField[] {
  if (schema['x-secret']) out.push({ path: at, uriPassword: schema['x-secret'] === 'password' });
  for (const [key, child] of Object.entries(schema.properties ?? {})) collect(child, [...at, key], out);
  return out;
}

const CONNECTION_FIELDS = collect(connectionSchema as SchemaNode, [], []);

/** The secret fields of connections whose connector has `configSchema` (its `specificConfig` schema). */
export function secretFields(configSchema: Record<string, unknown> | undefined): SecretField[] {
  const specific = Object.entries((configSchema as SchemaNode | undefined)?.properties ?? {})
    .filter(([, p]) => p['x-secret'])
    .map(([key]) => ({ path: ['specificConfig', key], uriPassword: false }));
  return [...CONNECTION_FIELDS, ...specific];
}

// scheme://user:PASSWORD@ — the password of a URI's user info, as written (percent-encoded).
const URI_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)([^@/?#]*)(@)/i;

/** Where a secret sits in a field's value: the whole string, or the password inside a URI. */
function secretIn(
  value: string,
  field: SecretField,
): { secret: string; replace: (s: string) => string } | undefined {
  if (!field.uriPassword) return value === '' ? undefined : { secret: value, replace: (s) => s };
  const m = URI_PASSWORD.exec(value);
  if (!m || m[2] === '') return undefined;
  return { secret: m[2], replace: (s) => m[1] + s + value.slice(m[1].length + m[2].length) };
}

const contextOf = (id: string, field: SecretField) => `twinbridge:connection:${id}/${field.path.join('/')}`;

/** `json` with every secret field rewritten by `fn` (copies along the changed paths only). */
function mapSecrets(
  json: ConnectionJson,
  fields: readonly SecretField[],
  fn: (secret: string, field: SecretField) => string,
): ConnectionJson {
  let out = json as Record<string, unknown>;
  for (const field of fields) {
    const parents: Record<string, unknown>[] = [out];
    let value: unknown = out;
    for (const key of field.path) {
      value =
        typeof value === 'object' && value !== null && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
      if (value === undefined) break;
      if (parents.length < field.path.length) parents.push(value as Record<string, unknown>);
    }
    if (typeof value !== 'string') continue;
    const found = secretIn(value, field);
    if (!found) continue;
    let next: unknown = found.replace(fn(found.secret, field));
    for (let i = field.path.length - 1; i >= 0; i--) next = { ...parents[i], [field.path[i]]: next };
    out = next as Record<string, unknown>;
  }
  return out as ConnectionJson;
}

/** The connection as it is stored: each secret sealed with the ring's current key. */
export function sealSecrets(
  json: ConnectionJson,
  fields: readonly SecretField[],
  ring: SecretKeyRing,
): ConnectionJson {
  return mapSecrets(json, fields, (secret, field) => ring.seal(secret, contextOf(json.id, field)));
}

/**
 * The stored connection with its secrets in clear; `stale` when one was in clear (stored before secrets
 * were sealed) or sealed with an older key: the manager then stores it sealed with the current key.
 * Throws SecretOpenError when a secret does not open with any key of the ring.
 */
export function openSecrets(
  json: ConnectionJson,
  fields: readonly SecretField[],
  ring: SecretKeyRing,
): { json: ConnectionJson; stale: boolean } {
  let stale = false;
  const opened = mapSecrets(json, fields, (secret, field) => {
    if (!isSealed(secret)) {
      stale = true;
      return secret;
    }
    const result = ring.open(secret, contextOf(json.id, field));
    stale ||= result.stale;
    return result.plain;
  });
  return { json: opened, stale };
}

/** Every secret string of a connection in clear, as written and decoded (what redaction removes). */
export function secretValues(json: ConnectionJson, fields: readonly SecretField[]): string[] {
  const values: string[] = [];
  mapSecrets(json, fields, (secret, field) => {
    values.push(secret);
    if (field.uriPassword) {
      try {
        values.push(decodeURIComponent(secret));
      } catch {
        // not percent-encoded text: the raw form is what appears
      }
    }
    return secret;
  });
  return [...new Set(values.filter((v) => v.length > 0))];
}
