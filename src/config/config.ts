/**
 * The service configuration: one table of options drives parsing (environment variables prefixed
 * `TWINBRIDGE_`, and an optional JSON file named by `TWINBRIDGE_CONFIG`), validation with a clear message
 * per bad value, and the README's table (`npm run docs:config` prints it). The environment wins over the
 * file; the file uses the camelCase keys.
 */
import { readFileSync } from 'node:fs';
import { parseKey } from '../util/secret-box.js';
import { isDuration, parseDuration } from '../util/duration.js';

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
  /** Open WebSocket sessions per authenticated subject set (more: 429 too.many.requests). */
  wsMaxSessionsPerSubject: number;
  /** Open search subscriptions per WebSocket session (§4.5). */
  wsMaxSearchSubscriptions: number;
  /** Open SSE streams per authenticated subject set. */
  sseMaxStreamsPerSubject: number;
  /** `mappingDefinitions` of one connection or one `mappings/try` request. */
  mappingMaxDefinitions: number;
  /** `mappings/try` requests running at once (each may create JavaScript sandboxes). */
  mappingTryConcurrency: number;
  /** OpenID Connect issuers by subject prefix (§8); empty: no Bearer authentication. */
  oidcIssuers: Record<string, OidcIssuerConfig>;
  jwksCooldownMs: number;
  connectionBackoffMaxMs: number;
  connectionMaxInFlight: number;
  connectionOutboundWindow: number;
  connectionMaxPayloadBytes: number;
  /** Deepest nesting of objects/arrays accepted in JSON from clients, devices and mapping scripts. */
  maxJsonDepth: number;
  /** The key sealing connection secrets at rest (base64 of 32 bytes); a secret. */
  secretsKey?: string;
  /** Earlier keys, accepted for opening while connections are sealed again with `secretsKey`. */
  secretsOldKeys: string[];
  /** How long history is kept (ms); undefined: forever (ditto: history-retention-duration). */
  historyRetention?: number;
  /** Retention per namespace of things and policies: a Ditto duration or `forever`. */
  historyRetentionNamespaces: Record<string, string>;
  /** How often history past retention is compacted (ms). */
  historyCompactionInterval: number;
  /** Request headers kept with each change, returned as `historical-headers` (ditto: historical-headers-to-persist). */
  historicalHeadersToPersist: string[];
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

type Kind = 'string' | 'port' | 'int' | 'users' | 'list' | 'enum' | 'file' | 'json' | 'duration';

interface Option {
  key: keyof Config;
  env: string;
  kind: Kind;
  default?: unknown;
  values?: readonly string[];
  description: string;
  secret?: boolean;
  /** kind 'int': the largest value accepted. */
  max?: number;
  /** kind 'json': checks the parsed value, throwing an Error that says what is wrong. */
  check?: (value: unknown) => void;
}

