/**
 * The connectivity runtime (ditto-interfaces.md §11): connection model and validation, the manager, the
 * per-client state machine, inbound and outbound pipelines, metrics, logs and instrumentation events.
 * Connectors (connectors/<type>/) plug in through defineConnector; nothing here imports a broker library.
 */
export {
  defineConnector,
  responseOf,
  type AnyConnector,
  type ConnectorCapabilities,
  type ConnectorClient,
  type ConnectorDefinition,
  type ClientContext,
  type InboundMessage,
  type OutboundMessage,
  type SourceHandle,
  type TargetHandle,
  type WriteResponse,
} from './connector.js';
export {
  AddressInvalidError,
  ConnectError,
  connectError,
  isTlsTrustError,
  RefusedError,
  TimeoutError,
  TlsTrustError,
} from './errors.js';
export { ConnectionManager, CONNECTION_COMMANDS, type ConnectionManagerOptions } from './manager.js';
export { ConnectivityEvents, eventName, type MessageEvent, type ConnectionLifecycleEvent } from './events.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { validateConnection } from './validate.js';
export { connectionSchema } from './schema.js';
export type { AckPort, LivePort, MapperRegistry, MappingPort } from './mapping-port.js';
export {
  redactUri,
  CONNECTION_ID,
  type Connection,
  type ConnectionJson,
  type Source,
  type Target,
} from './model.js';
