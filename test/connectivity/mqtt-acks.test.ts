/**
 * Acknowledgements through connections (§9, §11.2, §11.4): a source requests the label another
 * connection's target issues on broker confirmation; the message settles positively only once that
 * acknowledgement arrived, and negatively (408 timeout) when nobody issues it.
 */
import mqtt from 'mqtt';
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

keepBrokersUp('mqtt');

beforeAll(async () => {
  broker = await getBroker('mqtt');
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

it('settles a message after the requested acknowledgement of another connection target, and fails it on timeout', async () => {
  const prefix = uniquePrefix('acks');
  const thingId = `acks.test:${prefix}`;
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  const issuer = await createOpenConnection(
    service.request,
    mqttConnection({
      uri: broker.url,
      prefix: `${prefix}-b`,
      extra: { sources: [] },
      target: { issuedAcknowledgementLabel: '{{connection:id}}:published' },
    }),
  );
  const requester = await createOpenConnection(
    service.request,
    mqttConnection({
      uri: broker.url,
      prefix,
      target: null,
      source: { acknowledgementRequests: { includes: [`${issuer}:published`] } },
    }),
  );
  const device = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-device` });
  const inbound = async () =>
    (await service.request('GET', `/api/2/connections/${requester}/metrics`, { auth: DEVOPS })).json;

  await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(thingId, '/attributes/counter', 1), {
    qos: 1,
  });
  await waitFor(
    async () => metric(await inbound(), 'inbound', 'acknowledged') === 1,
    'acknowledged after the issued ack',
  );
  expect(metric(await inbound(), 'inbound', 'acknowledged', 'failure')).toBe(0);

  const close = await service.request('POST', `/api/2/connections/${issuer}/command`, {
    auth: DEVOPS,
    raw: 'connectivity.commands:closeConnection',
    contentType: 'text/plain',
  });
  expect(close.status).toBe(200);
  await device.publishAsync(
    `${prefix}/telemetry/d`,
    modifyCommand(thingId, '/attributes/counter', 2, { timeout: '1s' }),
    { qos: 1 },
  );
  await waitFor(
    async () => metric(await inbound(), 'inbound', 'acknowledged', 'failure') >= 1,
    'failed acknowledgement',
    10_000,
  );
  const logs = (await service.request('GET', `/api/2/connections/${requester}/logs`, { auth: DEVOPS })).json
    .connectionLogs;
  expect(logs.some((l: { message: string }) => /failed with status 408/.test(l.message))).toBe(true);
  await device.endAsync();
});

it("requests no acknowledgement for a message the source's acknowledgementRequests.filter removes (QoS 0)", async () => {
  const prefix = uniquePrefix('ackfilter');
  const thingId = `acks.test:${prefix}`;
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  // Nobody issues this label (the connection is not open), so a requested acknowledgement can only time out.
  const requester = await createOpenConnection(
    service.request,
    mqttConnection({
      uri: broker.url,
      prefix,
      target: null,
      source: {
        acknowledgementRequests: {
          includes: [`never-${prefix}:published`],
          filter: "fn:filter(header:mqtt.qos,'ne','0')",
        },
      },
    }),
  );
  const inbound = async () =>
    (await service.request('GET', `/api/2/connections/${requester}/metrics`, { auth: DEVOPS })).json;
  const device = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-device` });
  await device.publishAsync(
    `${prefix}/telemetry/d`,
    modifyCommand(thingId, '/attributes/counter', 1, { timeout: '1s' }),
    { qos: 0 },
  );
  await waitFor(
    async () => metric(await inbound(), 'inbound', 'acknowledged') === 1,
    'settled without waiting for the label',
    10_000,
  );
  expect(metric(await inbound(), 'inbound', 'acknowledged', 'failure')).toBe(0);
  // QoS 1 passes the filter: the label is requested and times out.
  await device.publishAsync(
    `${prefix}/telemetry/d`,
    modifyCommand(thingId, '/attributes/counter', 2, { timeout: '1s' }),
    { qos: 1 },
  );
  await waitFor(
    async () => metric(await inbound(), 'inbound', 'acknowledged', 'failure') >= 1,
    'the requested label timed out',
    10_000,
  );
  expect((await service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json).toBe(2);
  await device.endAsync();
});

it('reconnects for redelivery when the requested acknowledgement failed (reconnectForRedelivery)', async () => {
  const prefix = uniquePrefix('redeliver');
  const thingId = `acks.test:${prefix}`;
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  const issuerJson = mqttConnection({
    uri: broker.url,
    prefix: `${prefix}-b`,
    extra: { sources: [], connectionStatus: 'closed' },
    target: { issuedAcknowledgementLabel: '{{connection:id}}:published' },
  });
  const issuer = (await service.request('POST', '/api/2/connections', { auth: DEVOPS, body: issuerJson }))
    .json.id;
  const requester = await createOpenConnection(
    service.request,
    mqttConnection({
      uri: broker.url,
      prefix,
      target: null,
      specificConfig: {
        cleanSession: 'false',
        reconnectForRedelivery: 'true',
        reconnectForRedeliveryDelay: '1s',
      },
      source: { acknowledgementRequests: { includes: [`${issuer}:published`] } },
    }),
  );
  const inbound = async () =>
    (await service.request('GET', `/api/2/connections/${requester}/metrics`, { auth: DEVOPS })).json;
  const device = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-device` });
  await device.publishAsync(
    `${prefix}/telemetry/d`,
    modifyCommand(thingId, '/attributes/counter', 1, { timeout: '500ms' }),
    { qos: 1 },
  );
  await waitFor(
    async () => metric(await inbound(), 'inbound', 'acknowledged', 'failure') >= 1,
    'first attempt failed',
    10_000,
  );

  // The issuer comes up: the redelivered message now gets its acknowledgement and is settled.
  const open = await service.request('POST', `/api/2/connections/${issuer}/command`, {
    auth: DEVOPS,
    raw: 'connectivity.commands:openConnection',
    contentType: 'text/plain',
  });
  expect(open.status).toBe(200);
  await waitFor(
    async () => metric(await inbound(), 'inbound', 'acknowledged') === 1,
    'settled after redelivery',
    15_000,
  );
  const metrics = await inbound();
  expect(metric(metrics, 'inbound', 'consumed')).toBeGreaterThanOrEqual(2);
  const logs = (await service.request('GET', `/api/2/connections/${requester}/logs`, { auth: DEVOPS })).json
    .connectionLogs;
  expect(
    logs.some((l: { message: string }) => /reconnecting so that the broker redelivers/.test(l.message)),
  ).toBe(true);
  await device.endAsync();
}, 30_000);
