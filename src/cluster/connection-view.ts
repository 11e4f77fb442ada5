/**
 * A connection as one instance of a cluster runs it (docs/scale-out.md "Connections"): every instance
 * opens its own clients, so a client identifier the broker requires to be unique (MQTT [MQTT-3.1.3-2]: a
 * second client with the same ID takes the session over) gets the instance ID appended. Which settings are
 * client identifiers is read from the connector's config schema, not from its type: the `specificConfig`
 * keys `clientId` (default: the connection ID) and `publisherId` (only when set; its default derives from
 * clientId). Consumer groups (`groupId`, shared subscription groups) stay as configured: the brokers'
 * groups are what split the inbound load between instances. The stored connection is not changed.
 */
import type { AnyConnector } from '../connectivity/connector.js';
import type { Connection } from '../connectivity/model.js';

const CLIENT_ID_KEYS = ['clientId', 'publisherId'] as const;

export function connectionForInstance(
  connection: Connection,
  connector: AnyConnector,
  instanceId: string,
): Connection {
  const properties = (connector.configSchema.properties ?? {}) as Record<string, unknown>;
  const specificConfig = { ...connection.specificConfig };
  let changed = false;
  for (const key of CLIENT_ID_KEYS) {
    if (!(key in properties)) continue;
    const base = specificConfig[key] ?? (key === 'clientId' ? connection.id : undefined);
    if (base === undefined) continue;
    specificConfig[key] = `${base}-${instanceId}`;
    changed = true;
  }
  return changed ? { ...connection, specificConfig } : connection;
}
