/**
 * Ditto's legacy DevOps piggyback for connections (ditto-interfaces.md §2.9): `POST
 * /devops/piggyback/connectivity[/<instance>]` with `{"targetActorSelection", "headers", "piggybackCommand":
 * {"type": "connectivity.commands:<cmd>", "connectionId" | "connection"}}`, as older Ditto scripts and
 * tutorials manage connections. Each command maps onto the same ConnectionManager operation as the REST API;
 * the answer is `{"type": "connectivity.responses:<cmd>", "status", …}` with that HTTP status. Devops only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONNECTION_COMMANDS, type ConnectionManager } from '../../connectivity/index.js';
import { connectionCommandUnknown } from '../../errors/connectivity.js';
import { jsonFieldMissing } from '../../errors/general.js';
import { isPlainObject } from '../../util/json-pointer.js';
import { jsonBody } from './thing-request.js';

const devops = { config: { realm: 'devops' as const } };

const COMMANDS = [
  ...CONNECTION_COMMANDS,
  'createConnection',
  'modifyConnection',
  'retrieveConnection',
  'deleteConnection',
  'testConnection',
  'retrieveConnectionStatus',
  'retrieveConnectionMetrics',
  'retrieveConnectionLogs',
  'retrieveAllConnectionIds',
] as const;
const SUDO_BY_TAG = 'connectivity.sudo.commands:sudoRetrieveConnectionIdsByTag';

export async function piggybackRoutes(
  app: FastifyInstance,
  options: { connections: ConnectionManager },
): Promise<void> {
  const { connections } = options;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = jsonBody(request, 'json');
    const command =
      isPlainObject(body) && isPlainObject(body.piggybackCommand) ? body.piggybackCommand : undefined;
    if (!command || typeof command.type !== 'string')
      throw jsonFieldMissing({ field: '/piggybackCommand/type' });
    const type = command.type;
    const send = (status: number, fields: Record<string, unknown> = {}) => {
      const responseType = type.replace('.commands:', '.responses:');
      return status === 204
        ? reply.code(204).send()
        : reply.code(status).send({ type: responseType, status, ...fields });
    };
    if (type === SUDO_BY_TAG) {
      const tag = command.tag;
      if (typeof tag !== 'string') throw jsonFieldMissing({ field: '/piggybackCommand/tag' });
      return send(200, {
        connectionIds: connections
          .list()
          .filter((c) => c.tags?.includes(tag))
          .map((c) => c.id),
      });
    }
    const name = type.replace(/^connectivity\.commands:/, '') as (typeof COMMANDS)[number];
    if (!type.startsWith('connectivity.commands:') || !COMMANDS.includes(name)) {
      throw connectionCommandUnknown(
        { command: type },
        {
          description: `Use one of ${COMMANDS.map((c) => `connectivity.commands:${c}`).join(', ')}, ${SUDO_BY_TAG}.`,
        },
      );
    }
    const connection = isPlainObject(command.connection) ? command.connection : undefined;
    const id =
      typeof command.connectionId === 'string'
        ? command.connectionId
        : typeof connection?.id === 'string'
          ? connection.id
          : undefined;
    const requireId = () => {
      if (id === undefined) throw jsonFieldMissing({ field: '/piggybackCommand/connectionId' });
      return id;
    };
    const requireConnection = () => {
      if (connection === undefined) throw jsonFieldMissing({ field: '/piggybackCommand/connection' });
      return connection;
    };
    switch (name) {
      case 'createConnection':
        return send(201, { connection: await connections.create(requireConnection(), requireId()) });
      case 'modifyConnection':
        await connections.modify(requireId(), requireConnection());
        return send(204);
      case 'retrieveConnection':
        return send(200, { connection: connections.get(requireId()) });
      case 'deleteConnection':
        await connections.delete(requireId());
        return send(200, { connectionId: id });
      case 'testConnection': {
        const { id: _id, ...rest } = requireConnection();
        await connections.test(rest);
        return send(200, { connectionId: id, testResult: 'ok' });
      }
      case 'retrieveConnectionStatus':
        return send(200, connections.status(requireId()));
      case 'retrieveConnectionMetrics':
        return send(200, connections.metrics(requireId()));
      case 'retrieveConnectionLogs':
        return send(200, connections.logs(requireId()));
      case 'retrieveAllConnectionIds':
        return send(200, { allConnectionIds: connections.list().map((c) => c.id) });
      default:
        // openConnection, closeConnection, resetConnectionMetrics, enableConnectionLogs, resetConnectionLogs
        await connections.command(requireId(), type);
        return send(200, { connectionId: id });
    }
  };
  app.post('/devops/piggyback/connectivity', devops, handler);
  app.post('/devops/piggyback/connectivity/:instance', devops, handler);
}