export const OPTIONS: readonly Option[] = [
  {
    key: 'host',
    env: 'TWINBRIDGE_HOST',
    kind: 'string',
    default: '0.0.0.0',
    description: 'Address the HTTP server binds to.',
  },
  {
    key: 'port',
    env: 'TWINBRIDGE_PORT',
    kind: 'port',
    default: 8080,
    description: 'Port of the HTTP (or HTTPS) server; 0 picks a free port.',
  },
  {
    key: 'dataDir',
    env: 'TWINBRIDGE_DATA_DIR',
    kind: 'string',
    default: './data',
    description: 'Directory of the embedded store (journal and snapshots).',
  },
  {
    key: 'store',
    env: 'TWINBRIDGE_STORE',
    kind: 'enum',
    values: ['embedded', 'postgres'],
    default: 'embedded',
    description:
      'Where things, policies and connections are kept: `embedded` (journal files in TWINBRIDGE_DATA_DIR) or `postgres` (TWINBRIDGE_POSTGRES_URL; several instances may share it).',
  },
  {
    key: 'postgresUrl',
    env: 'TWINBRIDGE_POSTGRES_URL',
    kind: 'string',
    secret: true,
    description:
      'PostgreSQL connection URL `postgres://user:password@host:5432/database` for TWINBRIDGE_STORE=postgres.',
  },
  {
    key: 'postgresSchema',
    env: 'TWINBRIDGE_POSTGRES_SCHEMA',
    kind: 'string',
    default: 'twinbridge',
    description: "Schema of the PostgreSQL store's tables (created with the tables on start when missing).",
  },
  {
    key: 'postgresPoolSize',
    env: 'TWINBRIDGE_POSTGRES_POOL_SIZE',
    kind: 'int',
    default: 10,
    description:
      'Connections to PostgreSQL per instance (writes use one at a time, group-committed; reads the others).',
  },
  {
    key: 'instanceId',
    env: 'TWINBRIDGE_INSTANCE_ID',
    kind: 'string',
    description:
      'Identity of this instance when several share one PostgreSQL store (docs/scale-out.md): journal origin, consumer-group member rows, suffix of broker client IDs. Default: `<hostname>-<pid>-<random>`. Must be unique among the running instances.',
  },
  {
    key: 'clusterHeartbeatMs',
    env: 'TWINBRIDGE_CLUSTER_HEARTBEAT_MS',
    kind: 'int',
    default: 2000,
    description:
      'With TWINBRIDGE_STORE=postgres: interval of the consumer-group heartbeat in ms; the WebSocket/SSE group members of an instance that missed three beats are dropped.',
  },
  {
    key: 'logLevel',
    env: 'TWINBRIDGE_LOG_LEVEL',
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    description: 'Log level of the structured (pino) logs.',
  },
  {
    key: 'tlsCert',
    env: 'TWINBRIDGE_TLS_CERT',
    kind: 'file',
    description: 'PEM certificate file; with TWINBRIDGE_TLS_KEY the server speaks HTTPS (and WSS).',
  },
  {
    key: 'tlsKey',
    env: 'TWINBRIDGE_TLS_KEY',
    kind: 'file',
    description: 'PEM private key file for TWINBRIDGE_TLS_CERT.',
  },
  {
    key: 'users',
    env: 'TWINBRIDGE_USERS',
    kind: 'users',
    default: 'ditto:ditto',
    secret: true,
    description:
      'API users for HTTP basic authentication, `user:password,…`; each acts as subject `nginx:<user>`. CHANGE the default.',
  },
  {
    key: 'devopsUsers',
    env: 'TWINBRIDGE_DEVOPS_USERS',
    kind: 'users',
    default: 'devops:foobar',
    secret: true,
    description: 'Devops users (connection management, `/devops`), `user:password,…`. CHANGE the default.',
  },
  {
    key: 'trustedProxies',
    env: 'TWINBRIDGE_TRUSTED_PROXIES',
    kind: 'list',
    default: '',
    description:
      'Comma list of proxy IP addresses whose `x-ditto-pre-authenticated` header is trusted; empty disables pre-authentication.',
  },
  {
    key: 'defaultNamespace',
    env: 'TWINBRIDGE_DEFAULT_NAMESPACE',
    kind: 'string',
    default: 'org.eclipse.ditto',
    description: 'Namespace of things created by `POST /api/2/things` without `?namespace=`.',
  },
  {
    key: 'maxThingBytes',
    env: 'TWINBRIDGE_MAX_THING_BYTES',
    kind: 'int',
    default: 102400,
    description: 'Largest thing JSON in bytes (larger: 413 `things:thing.toolarge`).',
  },
  {
    key: 'maxPolicyBytes',
    env: 'TWINBRIDGE_MAX_POLICY_BYTES',
    kind: 'int',
    default: 102400,
    description: 'Largest policy JSON in bytes.',
  },
  {
    key: 'sseHeartbeatMs',
    env: 'TWINBRIDGE_SSE_HEARTBEAT_MS',
    kind: 'int',
    default: 1000,
    description:
      'Interval of the SSE heartbeat (a `:keepalive` comment line) while a stream is idle, in ms; 0 disables it.',
  },
  {
    key: 'wsBufferBytes',
    env: 'TWINBRIDGE_WS_BUFFER_BYTES',
    kind: 'int',
    default: 1048576,
    description:
      'Bytes of signals a WebSocket session may have waiting for its socket (not yet taken by the kernel); beyond it signals to that session are dropped, or passed to another member of its consumer group (docs/consumer-groups.md).',
  },
  {
    key: 'wsPingIntervalMs',
    env: 'TWINBRIDGE_WS_PING_INTERVAL_MS',
    kind: 'int',
    default: 30000,
    description: 'A WebSocket session that sent nothing for this long is pinged (keep-alive), in ms.',
  },
  {
    key: 'wsMaxSessionsPerSubject',
    env: 'TWINBRIDGE_WS_MAX_SESSIONS_PER_SUBJECT',
    kind: 'int',
    default: 100,
    description:
      'Open WebSocket sessions per authenticated user (the same set of subjects) on this instance; one more is refused before the upgrade with 429 `too.many.requests`.',
  },
  {
    key: 'wsMaxSearchSubscriptions',
    env: 'TWINBRIDGE_WS_MAX_SEARCH_SUBSCRIPTIONS',
    kind: 'int',
    default: 32,
    description:
      'Open search subscriptions (`search/subscribe`) per WebSocket session; one more is answered with the error `too.many.requests` (429).',
  },
  {
    key: 'sseMaxStreamsPerSubject',
    env: 'TWINBRIDGE_SSE_MAX_STREAMS_PER_SUBJECT',
    kind: 'int',
    default: 100,
    description:
      'Open SSE streams (change, message and search streams) per authenticated user on this instance; one more is refused with 429 `too.many.requests`.',
  },
  {
    key: 'mappingMaxDefinitions',
    env: 'TWINBRIDGE_MAPPING_MAX_DEFINITIONS',
    kind: 'int',
    default: 10,
    description:
      'Largest number of `mappingDefinitions` of a connection or a `mappings/try` request (more: 400 `connectivity:connection.configuration.invalid` for a connection, `connectivity:message.mapper.config.invalid` for a try); each JavaScript definition has a sandbox of up to 32 MB.',
  },
  {
    key: 'mappingTryConcurrency',
    env: 'TWINBRIDGE_MAPPING_TRY_CONCURRENCY',
    kind: 'int',
    default: 2,
    description:
      '`POST /api/2/mappings/try` requests processed at once; one more is answered 429 `too.many.requests`.',
  },
  {
    key: 'oidcIssuers',
    env: 'TWINBRIDGE_OIDC_ISSUERS',
    kind: 'json',
    default: '{}',
    check: checkOidcIssuers,
    description:
      'OpenID Connect issuers accepted for `Authorization: Bearer <JWT>`, JSON `{"<prefix>": {"issuer": "https://host/path", "jwksUri"?: "…", "audience"?: "…", "authSubjects"?: ["{{ jwt:sub }}", "{{ jwt:groups }}"]}}`; each subject becomes `<prefix>:<value>`.',
  },
  {
    key: 'jwksCooldownMs',
    env: 'TWINBRIDGE_JWKS_COOLDOWN_MS',
    kind: 'int',
    default: 30000,
    description:
      "Least time between two fetches of an issuer's JWKS when a token names an unknown key id (key rotation).",
  },
  {
    key: 'connectionBackoffMaxMs',
    env: 'TWINBRIDGE_CONNECTION_BACKOFF_MAX_MS',
    kind: 'int',
    default: 3000,
    description:
      'Longest wait between two reconnection attempts of a connection client (exponential back-off with jitter from 250 ms).',
  },
  {
    key: 'connectionMaxInFlight',
    env: 'TWINBRIDGE_CONNECTION_MAX_IN_FLIGHT',
    kind: 'int',
    default: 1000,
    description:
      'Messages of one connection source being processed at once; at the cap consumption pauses (back-pressure).',
  },
  {
    key: 'connectionOutboundWindow',
    env: 'TWINBRIDGE_CONNECTION_OUTBOUND_WINDOW',
    kind: 'int',
    default: 100000,
    description:
      'Signals of one connection target (and of its replies) accepted and not yet confirmed by the broker; beyond it signals to that target are dropped and counted (a requested acknowledgement is answered 503). Holds a burst of events while the broker confirms.',
  },
  {
    key: 'connectionMaxPayloadBytes',
    env: 'TWINBRIDGE_CONNECTION_MAX_PAYLOAD_BYTES',
    kind: 'int',
    default: 262144,
    description:
      'Largest inbound connection message in bytes; larger ones are dropped, logged and acknowledged.',
  },
  {
    key: 'secretsKey',
    env: 'TWINBRIDGE_SECRETS_KEY',
    kind: 'string',
    secret: true,
    description:
      'AES-256 key (32 bytes in base64, e.g. `openssl rand -base64 32`) that seals connection secrets (URI passwords, client keys) in the store. Unset with the embedded store: a key generated into `<TWINBRIDGE_DATA_DIR>/secrets.key` (mode 0600). Required with TWINBRIDGE_STORE=postgres (the same on every instance). See docs/security.md.',
  },
  {
    key: 'secretsOldKeys',
    env: 'TWINBRIDGE_SECRETS_OLD_KEYS',
    kind: 'list',
    default: '',
    secret: true,
    description:
      'Comma list of earlier TWINBRIDGE_SECRETS_KEY values (key rotation): secrets sealed with them are still read, and stored again sealed with the current key when the service starts.',
  },
  {
    key: 'maxJsonDepth',
    env: 'TWINBRIDGE_MAX_JSON_DEPTH',
    kind: 'int',
    default: 100,
    max: 1000,
    description:
      'Deepest nesting of objects and arrays accepted in JSON bodies, WebSocket messages, inbound connection payloads and mapping results (1 to 1000); deeper: 400 `json.invalid` (docs/security.md).',
  },
  {
    key: 'historyRetention',
    env: 'TWINBRIDGE_HISTORY_RETENTION',
    kind: 'duration',
    description:
      'How long the history of things, policies and connections is kept (a duration: `30d`, `12h`, `90m`, `0s`); unset keeps everything. Older revisions are then 404 `…history.notfound` and are removed from the journal (the current state of each entity always stays).',
  },
  {
    key: 'historyRetentionNamespaces',
    env: 'TWINBRIDGE_HISTORY_RETENTION_NAMESPACES',
    kind: 'json',
    default: '{}',
    check: checkRetentionNamespaces,
    description:
      'Retention of the history of things and policies per namespace, overriding TWINBRIDGE_HISTORY_RETENTION: JSON `{"<namespace>": "<duration>" | "forever"}`, e.g. `{"audit": "forever", "telemetry": "1d"}`.',
  },
  {
    key: 'historyCompactionInterval',
    env: 'TWINBRIDGE_HISTORY_COMPACTION_INTERVAL',
    kind: 'duration',
    default: '1h',
    description: 'How often history past its retention is removed from the store (a duration).',
  },
  {
    key: 'historicalHeadersToPersist',
    env: 'TWINBRIDGE_HISTORICAL_HEADERS_TO_PERSIST',
    kind: 'list',
    default: '',
    description:
      'Comma list of request headers kept with each change of a thing, policy or connection and answered as `historical-headers` by historical reads and streams (ditto: historical-headers-to-persist), e.g. `ditto-originator,correlation-id`. Empty: none.',
  },
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
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not a JSON object');
      file = parsed as Record<string, unknown>;
      for (const k of Object.keys(file)) {
        if (!OPTIONS.some((o) => o.key === k))
          problems.push(`TWINBRIDGE_CONFIG (${env.TWINBRIDGE_CONFIG}): unknown key '${k}'`);
      }
    } catch (err) {
      problems.push(`TWINBRIDGE_CONFIG: cannot read ${env.TWINBRIDGE_CONFIG}: ${(err as Error).message}`);
    }
  }
  const config: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const fromEnv = env[option.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (file[option.key] ?? option.default);
    if (raw === undefined) continue;
    const source =
      fromEnv !== undefined && fromEnv !== ''
        ? option.env
        : file[option.key] !== undefined
          ? `${option.key} in TWINBRIDGE_CONFIG`
          : `default of ${option.env}`;
    try {
      config[option.key] = parseValue(option, raw);
    } catch (err) {
      problems.push(
        `${source}: ${(err as Error).message}${option.secret ? '' : ` (got ${JSON.stringify(raw)})`}`,
      );
    }
  }
  if (config.store === 'postgres' && config.postgresUrl === undefined) {
    problems.push('TWINBRIDGE_POSTGRES_URL must be set when TWINBRIDGE_STORE is postgres');
  }
  if (config.store === 'postgres' && config.secretsKey === undefined) {
    problems.push(
      'TWINBRIDGE_SECRETS_KEY must be set when TWINBRIDGE_STORE is postgres (the same key on every instance; e.g. `openssl rand -base64 32`)',
    );
  }
  for (const [name, keys] of [
    ['TWINBRIDGE_SECRETS_KEY', config.secretsKey === undefined ? [] : [config.secretsKey]],
    ['TWINBRIDGE_SECRETS_OLD_KEYS', config.secretsOldKeys ?? []],
  ] as const) {
    for (const key of keys as string[]) {
      try {
        parseKey(key);
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }
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
      if (typeof text !== 'string' || !option.values!.includes(text))
        throw new Error(`must be one of ${option.values!.join(', ')}`);
      return text;
    case 'port':
    case 'int': {
      const n = typeof text === 'number' ? text : Number(text);
      if (!Number.isInteger(n) || n < 0 || (option.kind === 'port' && n > 65535)) {
        throw new Error(
          option.kind === 'port' ? 'must be a port number from 0 to 65535' : 'must be a non-negative integer',
        );
      }
      if (option.max !== undefined && (n < 1 || n > option.max))
        throw new Error(`must be an integer from 1 to ${option.max}`);
      return n;
    }
    case 'duration': {
      if (typeof text === 'number' && Number.isSafeInteger(text) && text >= 0) return text;
      if (typeof text !== 'string' || !isDuration(text))
        throw new Error('must be a duration such as 250ms, 30s, 5m, 12h or 30d');
      return parseDuration(text);
    }
    case 'list':
      if (Array.isArray(text)) return text.map(String);
      if (typeof text !== 'string') throw new Error('must be a comma-separated list');
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
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
      const entries = Array.isArray(text)
        ? text.map(String)
        : typeof text === 'string'
          ? text.split(',')
          : undefined;
      if (!entries) throw new Error('must be a list of user:password');
      return entries.map((entry) => {
        const colon = entry.indexOf(':');
        const user = entry.slice(0, colon).trim();
        const password = entry.slice(colon + 1);
        if (colon <= 0 || password === '')
          throw new Error('each entry must be user:password with a non-empty user and password');
        return { user, password };
      });
    }
  }
}

