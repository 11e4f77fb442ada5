/**
 * Issue 19 item 6: JSON nested deeper than TWINBRIDGE_MAX_JSON_DEPTH (default 100) is refused where it is
 * parsed — HTTP bodies, WebSocket Ditto Protocol messages, inbound connection payloads — with 400
 * `json.invalid`, and nothing is stored; JSON at the limit passes.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import {
  createOpenConnection,
  DEVOPS,
  metric,
  modifyCommand,
  mqttConnection,
  uniquePrefix,
  waitFor,
} from '../connectivity/helpers.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs } from '../ws/client.js';
import { nestsDeeperThan, parseJson } from '../../src/util/json-parse.js';

/** JSON text of objects nested exactly `depth` levels. */
const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
/** A thing body whose nesting is `depth` levels in all. */
const thingOfDepth = (depth: number) => `{"attributes":${nested(depth - 1)}}`;
const DEEP = 5000;

describe('the depth check', () => {
  it('counts brackets outside strings only', () => {
    expect(nestsDeeperThan(nested(3), 3)).toBe(false);
    expect(nestsDeeperThan(nested(4), 3)).toBe(true);
    expect(nestsDeeperThan('[[[1]],[[2]]]', 3)).toBe(false);
    expect(nestsDeeperThan(`{"s":"${'['.repeat(500)}"}`, 3)).toBe(false);
    expect(nestsDeeperThan(`{"s":"\\"${'{'.repeat(500)}"}`, 3)).toBe(false);
    expect(nestsDeeperThan(`{"s":"\\\\","t":${nested(5)}}`, 3)).toBe(true);
    expect(nestsDeeperThan(`["\\\\\\"[[[[[[["]`, 3)).toBe(false);
  });

  it('handles a million levels without recursion', () => {
    const text = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(() => parseJson(text)).toThrow(/nests deeper than 100 levels/);
  });
});

