/**
 * Several Twinbridge processes on one PostgreSQL schema (a fresh one per call, dropped by `stop`), for the
 * scale-out tests (docs/scale-out.md) and bench/cluster.ts.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';

export interface ClusterKit {
  schema: string;
  instances: ServiceProcess[];
  /** Basic-auth request to instance `i`; JSON in and out. */
  request(
    i: number,
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; auth?: string },
  ): Promise<{ status: number; json: any; headers: Headers }>;
  /** SQL on the cluster's database (with the schema on the search path). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export async function startClusterKit(
  postgresUrl: string,
  count: number,
  env: Record<string, string> = {},
): Promise<ClusterKit> {
  const schema = `tb_cluster_${randomBytes(4).toString('hex')}`;
  const common = {
    TWINBRIDGE_STORE: 'postgres',
    TWINBRIDGE_POSTGRES_URL: postgresUrl,
    TWINBRIDGE_POSTGRES_SCHEMA: schema,
    TWINBRIDGE_POSTGRES_POOL_SIZE: '4',
    TWINBRIDGE_SECRETS_KEY: randomBytes(32).toString('base64'),
    ...env,
  };
  const instances: ServiceProcess[] = [];
  try {
    // One after the other: the first creates the schema (the others would wait on its lock anyway).
    for (let i = 0; i < count; i++)
      instances.push(
        await startServiceProcess({ ...common, TWINBRIDGE_INSTANCE_ID: `node-${i + 1}` }, 60_000),
      );
  } catch (err) {
    await Promise.all(instances.map((p) => p.stop('SIGKILL')));
    throw err;
  }
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  return {
    schema,
    instances,
    async request(i, method, path, options = {}) {
      const headers: Record<string, string> = {
        authorization: `Basic ${Buffer.from(options.auth ?? 'ditto:ditto').toString('base64')}`,
        ...options.headers,
      };
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
      const raw = headers['content-type'] === 'text/plain' && typeof options.body === 'string';
      const body =
        options.body === undefined
          ? undefined
          : raw
            ? (options.body as string)
            : JSON.stringify(options.body);
      const res = await fetch(instances[i].url + path, { method, headers, body });
      const text = await res.text();
      return { status: res.status, json: text === '' ? undefined : JSON.parse(text), headers: res.headers };
    },
    async query(sql, values) {
      const client = await admin.connect();
      try {
        await client.query(`set search_path to ${pg.escapeIdentifier(schema)}`);
        return (await client.query(sql, values)).rows;
      } finally {
        client.release();
      }
    },
    async stop() {
      await Promise.all(instances.map((p) => p.stop()));
      await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      await admin.end();
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