function checkOidcIssuers(value: unknown): void {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new Error('must be a JSON object of prefix → issuer');
  for (const [prefix, issuer] of Object.entries(value)) {
    if (!/^[^:\s]+$/.test(prefix))
      throw new Error(`prefix '${prefix}' must be non-empty without ':' or spaces`);
    if (!isObject(issuer) || typeof issuer.issuer !== 'string' || issuer.issuer === '')
      throw new Error(`'${prefix}' needs a string 'issuer'`);
    for (const key of ['jwksUri', 'audience'] as const) {
      if (issuer[key] !== undefined && typeof issuer[key] !== 'string')
        throw new Error(`'${prefix}.${key}' must be a string`);
    }
    const subjects = issuer.authSubjects;
    if (subjects !== undefined && (!Array.isArray(subjects) || subjects.some((s) => typeof s !== 'string'))) {
      throw new Error(`'${prefix}.authSubjects' must be an array of strings`);
    }
  }
}

function checkRetentionNamespaces(value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('must be a JSON object of namespace → duration');
  for (const [namespace, retention] of Object.entries(value)) {
    if (retention !== 'forever' && (typeof retention !== 'string' || !isDuration(retention))) {
      throw new Error(`'${namespace}' must be a duration such as 7d or "forever"`);
    }
  }
}

/** The users (API or devops) that still have their default password: who anyone could sign in as. */
export function defaultCredentialsInUse(config: Pick<Config, 'users' | 'devopsUsers'>): string[] {
  const inUse = (users: readonly UserCredential[], key: 'users' | 'devopsUsers') => {
    const option = OPTIONS.find((o) => o.key === key)!;
    const defaults = parseValue(option, option.default) as UserCredential[];
    return users
      .filter((u) => defaults.some((d) => d.user === u.user && d.password === u.password))
      .map((u) => u.user);
  };
  return [...inUse(config.users, 'users'), ...inUse(config.devopsUsers, 'devopsUsers')];
}

/** The README table of options (Markdown). */
export function optionsTable(): string {
  const rows = OPTIONS.map(
    (o) =>
      `| \`${o.env}\` | \`${o.key}\` | ${o.default === undefined || o.default === '' ? '(unset)' : `\`${String(o.default)}\``} | ${o.description} |`,
  );
  return [
    '| environment variable | config file key | default | meaning |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
