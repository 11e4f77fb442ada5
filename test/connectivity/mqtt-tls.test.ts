/**
 * MQTT over TLS (§11.1, §11.6): `ssl://` URIs against Mosquitto TLS listeners started by this test with a
 * test CA made at test time (scripts/brokers/tls.ts, the one the local RabbitMQ and Kafka use too): trusted
 * `ca`, `validateCertificates`, client certificates.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestPki } from '../../scripts/brokers/tls.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { DEVOPS, modifyCommand, mqttConnection, uniquePrefix, waitFor } from './helpers.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import mqtt from 'mqtt';

let service: TestService;
let serverOnly: Mosquitto;
let mutual: Mosquitto;
let pem: {
  ca: string;
  clientCert: string;
  clientKey: string;
  caFile: string;
  certFile: string;
  keyFile: string;
};

beforeAll(async () => {
  const pki = await ensureTestPki(await mkdtemp(path.join(tmpdir(), 'tb-tls-')));
  pem = {
    ca: pki.ca,
    clientCert: pki.clientCert,
    clientKey: pki.clientKey,
    caFile: pki.caFile,
    certFile: pki.serverCertFile,
    keyFile: pki.serverKeyFile,
  };
  serverOnly = await startMosquitto({ tls: { ca: pem.caFile, cert: pem.certFile, key: pem.keyFile } });
  mutual = await startMosquitto({
    tls: { ca: pem.caFile, cert: pem.certFile, key: pem.keyFile, requireCertificate: true },
  });
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
  await serverOnly?.stop();
  await mutual?.stop();
});

const ssl = (broker: Mosquitto) => `ssl://127.0.0.1:${broker.port}`;
const dryRun = (json: Record<string, unknown>) =>
  service.request('POST', '/api/2/connections?dry-run=true', { auth: DEVOPS, body: json });

describe('MQTT over TLS', () => {
  it('connects with the test CA as `ca` and carries messages', async () => {
    const prefix = uniquePrefix('tls');
    const thingId = `tls.test:${prefix}`;
    expect(
      (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
        .status,
    ).toBe(201);
    const created = await service.request('POST', '/api/2/connections', {
      auth: DEVOPS,
      body: mqttConnection({ uri: ssl(serverOnly), prefix, target: null, extra: { ca: pem.ca } }),
    });
    const id = created.json.id;
    await waitFor(
      async () =>
        (await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json
          .liveStatus === 'open',
      'open over TLS',
    );
    const device = await mqtt.connectAsync(`mqtts://127.0.0.1:${serverOnly.port}`, { ca: pem.ca });
    await device.publishAsync(`${prefix}/telemetry/d`, modifyCommand(thingId, '/attributes/counter', 5), {
      qos: 1,
    });
    await waitFor(
      async () => (await service.request('GET', `/api/2/things/${thingId}/attributes/counter`)).json === 5,
      'applied',
    );
    await device.endAsync();
    await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
  });

  it('refuses an untrusted server certificate unless validateCertificates is false', async () => {
    const untrusted = await dryRun(mqttConnection({ uri: ssl(serverOnly), prefix: uniquePrefix('tls-bad') }));
    expect(untrusted.status).toBe(504);
    expect(untrusted.json.message).toMatch(/certificate/i);
    const unchecked = await dryRun(
      mqttConnection({
        uri: ssl(serverOnly),
        prefix: uniquePrefix('tls-nocheck'),
        extra: { validateCertificates: false },
      }),
    );
    expect(unchecked.status, unchecked.text).toBe(200);
  });

  it('authenticates with a client certificate and never shows the key', async () => {
    const withCert = mqttConnection({
      uri: ssl(mutual),
      prefix: uniquePrefix('tls-cc'),
      extra: { ca: pem.ca, credentials: { type: 'client-cert', cert: pem.clientCert, key: pem.clientKey } },
    });
    expect((await dryRun(withCert)).status).toBe(200);
    const without = await dryRun(
      mqttConnection({ uri: ssl(mutual), prefix: uniquePrefix('tls-nocc'), extra: { ca: pem.ca } }),
    );
    expect(without.status).toBe(504);

    const created = await service.request('POST', '/api/2/connections', { auth: DEVOPS, body: withCert });
    const id = created.json.id;
    await waitFor(
      async () =>
        (await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json
          .liveStatus === 'open',
      'open with client cert',
    );
    const keyBody = pem.clientKey.split('\n')[1];
    const status = await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS });
    const logs = await service.request('GET', `/api/2/connections/${id}/logs`, { auth: DEVOPS });
    expect(status.text + logs.text).not.toContain(keyBody);
    await service.request('DELETE', `/api/2/connections/${id}`, { auth: DEVOPS });
  });
});
