// Test driver for PostgreSQL, through pg: queries, throw-away schemas, and LISTEN/NOTIFY as the
// "publish/consume" of a database. Each call opens its own client, so calls after a server restart
// need no reconnect handling.
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { BrokerEndpoint } from '../brokers/index.js';
import { brokerControl, type BrokerControl } from './control.js';
import { createSubscription, type Subscription } from './subscription.js';

export interface PostgresNotification {
  channel: string;
  payload: string;
}

export interface PostgresDriver extends BrokerControl {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Creates a schema with a unique name (prefix + random suffix) and returns its name. */
  createSchema(prefix?: string): Promise<string>;
  dropSchema(schema: string): Promise<void>;
  /** NOTIFY `channel` with `payload`. */
  notify(channel: string, payload: string): Promise<void>;
  /** LISTEN on `channel`; resolves once the LISTEN is in effect. */
  listen(channel: string): Promise<Subscription<PostgresNotification>>;
  /** Closes every subscription this driver opened. */
  close(): Promise<void>;
}

const identifier = (name: string): string => pg.escapeIdentifier(name);

export function createPostgresDriver(endpoint: BrokerEndpoint): PostgresDriver {
  const open = new Set<Subscription<PostgresNotification>>();

  async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: endpoint.url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  return {
    ...brokerControl(endpoint),

    query: (sql, params) => withClient((client) => client.query(sql, params)),

    async createSchema(prefix = 'test') {
      const schema = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await withClient((client) => client.query(`create schema ${identifier(schema)}`));
      return schema;
    },

    dropSchema: (schema) =>
      withClient(
        async (client) => void (await client.query(`drop schema if exists ${identifier(schema)} cascade`)),
      ),

    notify: (channel, payload) =>
      withClient(async (client) => void (await client.query('select pg_notify($1, $2)', [channel, payload]))),

    async listen(channel) {
      const client = new pg.Client({ connectionString: endpoint.url, connectionTimeoutMillis: 10_000 });
      const sink = createSubscription<PostgresNotification>(async () => {
        open.delete(sink.subscription);
        await client.end();
      });
      // Without this listener a server shutdown would be an unhandled 'error' event.
      client.on('error', (error) => sink.fail(error));
      client.on('end', () => sink.fail(new Error('PostgreSQL connection ended')));
      client.on('notification', (message) =>
        sink.push({ channel: message.channel, payload: message.payload ?? '' }),
      );
      await client.connect();
      await client.query(`listen ${identifier(channel)}`);
      open.add(sink.subscription);
      return sink.subscription;
    },

    async close() {
      await Promise.all([...open].map((subscription) => subscription.close()));
    },
  };
}
