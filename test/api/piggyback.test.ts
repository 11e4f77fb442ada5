/**
 * The legacy DevOps piggyback for connections (ditto-interfaces.md §2.9) over a real socket: every command
 * of a connection's life, the response envelope `{"type": "connectivity.responses:<cmd>", "status", …}`, and
 * Ditto's errors. The connection stays closed, so no broker is needed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';

const DEVOPS = 'devops:foobar';
let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.close();
});

const piggyback = (piggybackCommand: Record<string, unknown>, auth = DEVOPS) =>
  svc.request('POST', '/devops/piggyback/connectivity', {
    auth,
    body: {
      targetActorSelection: '/system/sharding/connection',
      headers: { aggregate: false, 'is-group-topic': false, 'ditto-sudo': true },
      piggybackCommand,
    },
  });

it('creates, reads, changes, commands and deletes a connection the way older Ditto scripts do', async () => {
  const id = `piggy-${Date.now()}`;
  const connection = {
    id,
    connectionType: 'mqtt',
    connectionStatus: 'closed',
    uri: 'tcp://127.0.0.1:1883',
    sources: [{ addresses: ['telemetry/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
  };
  const created = await piggyback({ type: 'connectivity.commands:createConnection', connection });
  expect(created.status).toBe(201);
  expect(created.json).toMatchObject({
    type: 'connectivity.responses:createConnection',
    status: 201,
    connection: { id, connectionType: 'mqtt' },
  });
  const again = await piggyback({ type: 'connectivity.commands:createConnection', connection });
  expect(again.status).toBe(409);
  expect(again.json.error).toBe('connectivity:connection.conflict');

  expect(
    (
      await piggyback({
        type: 'connectivity.commands:modifyConnection',
        connection: { ...connection, tags: ['lab'] },
      })
    ).status,
  ).toBe(204);
  const read = await piggyback({ type: 'connectivity.commands:retrieveConnection', connectionId: id });
  expect(read.json).toMatchObject({
    type: 'connectivity.responses:retrieveConnection',
    status: 200,
    connection: { id, tags: ['lab'] },
  });
  const byTag = await piggyback({
    type: 'connectivity.sudo.commands:sudoRetrieveConnectionIdsByTag',
    tag: 'lab',
  });
  expect(byTag.json).toEqual({
    type: 'connectivity.sudo.responses:sudoRetrieveConnectionIdsByTag',
    status: 200,
    connectionIds: [id],
  });
  expect(
    (await piggyback({ type: 'connectivity.commands:retrieveAllConnectionIds' })).json.allConnectionIds,
  ).toContain(id);

  const enabled = await piggyback({ type: 'connectivity.commands:enableConnectionLogs', connectionId: id });
  expect(enabled.json).toEqual({
    type: 'connectivity.responses:enableConnectionLogs',
    status: 200,
    connectionId: id,
  });
  const logs = await piggyback({ type: 'connectivity.commands:retrieveConnectionLogs', connectionId: id });
  expect(logs.json).toMatchObject({
    type: 'connectivity.responses:retrieveConnectionLogs',
    status: 200,
    connectionId: id,
  });
  expect(Array.isArray(logs.json.connectionLogs)).toBe(true);
  const status = await piggyback({
    type: 'connectivity.commands:retrieveConnectionStatus',
    connectionId: id,
  });
  expect(status.json).toMatchObject({
    type: 'connectivity.responses:retrieveConnectionStatus',
    status: 200,
    connectionStatus: 'closed',
  });
  const metrics = await piggyback({
    type: 'connectivity.commands:retrieveConnectionMetrics',
    connectionId: id,
  });
  expect(metrics.json).toMatchObject({
    type: 'connectivity.responses:retrieveConnectionMetrics',
    status: 200,
  });
  expect(metrics.json.connectionMetrics).toBeDefined();

  const deleted = await piggyback({ type: 'connectivity.commands:deleteConnection', connectionId: id });
  expect(deleted.json).toEqual({
    type: 'connectivity.responses:deleteConnection',
    status: 200,
    connectionId: id,
  });
  const gone = await piggyback({ type: 'connectivity.commands:retrieveConnection', connectionId: id });
  expect(gone.status).toBe(404);
  expect(gone.json.error).toBe('connectivity:connection.notfound');
  // Scripts delete and create the same ID again.
  expect((await piggyback({ type: 'connectivity.commands:createConnection', connection })).status).toBe(201);
  expect((await piggyback({ type: 'connectivity.commands:deleteConnection', connectionId: id })).status).toBe(
    200,
  );
});

it("answers Ditto's errors: unknown command, missing fields, invalid connection, no devops user", async () => {
  const unknown = await piggyback({ type: 'connectivity.commands:explodeConnection', connectionId: 'x' });
  expect(unknown.status).toBe(400);
  expect(unknown.json.error).toBe('connectivity:connection.command.unknown');
  expect((await piggyback({ type: 'connectivity.commands:retrieveConnection' })).json.error).toBe(
    'json.field.missing',
  );
  const invalid = await piggyback({
    type: 'connectivity.commands:testConnection',
    connection: {
      id: 'bad',
      connectionType: 'mqtt',
      connectionStatus: 'open',
      uri: 'tcp://127.0.0.1:1883',
      sources: [{ addresses: ['a/#'], authorizationContext: ['nginx:ditto'] }],
    },
  });
  expect(invalid.status).toBe(400);
  expect(invalid.json.error).toBe('connectivity:connection.configuration.invalid');
  const asUser = await piggyback({ type: 'connectivity.commands:retrieveAllConnectionIds' }, 'ditto:ditto');
  expect(asUser.status).toBe(401);
});
