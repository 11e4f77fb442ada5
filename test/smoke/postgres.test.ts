import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, withBrokerLock, type BrokerEndpoint } from '../brokers/index.js';
import { createPostgresDriver, type PostgresDriver } from '../drivers/postgres.js';
import { restartable, restartTimeoutMs, uniqueName } from './helpers.js';

describe('PostgreSQL server', () => {
  let broker: BrokerEndpoint;
  let driver: PostgresDriver;
  const schemas: string[] = [];

  beforeAll(async () => {
    broker = await getBroker('postgres');
    driver = createPostgresDriver(broker);
  });
  afterAll(() =>
    // Cleanup while no other file restarts the broker.
    withBrokerLock(
      broker,
      async () => {
        await driver?.close();
        for (const schema of schemas) await driver.dropSchema(schema);
      },
      'shared',
    ),
  );

  async function notifyRoundTrip(): Promise<void> {
    const channel = uniqueName('smoke_pg').replace(/-/g, '_');
    const subscription = await driver.listen(channel);
    await driver.notify(channel, 'hello over PostgreSQL');
    expect(await subscription.next()).toEqual({ channel, payload: 'hello over PostgreSQL' });
    await subscription.close();
  }

  it('delivers a NOTIFY to a listener', () => withBrokerLock(broker, notifyRoundTrip, 'shared'));

  it.runIf(restartable('postgres'))(
    'keeps committed rows and delivers notifications after the server was stopped and started',
    () =>
      withBrokerLock(broker, async () => {
        const schema = await driver.createSchema('smoke');
        schemas.push(schema);
        await driver.query(`create table "${schema}".things (id text primary key, revision int not null)`);
        await driver.query(`insert into "${schema}".things values ($1, $2)`, ['org.example:thing-1', 3]);
        await driver.restart();
        const { rows } = await driver.query(`select id, revision from "${schema}".things`);
        expect(rows).toEqual([{ id: 'org.example:thing-1', revision: 3 }]);
        await notifyRoundTrip();
      }),
    restartTimeoutMs,
  );
});
