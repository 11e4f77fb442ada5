/**
 * The service configuration: one table of options drives parsing (environment variables prefixed
 * `TWINBRIDGE_`, and an optional JSON file named by `TWINBRIDGE_CONFIG`), validation with a clear message
 * per bad value, and the README's table (`npm run docs:config` prints it). The environment wins over the
 * file; the file uses the camelCase keys.
 */
import { readFileSync } from 'node:fs';

export interface UserCredential {
  user: string;
  password: string;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Which store keeps the entities: the embedded journal (default) or PostgreSQL. */
  store: 'embedded' | 'postgres';
  /** postgres://user:password@host:port/db when `store` is postgres; a secret (never logged). */
  postgresUrl?: string;
  postgresPoolSize: number;
  postgresSchema: string;
  /** Identity of this instance among several on one PostgreSQL store (docs/scale-out.md); default hostname-pid-random. */
  instanceId?: string;
  /** Consumer-group heartbeat of an instance on PostgreSQL (ms); its members expire after three missed beats. */
  clusterHeartbeatMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tlsCert?: string;
  tlsKey?: string;
  users: UserCredential[];
  devopsUsers: UserCredential[];
  trustedProxies: string[];
  defaultNamespace: string;
  maxThingBytes: number;
  maxPolicyBytes: number;
  /** SSE heartbeat (comment line) interval in ms when a stream is idle (§6, §15). */
  sseHeartbeatMs: number;
  /** Bytes of signals a WebSocket session may have waiting for its socket (§13 publisher buffer). */
  wsBufferBytes: number;
  /** A WebSocket session idle this long is pinged (§13). */
  wsPingIntervalMs: number;
  /** OpenID Connect issuers by subject prefix (§8); empty: no Bearer authentication. */
  oidcIssuers: Record<string, OidcIssuerConfig>;
  jwksCooldownMs: number;
  connectionBackoffMaxMs: number;
  connectionMaxInFlight: number;
  connectionMaxPayloadBytes: number;
}

/** One OpenID Connect issuer (§8): its tokens' subjects are `<prefix>:<resolved auth-subject template>`. */
export interface OidcIssuerConfig {
  /** The `iss` of its tokens, e.g. `https://host/path` (the scheme may be omitted, as in Ditto). */
  issuer: string;
  /** Where its JSON Web Key Set is; default: `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** When set, a token's `aud` must contain it. */
  audience?: string;
  /** `{{ jwt:… }}` templates; default `["{{ jwt:sub }}"]`. */
  authSubjects?: string[];
}

type Kind = 'string' | 'port' | 'int' | 'users' | 'list' | 'enum' | 'file' | 'json';

interface Option {
  key: keyof Config;
  env: string;
  kind: Kind;
  default?: unknown;
  values?: readonly string[];
  description: string;
  secret?: boolean;
  /** kind 'json': checks the parsed value, throwing an Error that says what is wrong. */
  check?: (value: unknown) => void;
}

