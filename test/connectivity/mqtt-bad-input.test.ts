/**
 * Bad input on an MQTT source (issue 7): each kind is dropped, counted as `dropped`, logged with its reason
 * and acknowledged, and the next good message goes through.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getBroker, type BrokerEndpoint, keepBrokersUp } from '../brokers/index.js';
import { startTestService, type TestService } from '../helpers/app.js';
import {
  createOpenConnection,
  DEVOPS,
  metric,
  modifyCommand,
  mqttConnection,
  uniquePrefix,
  waitFor,
} from './helpers.js';

let service: TestService;
let broker: BrokerEndpoint;
let device: MqttClient;

keepBrokersUp('mqtt');

beforeAll(async () => {
  broker = await getBroker('mqtt');
  service = await startTestService({ TWINBRIDGE_CONNECTION_MAX_PAYLOAD_BYTES: '4096' });
  device = await mqtt.connectAsync(broker.url, { clientId: uniquePrefix('bad-device') });
});
afterAll(async () => {
  await device?.endAsync();
  await service?.close();
});

it('drops, counts, logs and acknowledges bad input, and the next good message goes through', async () => {
  const prefix = uniquePrefix('bad');
  const thingId = `bad.test:${prefix}`;
  const foreign = `bad.test:${prefix}-foreign`;
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  // Owned by alice: the source (nginx:ditto) may not write it.
  expect(
    (
      await service.request('PUT', `/api/2/things/${foreign}`, {
        auth: 'alice:alice',
        body: { attributes: { counter: 0 } },
      })
    ).status,
  ).toBe(201);
  const json = mqttConnection({
    uri: broker.url,
    prefix,
    target: null,
    extra: {
      mappingDefinitions: {
        boom: {
          mappingEngine: 'JavaScript',
          options: {
            incomingScript:
              'function mapToDittoProtocolMsg(headers, text) { throw new Error("boom " + text); }',
            outgoingScript: '',
          },
        },
      },
    },
  });
  (json.sources as Array<Record<string, unknown>>).push({
    addresses: [`${prefix}/scripted/#`],
    qos: 1,
    authorizationContext: ['nginx:ditto'],
    payloadMapping: ['boom'],
  });
  const id = await createOpenConnection(service.request, json);

  let seq = 0;
  const good = async () => {
    seq++;
    await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(thingId, '/attributes/counter', seq), {
      qos: 1,
    });
    const expected = seq;
    await waitFor(
      async () =>
        (await service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json === expected,
      `counter ${expected}`,
    );
  };
  const bad: Array<[string, string, string | Buffer]> = [
    ['malformed JSON', `${prefix}/telemetry/d`, '{"topic": "bad.test/x/things/twin/commands/modify", '],
    [
      'an unknown topic path',
      `${prefix}/telemetry/d`,
      JSON.stringify({
        topic: 'bad.test/x/things/twin/commands/explode',
        headers: {},
        path: '/attributes/a',
        value: 1,
      }),
    ],
    [
      'a thing the source may not write',
      `${prefix}/telemetry/d`,
      modifyCommand(foreign, '/attributes/counter', 99),
    ],
    [
      'an oversized payload',
      `${prefix}/telemetry/d`,
      modifyCommand(thingId, '/attributes/big', 'x'.repeat(5000)),
    ],
    ['a mapping failure', `${prefix}/scripted/d`, 'anything'],
    [
      'a timeout that is not a Ditto duration',
      `${prefix}/telemetry/d`,
      modifyCommand(thingId, '/attributes/counter', 98, { timeout: '1.5s' }),
    ],
  ];
  await good();
  for (const [, topic, payload] of bad) {
    await device.publishAsync(topic, payload, { qos: 1 });
    await good();
  }

  // The counter shows a write before its message is acknowledged, and the scripted source is a pipeline of its
  // own (its JavaScript mapping may finish after the next good message): wait until every message settled.
  const metrics = await waitFor(async () => {
    const m = (await service.request('GET', `/api/2/connections/${id}/metrics`, { auth: DEVOPS })).json;
    return metric(m, 'inbound', 'acknowledged') >= bad.length + seq ? m : undefined;
  }, 'every message acknowledged');
  expect(metric(metrics, 'inbound', 'consumed')).toBe(bad.length + seq);
  expect(metric(metrics, 'inbound', 'dropped', 'failure')).toBe(bad.length);
  expect(metric(metrics, 'inbound', 'acknowledged')).toBe(bad.length + seq);
  expect(metrics.containsFailures).toBe(true);
  const logs = (await service.request('GET', `/api/2/connections/${id}/logs`, { auth: DEVOPS })).json
    .connectionLogs;
  const dropped = logs
    .filter((l: any) => l.type === 'dropped' && l.level === 'failure')
    .map((l: any) => l.message);
  expect(dropped).toHaveLength(bad.length);
  expect(dropped.join('\n')).toMatch(/json|JSON/);
  expect(dropped.join('\n')).toMatch(/explode|unknown/i);
  expect(dropped.join('\n')).toMatch(/insufficient permissions/);
  expect(dropped.join('\n')).toMatch(/larger than the allowed 4096 bytes/);
  expect(dropped.join('\n')).toMatch(/boom/);
  expect(dropped.join('\n')).toMatch(/timeout <1\.5s> is not valid/);
  expect(
    (await service.request('GET', `/api/2/things/${foreign}/attributes/counter`, { auth: 'alice:alice' }))
      .json,
  ).toBe(0);
});
