/** Helpers of the connectivity tests: connection JSON for the local MQTT broker, polling, devops requests. */
import { randomUUID } from 'node:crypto';
import type { RequestOptions, TestResponse } from '../helpers/app.js';

export const DEVOPS = 'devops:foobar';

export type Requester = (method: string, path: string, options?: RequestOptions) => Promise<TestResponse>;

/**
 * Polls `check` until it returns a truthy value (returned) or the time is up (throws with the last value).
 * `what` may be a function, read when the time is up (for a count that changes while waiting).
 */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  what: string | (() => string),
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > until)
      throw new Error(
        `timed out waiting for ${typeof what === 'function' ? what() : what} (last: ${JSON.stringify(last)})`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A unique topic prefix per test, so tests sharing the broker never see each other's messages. */
export function uniquePrefix(name: string): string {
  return `tb-${name}-${randomUUID().slice(0, 8)}`;
}

export interface MqttConnectionSpec {
  uri: string;
  type?: 'mqtt' | 'mqtt-5';
  prefix: string;
  subject?: string;
  extra?: Record<string, unknown>;
  source?: Record<string, unknown>;
  target?: Record<string, unknown> | null;
  specificConfig?: Record<string, string>;
}

/** A connection with a source `<prefix>/telemetry/#` and a target `<prefix>/events/{{ thing:id }}`. */
export function mqttConnection(spec: MqttConnectionSpec): Record<string, unknown> {
  const subject = spec.subject ?? 'nginx:ditto';
  return {
    name: `test ${spec.prefix}`,
    connectionType: spec.type ?? 'mqtt',
    connectionStatus: 'open',
    uri: spec.uri.replace(/^mqtt:/, 'tcp:'),
    specificConfig: { clientId: spec.prefix, ...spec.specificConfig },
    sources: [
      { addresses: [`${spec.prefix}/telemetry/#`], qos: 1, authorizationContext: [subject], ...spec.source },
    ],
    targets:
      spec.target === null
        ? []
        : [
            {
              address: `${spec.prefix}/events/{{ thing:id }}`,
              topics: ['_/_/things/twin/events'],
              qos: 1,
              authorizationContext: [subject],
              ...spec.target,
            },
          ],
    ...spec.extra,
  };
}

/** A Ditto Protocol `modify` command JSON as a device sends it. */
export function modifyCommand(
  thingId: string,
  path: string,
  value: unknown,
  headers: Record<string, unknown> = {},
): string {
  const [ns, name] = [thingId.slice(0, thingId.indexOf(':')), thingId.slice(thingId.indexOf(':') + 1)];
  return JSON.stringify({
    topic: `${ns}/${name}/things/twin/commands/modify`,
    headers: { 'correlation-id': randomUUID(), ...headers },
    path,
    value,
  });
}

/** Creates a connection over REST as the devops user and waits until it is open; returns its ID. */
export async function createOpenConnection(
  request: Requester,
  json: Record<string, unknown>,
): Promise<string> {
  const created = await request('POST', '/api/2/connections', { body: json, auth: DEVOPS });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const id = created.json.id as string;
  await waitFor(
    async () =>
      (await request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json?.liveStatus === 'open',
    `connection ${id} open`,
  );
  return id;
}

export function metric(
  metrics: any,
  direction: 'inbound' | 'outbound',
  type: string,
  outcome: 'success' | 'failure' = 'success',
): number {
  return metrics.connectionMetrics[direction][type][outcome].PT1H as number;
}