export const OPTIONS: readonly Option[] = [
  { key: 'host', env: 'TWINBRIDGE_HOST', kind: 'string', default: '0.0.0.0', description: 'Address the HTTP server binds to.' },
  { key: 'port', env: 'TWINBRIDGE_PORT', kind: 'port', default: 8080, description: 'Port of the HTTP (or HTTPS) server; 0 picks a free port.' },
  { key: 'dataDir', env: 'TWINBRIDGE_DATA_DIR', kind: 'string', default: './data', description: 'Directory of the embedded store (journal and snapshots).' },
  { key: 'store', env: 'TWINBRIDGE_STORE', kind: 'enum', values: ['embedded', 'postgres'], default: 'embedded', description: 'Where things, policies and connections are kept: `embedded` (journal files in TWINBRIDGE_DATA_DIR) or `postgres` (TWINBRIDGE_POSTGRES_URL; several instances may share it).' },
  { key: 'postgresUrl', env: 'TWINBRIDGE_POSTGRES_URL', kind: 'string', secret: true, description: 'PostgreSQL connection URL `postgres://user:password@host:5432/database` for TWINBRIDGE_STORE=postgres.' },
  { key: 'postgresSchema', env: 'TWINBRIDGE_POSTGRES_SCHEMA', kind: 'string', default: 'twinbridge', description: 'Schema of the PostgreSQL store\'s tables (created with the tables on start when missing).' },
  { key: 'postgresPoolSize', env: 'TWINBRIDGE_POSTGRES_POOL_SIZE', kind: 'int', default: 10, description: 'Connections to PostgreSQL per instance (writes use one at a time, group-committed; reads the others).' },
  { key: 'instanceId', env: 'TWINBRIDGE_INSTANCE_ID', kind: 'string', description: 'Identity of this instance when several share one PostgreSQL store (docs/scale-out.md): journal origin, consumer-group member rows, suffix of broker client IDs. Default: `<hostname>-<pid>-<random>`. Must be unique among the running instances.' },
  { key: 'clusterHeartbeatMs', env: 'TWINBRIDGE_CLUSTER_HEARTBEAT_MS', kind: 'int', default: 2000, description: 'With TWINBRIDGE_STORE=postgres: interval of the consumer-group heartbeat in ms; the WebSocket/SSE group members of an instance that missed three beats are dropped.' },
  { key: 'logLevel', env: 'TWINBRIDGE_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'Log level of the structured (pino) logs.' },
  { key: 'tlsCert', env: 'TWINBRIDGE_TLS_CERT', kind: 'file', description: 'PEM certificate file; with TWINBRIDGE_TLS_KEY the server speaks HTTPS (and WSS).' },
  { key: 'tlsKey', env: 'TWINBRIDGE_TLS_KEY', kind: 'file', description: 'PEM private key file for TWINBRIDGE_TLS_CERT.' },
  { key: 'users', env: 'TWINBRIDGE_USERS', kind: 'users', default: 'ditto:ditto', secret: true, description: 'API users for HTTP basic authentication, `user:password,…`; each acts as subject `nginx:<user>`. CHANGE the default.' },
  { key: 'devopsUsers', env: 'TWINBRIDGE_DEVOPS_USERS', kind: 'users', default: 'devops:foobar', secret: true, description: 'Devops users (connection management, `/devops`), `user:password,…`. CHANGE the default.' },
  { key: 'trustedProxies', env: 'TWINBRIDGE_TRUSTED_PROXIES', kind: 'list', default: '', description: 'Comma list of proxy IP addresses whose `x-ditto-pre-authenticated` header is trusted; empty disables pre-authentication.' },
  { key: 'defaultNamespace', env: 'TWINBRIDGE_DEFAULT_NAMESPACE', kind: 'string', default: 'org.eclipse.ditto', description: 'Namespace of things created by `POST /api/2/things` without `?namespace=`.' },
  { key: 'maxThingBytes', env: 'TWINBRIDGE_MAX_THING_BYTES', kind: 'int', default: 102400, description: 'Largest thing JSON in bytes (larger: 413 `things:thing.toolarge`).' },
  { key: 'maxPolicyBytes', env: 'TWINBRIDGE_MAX_POLICY_BYTES', kind: 'int', default: 102400, description: 'Largest policy JSON in bytes.' },
  { key: 'sseHeartbeatMs', env: 'TWINBRIDGE_SSE_HEARTBEAT_MS', kind: 'int', default: 1000, description: 'Interval of the SSE heartbeat (a `:keepalive` comment line) while a stream is idle, in ms; 0 disables it.' },
  { key: 'wsBufferBytes', env: 'TWINBRIDGE_WS_BUFFER_BYTES', kind: 'int', default: 1048576, description: 'Bytes of signals a WebSocket session may have waiting for its socket (not yet taken by the kernel); beyond it signals to that session are dropped, or passed to another member of its consumer group (docs/consumer-groups.md).' },
  { key: 'wsPingIntervalMs', env: 'TWINBRIDGE_WS_PING_INTERVAL_MS', kind: 'int', default: 30000, description: 'A WebSocket session that sent nothing for this long is pinged (keep-alive), in ms.' },
  { key: 'oidcIssuers', env: 'TWINBRIDGE_OIDC_ISSUERS', kind: 'json', default: '{}', check: checkOidcIssuers, description: 'OpenID Connect issuers accepted for `Authorization: Bearer <JWT>`, JSON `{"<prefix>": {"issuer": "https://host/path", "jwksUri"?: "…", "audience"?: "…", "authSubjects"?: ["{{ jwt:sub }}", "{{ jwt:groups }}"]}}`; each subject becomes `<prefix>:<value>`.' },
  { key: 'jwksCooldownMs', env: 'TWINBRIDGE_JWKS_COOLDOWN_MS', kind: 'int', default: 30000, description: 'Least time between two fetches of an issuer\'s JWKS when a token names an unknown key id (key rotation).' },
  { key: 'connectionBackoffMaxMs', env: 'TWINBRIDGE_CONNECTION_BACKOFF_MAX_MS', kind: 'int', default: 3000, description: 'Longest wait between two reconnection attempts of a connection client (exponential back-off with jitter from 250 ms).' },
  { key: 'connectionMaxInFlight', env: 'TWINBRIDGE_CONNECTION_MAX_IN_FLIGHT', kind: 'int', default: 1000, description: 'Messages of one connection source being processed at once; at the cap consumption pauses (back-pressure).' },
  { key: 'connectionMaxPayloadBytes', env: 'TWINBRIDGE_CONNECTION_MAX_PAYLOAD_BYTES', kind: 'int', default: 262144, description: 'Largest inbound connection message in bytes; larger ones are dropped, logged and acknowledged.' },
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Builds the configuration from the environment (and the file it names); throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  let file: Record<string, unknown> = {};
  if (env.TWINBRIDGE_CONFIG) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(env.TWINBRIDGE_CONFIG, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      file = parsed as Record<string, unknown>;
      for (const k of Object.keys(file)) {
        if (!OPTIONS.some((o) => o.key === k)) problems.push(`TWINBRIDGE_CONFIG (${env.TWINBRIDGE_CONFIG}): unknown key '${k}'`);
      }
    } catch (err) {
      problems.push(`TWINBRIDGE_CONFIG: cannot read ${env.TWINBRIDGE_CONFIG}: ${(err as Error).message}`);
    }
  }
  const config: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const fromEnv = env[option.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[option.key] ?? option.default;
    if (raw === undefined) continue;
    const source = fromEnv !== undefined && fromEnv !== '' ? option.env : file[option.key] !== undefined ? `${option.key} in TWINBRIDGE_CONFIG` : `default of ${option.env}`;
    try {
      config[option.key] = parseValue(option, raw);
    } catch (err) {
      problems.push(`${source}: ${(err as Error).message}${option.secret ? '' : ` (got ${JSON.stringify(raw)})`}`);
    }
  }
  if (config.store === 'postgres' && config.postgresUrl === undefined) {
    problems.push('TWINBRIDGE_POSTGRES_URL must be set when TWINBRIDGE_STORE is postgres');
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    problems.push('TWINBRIDGE_TLS_CERT and TWINBRIDGE_TLS_KEY must be set together');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as unknown as Config;
}

function parseValue(option: Option, raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (option.kind) {
    case 'string':
      if (typeof text !== 'string' || text === '') throw new Error('must be a non-empty string');
      return text;
    case 'file':
      if (typeof text !== 'string' || text === '') throw new Error('must be a file path');
      try {
        readFileSync(text);
      } catch {
        throw new Error(`file ${text} cannot be read`);
      }
      return text;
    case 'enum':
      if (typeof text !== 'string' || !option.values!.includes(text)) throw new Error(`must be one of ${option.values!.join(', ')}`);
      return text;
    case 'port':
    case 'int': {
      const n = typeof text === 'number' ? text : Number(text);
      if (!Number.isInteger(n) || n < 0 || (option.kind === 'port' && n > 65535)) {
        throw new Error(option.kind === 'port' ? 'must be a port number from 0 to 65535' : 'must be a non-negative integer');
      }
      return n;
    }
    case 'list':
      if (Array.isArray(text)) return text.map(String);
      if (typeof text !== 'string') throw new Error('must be a comma-separated list');
      return text.split(',').map((s) => s.trim()).filter(Boolean);
    case 'json': {
      let value: unknown = text;
      if (typeof text === 'string') {
        try {
          value = JSON.parse(text);
        } catch (err) {
          throw new Error(`must be JSON: ${(err as Error).message}`, { cause: err });
        }
      }
      option.check?.(value);
      return value;
    }
    case 'users': {
      const entries = Array.isArray(text) ? text.map(String) : typeof text === 'string' ? text.split(',') : undefined;
      if (!entries) throw new Error('must be a list of user:password');
      return entries.map((entry) => {
        const colon = entry.indexOf(':');
        const user = entry.slice(0, colon).trim();
        const password = entry.slice(colon + 1);
        if (colon <= 0 || password === '') throw new Error('each entry must be user:password with a non-empty user and password');
        return { user, password };
      });
    }
  }
}

function checkOidcIssuers(value: unknown): void {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new Error('must be a JSON object of prefix → issuer');
  for (const [prefix, issuer] of Object.entries(value)) {
    if (!/^[^:\s]+$/.test(prefix)) throw new Error(`prefix '${prefix}' must be non-empty without ':' or spaces`);
    if (!isObject(issuer) || typeof issuer.issuer !== 'string' || issuer.issuer === '') throw new Error(`'${prefix}' needs a string 'issuer'`);
    for (const key of ['jwksUri', 'audience'] as const) {
      if (issuer[key] !== undefined && typeof issuer[key] !== 'string') throw new Error(`'${prefix}.${key}' must be a string`);
    }
    const subjects = issuer.authSubjects;
    if (subjects !== undefined && (!Array.isArray(subjects) || subjects.some((s) => typeof s !== 'string'))) {
      throw new Error(`'${prefix}.authSubjects' must be an array of strings`);
    }
  }
}

/** The users (API or devops) that still have their default password: who anyone could sign in as. */
export function defaultCredentialsInUse(config: Pick<Config, 'users' | 'devopsUsers'>): string[] {
  const inUse = (users: readonly UserCredential[], key: 'users' | 'devopsUsers') => {
    const option = OPTIONS.find((o) => o.key === key)!;
    const defaults = parseValue(option, option.default) as UserCredential[];
    return users.filter((u) => defaults.some((d) => d.user === u.user && d.password === u.password)).map((u) => u.user);
  };
  return [...inUse(config.users, 'users'), ...inUse(config.devopsUsers, 'devopsUsers')];
}

/** The README table of options (Markdown). */
export function optionsTable(): string {
  const rows = OPTIONS.map((o) => `| \`${o.env}\` | \`${o.key}\` | ${o.default === undefined || o.default === '' ? '(unset)' : `\`${String(o.default)}\``} | ${o.description} |`);
  return ['| environment variable | config file key | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