describe('deeply nested JSON', () => {
  let svc: TestService;
  let device: MqttClient | undefined;
  keepBrokersUp('mqtt');
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await device?.endAsync();
    await svc?.close();
  });

  const id = (name: string) => `org.eclipse.ditto:depth-${name}`;
  const expectJsonInvalid = (res: { status: number; json: any }) => {
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ status: 400, error: 'json.invalid' });
    expect(res.json.message).toMatch(/nests deeper than 100 levels/);
  };

  it('is accepted up to the limit and refused one level deeper over HTTP', async () => {
    const ok = await svc.request('PUT', `/api/2/things/${id('limit')}`, { raw: thingOfDepth(100) });
    expect(ok.status).toBe(201);
    expect((await svc.request('GET', `/api/2/things/${id('limit')}`)).text).toBe(ok.text);
    expectJsonInvalid(await svc.request('PUT', `/api/2/things/${id('over')}`, { raw: thingOfDepth(101) }));
    expect((await svc.request('GET', `/api/2/things/${id('over')}`)).status).toBe(404);
  });

  it('is refused with 400 json.invalid on every JSON route, storing nothing', async () => {
    const thing = id('target');
    expect(
      (await svc.request('PUT', `/api/2/things/${thing}`, { body: { attributes: { a: 1 } } })).status,
    ).toBe(201);
    const deep = thingOfDepth(DEEP);
    expectJsonInvalid(await svc.request('PUT', `/api/2/things/${id('deep')}`, { raw: deep }));
    expectJsonInvalid(await svc.request('POST', '/api/2/things', { raw: deep }));
    expectJsonInvalid(
      await svc.request('PATCH', `/api/2/things/${thing}`, {
        raw: deep,
        contentType: 'application/merge-patch+json',
      }),
    );
    expectJsonInvalid(await svc.request('PUT', `/api/2/things/${thing}/attributes/x`, { raw: nested(DEEP) }));
    expectJsonInvalid(
      await svc.request('PUT', `/api/2/things/${thing}/attributes/x?channel=live`, { raw: nested(DEEP) }),
    );
    expectJsonInvalid(
      await svc.request('PUT', `/api/2/policies/${id('deep-policy')}`, {
        raw: `{"entries":${nested(DEEP)}}`,
      }),
    );
    expectJsonInvalid(
      await svc.request('POST', '/api/2/connections', {
        raw: `{"connectionType":"mqtt","x":${nested(DEEP)}}`,
        auth: DEVOPS,
      }),
    );
    expectJsonInvalid(await svc.request('POST', '/api/2/checkPermissions', { raw: nested(DEEP) }));
    expectJsonInvalid(await svc.request('POST', '/api/2/mappings/try', { raw: nested(DEEP), auth: DEVOPS }));
    expect((await svc.request('GET', `/api/2/things/${id('deep')}`)).status).toBe(404);
    expect((await svc.request('GET', `/api/2/things/${thing}`)).json.attributes).toEqual({ a: 1 });
    expect((await svc.request('GET', `/api/2/policies/${id('deep-policy')}`)).status).toBe(404);
    expect((await svc.request('GET', '/api/2/connections', { auth: DEVOPS })).json).toEqual([]);
  });

  it('is refused in a WebSocket command with a json.invalid error, and the session goes on', async () => {
    const ws = await connectWs(svc.url);
    try {
      const thing = id('ws');
      ws.send(
        `{"topic":"org.eclipse.ditto/depth-ws/things/twin/commands/create","headers":{"correlation-id":"deep-1"},"path":"/","value":${thingOfDepth(DEEP)}}`,
      );
      const error = await ws.nextTopic('/errors');
      expect(error).toMatchObject({ status: 400, value: { status: 400, error: 'json.invalid' } });
      expect(error.headers['correlation-id']).toBe('deep-1');
      const ok = await ws.request({
        topic: 'org.eclipse.ditto/depth-ws/things/twin/commands/create',
        path: '/',
        value: { attributes: { fine: true } },
      });
      expect(ok.status).toBe(201);
      expect((await svc.request('GET', `/api/2/things/${thing}`)).json.attributes).toEqual({ fine: true });
    } finally {
      ws.socket.close();
    }
  });

  it('on an MQTT source is dropped, counted and logged, and the next message goes through', async () => {
    const broker = await getBroker('mqtt');
    device = await mqtt.connectAsync(broker.url, { clientId: uniquePrefix('deep-device') });
    const prefix = uniquePrefix('deep');
    const thing = `deep.test:${prefix}`;
    expect(
      (await svc.request('PUT', `/api/2/things/${thing}`, { body: { attributes: { n: 0 } } })).status,
    ).toBe(201);
    const connection = await createOpenConnection(
      svc.request,
      mqttConnection({ uri: broker.url, prefix, target: null }),
    );
    const deep = modifyCommand(thing, '/attributes/n', 1).replace('"value":1', `"value":${nested(DEEP)}`);
    await device.publishAsync(`${prefix}/telemetry/d`, deep, { qos: 1 });
    await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(thing, '/attributes/n', 2), { qos: 1 });
    await waitFor(
      async () => (await svc.request('GET', `/api/2/things/${thing}/attributes/n`)).json === 2,
      'the good message applied',
    );
    const metrics = await waitFor(async () => {
      const m = (await svc.request('GET', `/api/2/connections/${connection}/metrics`, { auth: DEVOPS })).json;
      return metric(m, 'inbound', 'acknowledged') >= 2 ? m : undefined;
    }, 'both messages acknowledged');
    expect(metric(metrics, 'inbound', 'dropped', 'failure')).toBe(1);
    const logs = (await svc.request('GET', `/api/2/connections/${connection}/logs`, { auth: DEVOPS })).json
      .connectionLogs;
    expect(
      logs
        .filter((l: any) => l.type === 'dropped')
        .map((l: any) => l.message)
        .join('\n'),
    ).toMatch(/nests deeper than 100 levels/);
  });
});
