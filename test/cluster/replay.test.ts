/** The thing after an event of another instance (src/cluster/replay.ts) and the per-instance connection view. */
import { describe, expect, it } from 'vitest';
import { applyThingEvent } from '../../src/cluster/replay.js';
import { connectionForInstance } from '../../src/cluster/connection-view.js';
import type { ThingEvent } from '../../src/model/signals.js';
import type { AnyConnector } from '../../src/connectivity/connector.js';
import type { Connection } from '../../src/connectivity/model.js';

const event = (action: ThingEvent['action'], path: string, value?: unknown): ThingEvent => ({
  thingId: 'a:b',
  channel: 'twin',
  action,
  path,
  revision: 2,
  timestamp: '',
  headers: {},
  ...(value === undefined ? {} : { value }),
});
const before = { thingId: 'a:b', policyId: 'a:b', attributes: { x: 1, y: { z: 2 } } };

describe('applyThingEvent', () => {
  it('sets the value at the path for created and modified', () => {
    expect(applyThingEvent(before, event('modified', '/attributes/y/z', 3))).toEqual({
      ...before,
      attributes: { x: 1, y: { z: 3 } },
    });
    expect(applyThingEvent(before, event('created', '/features/f', { properties: {} }))).toEqual({
      ...before,
      features: { f: { properties: {} } },
    });
    expect(applyThingEvent(undefined, event('created', '/', before))).toEqual(before);
  });

  it('applies a merge patch at the path, null deleting', () => {
    expect(applyThingEvent(before, event('merged', '/attributes', { x: null, w: 5 }))).toEqual({
      ...before,
      attributes: { y: { z: 2 }, w: 5 },
    });
    expect(applyThingEvent(before, event('merged', '/attributes/y', null))).toEqual({
      ...before,
      attributes: { x: 1 },
    });
  });

  it('removes the path for deleted, and the thing at the root', () => {
    expect(applyThingEvent(before, event('deleted', '/attributes/x'))).toEqual({
      ...before,
      attributes: { y: { z: 2 } },
    });
    expect(applyThingEvent(before, event('deleted', '/'))).toBeUndefined();
  });
});

describe('connectionForInstance', () => {
  const connection = { id: 'c1', specificConfig: {} } as unknown as Connection;
  const withSchema = (properties: Record<string, unknown>) =>
    ({ configSchema: { properties } }) as unknown as AnyConnector;

  it('suffixes the client ID (default: the connection ID) when the connector declares one', () => {
    expect(
      connectionForInstance(connection, withSchema({ clientId: {}, publisherId: {} }), 'n1').specificConfig,
    ).toEqual({ clientId: 'c1-n1' });
    const configured = {
      ...connection,
      specificConfig: { clientId: 'dev', publisherId: 'pub', groupId: 'g' },
    };
    expect(
      connectionForInstance(configured, withSchema({ clientId: {}, publisherId: {}, groupId: {} }), 'n1')
        .specificConfig,
    ).toEqual({ clientId: 'dev-n1', publisherId: 'pub-n1', groupId: 'g' });
  });

  it('leaves connections of connectors without client IDs as they are', () => {
    expect(connectionForInstance(connection, withSchema({ groupId: {} }), 'n1')).toBe(connection);
  });
});
