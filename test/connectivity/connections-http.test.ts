/** Connection management over HTTP (§2.9, §11.1, §11.10) against a real Mosquitto. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBroker, type BrokerEndpoint, keepBrokersUp } from '../brokers/index.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { DEVOPS, mqttConnection, uniquePrefix, waitFor } from './helpers.js';

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

const devops = (method: string, path: string, body?: unknown, extra: Record<string, unknown> = {}) =>
  service.request(method, path, { auth: DEVOPS, ...(body === undefined ? {} : { body }), ...extra });

describe('connection management', () => {
  it('rejects API users with 401 and accepts only the devops user', async () => {
    expect((await service.request('GET', '/api/2/connections')).status).toBe(401);
    expect((await service.request('GET', '/api/2/connections', { auth: 'devops:wrong' })).status).toBe(401);
    expect((await devops('GET', '/api/2/connections')).status).toBe(200);
  });

  it('creates with a generated id, retrieves, lists, modifies and deletes a connection', async () => {
    const prefix = uniquePrefix('crud');
    const json = mqttConnection({ uri: broker.url, prefix, extra: { connectionStatus: 'closed' } });
    const created = await devops('POST', '/api/2/connections', json);
    expect(created.status).toBe(201);
    const id = created.json.id;
    expect(id).toMatch(/^[a-zA-Z0-9\-_:]{1,100}$/);
    expect(created.json).toMatchObject({ connectionType: 'mqtt', connectionStatus: 'closed', _revision: 1 });

    const got = await devops('GET', `/api/2/connections/${id}`);
    expect(got.json).toMatchObject({ id, name: json.name, sources: json.sources });
    expect((await devops('GET', '/api/2/connections?ids-only=true')).json).toContain(id);
    const fields = await devops('GET', '/api/2/connections?fields=id,connectionType');
    expect(fields.json).toContainEqual({ id, connectionType: 'mqtt' });

    const modified = await devops('PUT', `/api/2/connections/${id}`, { ...json, name: 'renamed' });
    expect(modified.status).toBe(204);
    expect((await devops('GET', `/api/2/connections/${id}`)).json).toMatchObject({
      name: 'renamed',
      _revision: 2,
    });

    expect((await devops('DELETE', `/api/2/connections/${id}`)).status).toBe(204);
    expect((await devops('GET', `/api/2/connections/${id}`)).json).toMatchObject({
      status: 404,
      error: 'connectivity:connection.notfound',
    });
  });

  it('answers 404 for PUT, status and commands of a missing connection', async () => {
    const json = mqttConnection({ uri: broker.url, prefix: 'missing' });
    expect((await devops('PUT', '/api/2/connections/does-not-exist', json)).status).toBe(404);
    expect((await devops('GET', '/api/2/connections/does-not-exist/status')).status).toBe(404);
    const command = await service.request('POST', '/api/2/connections/does-not-exist/command', {
      auth: DEVOPS,
      raw: 'connectivity.commands:openConnection',
      contentType: 'text/plain',
    });
    expect(command.status).toBe(404);
  });

  it('rejects an id in the POST body with 400 connectivity:id.notsettable', async () => {
    const res = await devops('POST', '/api/2/connections', {
      ...mqttConnection({ uri: broker.url, prefix: 'x' }),
      id: 'mine',
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('connectivity:id.notsettable');
  });

  it.each([
    ['an unknown field', { bogus: 1 }, "'/bogus'"],
    ['a missing uri', { uri: undefined }, "'/uri'"],
    ['an unknown connection type', { connectionType: 'hono' }, "'/connectionType'"],
    [
      'an invalid source qos',
      { sources: [{ addresses: ['a/#'], qos: 3, authorizationContext: ['nginx:ditto'] }] },
      "'/sources/0/qos'",
    ],
    [
      'a missing MQTT source qos',
      { sources: [{ addresses: ['a/#'], authorizationContext: ['nginx:ditto'] }] },
      "'/sources/0/qos'",
    ],
    [
      'an unknown placeholder in a target address',
      {
        targets: [
          {
            address: 'x/{{ thing:nope }}',
            topics: ['_/_/things/twin/events'],
            qos: 0,
            authorizationContext: ['nginx:ditto'],
          },
        ],
      },
      "'/targets/0/address'",
    ],
    [
      'an unknown function in a header mapping',
      {
        targets: [
          {
            address: 'x',
            topics: ['_/_/things/twin/events'],
            qos: 0,
            authorizationContext: ['nginx:ditto'],
            headerMapping: { 'mqtt.topic': '{{ thing:id | fn:nope() }}' },
          },
        ],
      },
      "'/targets/0/headerMapping/mqtt.topic'",
    ],
    [
      'an invalid RQL filter',
      {
        targets: [
          {
            address: 'x',
            topics: ['_/_/things/twin/events?filter=eq(attributes/a'],
            qos: 0,
            authorizationContext: ['nginx:ditto'],
          },
        ],
      },
      "'/targets/0/topics/0'",
    ],
    [
      'credentials this bridge does not implement',
      { credentials: { type: 'hmac', algorithm: 'az-monitor-2016-04-01', parameters: {} } },
      "'/credentials/type'",
    ],
    [
      'an SSH tunnel',
      {
        sshTunnel: {
          enabled: true,
          uri: 'ssh://host:22',
          credentials: { type: 'plain', username: 'u', password: 'p' },
        },
      },
      "'/sshTunnel'",
    ],
    [
      'an unknown target topic',
      {
        targets: [
          {
            address: 'x',
            topics: ['_/_/things/twin/whatever'],
            qos: 0,
            authorizationContext: ['nginx:ditto'],
          },
        ],
      },
      "'/targets/0/topics/0'",
    ],
    [
      'a wildcard in a target address',
      {
        targets: [
          {
            address: 'x/#',
            topics: ['_/_/things/twin/events'],
            qos: 0,
            authorizationContext: ['nginx:ditto'],
          },
        ],
      },
      "'/targets/0/address'",
    ],
    ['clientCount 2 on MQTT 3.1.1', { clientCount: 2 }, "'/clientCount'"],
    [
      'consumerCount above the connector’s maxConsumerCount',
      { sources: [{ addresses: ['a/#'], qos: 1, consumerCount: 2, authorizationContext: ['nginx:ditto'] }] },
      "'/sources/0/consumerCount' must be at most 1",
    ],
    [
      'an unknown mapping',
      {
        sources: [
          { addresses: ['a/#'], qos: 1, authorizationContext: ['nginx:ditto'], payloadMapping: ['nope'] },
        ],
      },
      "'/mappingDefinitions'",
    ],
    [
      'a header placeholder other than mqtt.* on MQTT 3.1.1',
      {
        sources: [
          {
            addresses: ['a/#'],
            qos: 1,
            authorizationContext: ['nginx:ditto'],
            headerMapping: { foo: '{{ header:foo }}' },
          },
        ],
      },
      "'/sources/0/headerMapping/foo'",
    ],
    ['an unknown specificConfig key', { specificConfig: { nope: 'x' } }, "'/specificConfig"],
    [
      'a header placeholder in an MQTT 3.1.1 authorization context',
      {
        sources: [{ addresses: ['a/#'], qos: 1, authorizationContext: ['integration:{{ header:device }}'] }],
      },
      "'/sources/0/authorizationContext/0'",
    ],
    [
      'a declared ack without the connection prefix',
      {
        sources: [
          {
            addresses: ['a/#'],
            qos: 1,
            authorizationContext: ['nginx:ditto'],
            declaredAcks: ['other:label'],
          },
        ],
      },
      "'/sources/0/declaredAcks/0'",
    ],
    [
      'an issued ack label without the connection prefix',
      {
        targets: [
          {
            address: 'x',
            topics: ['_/_/things/twin/events'],
            qos: 0,
            authorizationContext: ['nginx:ditto'],
            issuedAcknowledgementLabel: 'foo:bar',
          },
        ],
      },
      "'/targets/0/issuedAcknowledgementLabel'",
    ],
  ])('rejects %s with 400 naming the field', async (_name, change, field) => {
    const json: Record<string, unknown> = {
      ...mqttConnection({ uri: broker.url, prefix: 'invalid' }),
      ...change,
    };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete json[k];
    const res = await devops('POST', '/api/2/connections', json);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toBe('connectivity:connection.configuration.invalid');
    expect(res.json.message).toContain(field);
  });

  it('accepts clientCount 2 and header placeholders in the authorization context on MQTT 5', async () => {
    const json = mqttConnection({
      uri: broker.url,
      prefix: uniquePrefix('m5'),
      type: 'mqtt-5',
      source: { authorizationContext: ['integration:{{ header:device }}'] },
      extra: { clientCount: 2, connectionStatus: 'closed' },
    });
    const res = await devops('POST', '/api/2/connections', json);
    expect(res.status, res.text).toBe(201);
    await devops('DELETE', `/api/2/connections/${res.json.id}`);
  });

  it('accepts an acknowledgementRequests.filter with or without its braces', async () => {
    for (const filter of [
      "fn:filter(header:mqtt.qos,'ne','0')",
      "{{ fn:filter(header:mqtt.qos,'ne','0') }}",
    ]) {
      const json = mqttConnection({
        uri: broker.url,
        prefix: uniquePrefix('ackf'),
        source: { acknowledgementRequests: { includes: [], filter } },
        extra: { connectionStatus: 'closed' },
      });
      const res = await devops('POST', '/api/2/connections', json);
      expect(res.status, res.text).toBe(201);
      await devops('DELETE', `/api/2/connections/${res.json.id}`);
    }
  });

  it('tests a connection with dry-run: 200 when it connects, 504 connection.failed otherwise, nothing stored', async () => {
    const before = (await devops('GET', '/api/2/connections?ids-only=true')).json.length;
    const ok = await service.request('POST', '/api/2/connections?dry-run=true', {
      auth: DEVOPS,
      body: mqttConnection({ uri: broker.url, prefix: uniquePrefix('dry') }),
    });
    expect(ok.status, ok.text).toBe(200);
    const bad = await service.request('POST', '/api/2/connections?dry-run=true', {
      auth: DEVOPS,
      body: mqttConnection({ uri: 'tcp://user:s3cr3t-pw@127.0.0.1:1', prefix: 'dry-bad' }),
    });
    expect(bad.status).toBe(504);
    expect(bad.json.error).toBe('connectivity:connection.failed');
    expect(bad.text).not.toContain('s3cr3t-pw');
    expect((await devops('GET', '/api/2/connections?ids-only=true')).json.length).toBe(before);
  });

  it('opens and closes with commands, and never shows the URI password in status or logs', async () => {
    const json = mqttConnection({
      uri: 'tcp://user:s3cr3t-pw@127.0.0.1:1',
      prefix: uniquePrefix('cmd'),
      extra: { connectionStatus: 'closed' },
    });
    const id = (await devops('POST', '/api/2/connections', json)).json.id;
    expect((await devops('GET', `/api/2/connections/${id}/status`)).json).toMatchObject({
      connectionStatus: 'closed',
      liveStatus: 'closed',
    });
    const command = (text: string) =>
      service.request('POST', `/api/2/connections/${id}/command`, {
        auth: DEVOPS,
        raw: text,
        contentType: 'text/plain',
      });
    const open = await command('connectivity.commands:openConnection');
    expect(open.status).toBe(504);
    const status = await waitFor(async () => {
      const s = (await devops('GET', `/api/2/connections/${id}/status`)).json;
      return s.liveStatus === 'failed' ? s : undefined;
    }, 'failed status');
    expect(status.connectionStatus).toBe('open');
    expect(status.clientStatus[0].statusDetails).toMatch(/ECONNREFUSED/);
    const logs = await devops('GET', `/api/2/connections/${id}/logs`);
    expect(logs.json.enabledSince).toBeTypeOf('string');
    expect(JSON.stringify(status) + logs.text).not.toContain('s3cr3t-pw');
    expect((await command('connectivity.commands:closeConnection')).status).toBe(200);
    expect((await devops('GET', `/api/2/connections/${id}/status`)).json).toMatchObject({
      connectionStatus: 'closed',
      liveStatus: 'closed',
    });
    expect((await command('connectivity.commands:resetConnectionMetrics')).status).toBe(200);
    expect((await command('connectivity.commands:enableConnectionLogs')).status).toBe(200);
    expect((await command('connectivity.commands:resetConnectionLogs')).status).toBe(200);
    expect((await devops('GET', `/api/2/connections/${id}/logs`)).json.connectionLogs).toEqual([]);
    expect((await command('connectivity.commands:explode')).status).toBe(400);
    const wrongType = await service.request('POST', `/api/2/connections/${id}/command`, {
      auth: DEVOPS,
      body: 'connectivity.commands:openConnection',
    });
    expect(wrongType.status).toBe(415);
    await devops('DELETE', `/api/2/connections/${id}`);
  });

  it('reopens stored open connections after a restart', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tb-conn-restart-'));
    let s = await startTestService({ TWINBRIDGE_DATA_DIR: dataDir });
    const id = (
      await s.request('POST', '/api/2/connections', {
        auth: DEVOPS,
        body: mqttConnection({ uri: broker.url, prefix: uniquePrefix('restart') }),
      })
    ).json.id;
    await s.close();
    s = await startTestService({ TWINBRIDGE_DATA_DIR: dataDir });
    try {
      await waitFor(
        async () =>
          (await s.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json?.liveStatus ===
          'open',
        'reopened',
      );
    } finally {
      await s.close();
    }
  });
});
