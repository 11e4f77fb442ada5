/**
 * The HTTP push connector (§11.6) against a local HTTP server: twin events become requests to
 * `VERB:/path?query` under the connection URI, `http.path` / `http.query` headers, `parallelism`
 * bounds the requests in flight, `omitRequestBody`, and non-2xx responses fail the publish.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpPush, HttpPushResponseError } from '../../connectors/http-push/index.js';
import { validateConnection } from '../../src/connectivity/index.js';
import { startTestService, type TestService } from '../helpers/app.js';
import { createOpenConnection, DEVOPS, metric, uniquePrefix, waitFor } from './helpers.js';

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

let service: TestService;
let server: http.Server;
let base = '';
const recorded: Recorded[] = [];
let inFlight = 0;
let maxInFlight = 0;
/** Per path prefix: response status and delay. */
const behaviour = new Map<string, { status: number; delayMs: number }>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      recorded.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      });
      const rule = [...behaviour.entries()].find(([prefix]) => req.url!.startsWith(prefix))?.[1] ?? {
        status: 204,
        delayMs: 0,
      };
      setTimeout(() => {
        inFlight--;
        res.statusCode = rule.status;
        res.end(rule.status >= 300 ? 'no thanks' : undefined);
      }, rule.delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://hook:s3cr3t-pw@127.0.0.1:${(server.address() as AddressInfo).port}`;
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
  await new Promise((r) => server?.close(r));
});

const devops = (method: string, path: string, body?: unknown) =>
  service.request(method, path, { auth: DEVOPS, ...(body === undefined ? {} : { body }) });

function connection(
  prefix: string,
  target: Record<string, unknown>,
  specificConfig: Record<string, string> = {},
  uri = `${base}/base`,
) {
  return {
    name: `http ${prefix}`,
    connectionType: 'http-push',
    connectionStatus: 'open',
    uri,
    specificConfig,
    sources: [],
    targets: [
      {
        address: `POST:/${prefix}/events/{{ thing:id }}?from=twinbridge`,
        topics: [`_/_/things/twin/events?namespaces=${ns(prefix)}`],
        authorizationContext: ['nginx:ditto'],
        ...target,
      },
    ],
  };
}

/** Namespaces allow no `-`. */
const ns = (prefix: string) => prefix.replace(/-/g, '_');

async function thing(prefix: string, name: string): Promise<string> {
  const thingId = `${ns(prefix)}:${name}`;
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}`, { body: { attributes: { counter: 0 } } }))
      .status,
  ).toBe(201);
  return thingId;
}

const setCounter = async (thingId: string, value: number) =>
  expect(
    (await service.request('PUT', `/api/2/things/${thingId}/attributes/counter`, { body: value })).status,
  ).toBe(204);
const requestsFor = (prefix: string) => recorded.filter((r) => r.url.includes(prefix));
/** Waits until exactly one request for `prefix` arrived and returns it. */
const onlyRequest = async (prefix: string): Promise<Recorded> =>
  (await waitFor(
    () => (requestsFor(prefix).length === 1 ? requestsFor(prefix) : undefined),
    'one request',
  ))![0];

it('pushes a twin event as a request under the connection URI, with the Ditto headers and basic auth', async () => {
  const prefix = uniquePrefix('http');
  const thingId = await thing(prefix, 'a');
  const id = await createOpenConnection(
    service.request,
    connection(prefix, { headerMapping: { 'x-thing': '{{ thing:id }}' } }),
  );
  await setCounter(thingId, 5);
  const request = await onlyRequest(prefix);
  expect(request.method).toBe('POST');
  expect(request.url).toBe(`/base/${prefix}/events/${thingId}?from=twinbridge`);
  expect(request.headers['content-type']).toBe('application/vnd.eclipse.ditto+json');
  expect(request.headers['x-thing']).toBe(thingId);
  expect(request.headers.authorization).toBe(`Basic ${Buffer.from('hook:s3cr3t-pw').toString('base64')}`);
  expect(JSON.parse(request.body)).toMatchObject({
    topic: `${ns(prefix)}/a/things/twin/events/modified`,
    path: '/attributes/counter',
    value: 5,
  });
  await waitFor(
    async () =>
      metric((await devops('GET', `/api/2/connections/${id}/metrics`)).json, 'outbound', 'published') === 1,
    'published',
  );
  const status = await devops('GET', `/api/2/connections/${id}/status`);
  expect(JSON.stringify(status.json)).not.toContain('s3cr3t-pw');
  expect((await devops('DELETE', `/api/2/connections/${id}`)).status).toBe(204);
});

it('takes path and query from the http.path and http.query headers and omits the body of a GET', async () => {
  const prefix = uniquePrefix('http');
  const thingId = await thing(prefix, 'b');
  const id = await createOpenConnection(
    service.request,
    connection(prefix, {
      address: 'GET:/ignored',
      headerMapping: {
        'http.path': `/${prefix}/things/{{ thing:name }}`,
        'http.query': "revision={{ header:x-absent | fn:default('none') }}",
      },
    }),
  );
  await setCounter(thingId, 1);
  const request = await onlyRequest(prefix);
  expect(request.method).toBe('GET');
  expect(request.url).toBe(`/base/${prefix}/things/b?revision=none`);
  expect(request.body).toBe('');
  expect(request.headers['http.path']).toBeUndefined();
  expect(request.headers['content-type']).toBeUndefined();
  await devops('DELETE', `/api/2/connections/${id}`);
});

it('sends with parallelism 1 one request after the other, in event order', async () => {
  const prefix = uniquePrefix('http');
  behaviour.set(`/base/${prefix}/`, { status: 200, delayMs: 40 });
  const things = await Promise.all([1, 2, 3, 4, 5].map((i) => thing(prefix, `t${i}`)));
  const id = await createOpenConnection(service.request, connection(prefix, {}));
  maxInFlight = 0;
  for (const t of things) await setCounter(t, 1);
  await waitFor(() => requestsFor(prefix).length === 5, 'five requests');
  expect(maxInFlight).toBe(1);
  expect(requestsFor(prefix).map((r) => r.url.split('/')[4])).toEqual(
    things.map((t) => `${t}?from=twinbridge`),
  );
  await devops('DELETE', `/api/2/connections/${id}`);
});

it('keeps at most `parallelism` requests in flight', async () => {
  const prefix = uniquePrefix('http');
  behaviour.set(`/base/${prefix}/`, { status: 200, delayMs: 150 });
  const things = await Promise.all(Array.from({ length: 12 }, (_, i) => thing(prefix, `p${i}`)));
  const id = await createOpenConnection(service.request, connection(prefix, {}, { parallelism: '3' }));
  maxInFlight = 0;
  await Promise.all(things.map((t) => setCounter(t, 1)));
  await waitFor(() => requestsFor(prefix).length === 12, 'twelve requests');
  await waitFor(
    async () =>
      metric((await devops('GET', `/api/2/connections/${id}/metrics`)).json, 'outbound', 'published') === 12,
    'all published',
  );
  expect(maxInFlight).toBe(3);
  await devops('DELETE', `/api/2/connections/${id}`);
});

it('fails the publish on a non-2xx response, logs the status, and goes on with the next event', async () => {
  const prefix = uniquePrefix('http');
  behaviour.set(`/base/${prefix}/events/${ns(prefix)}:bad`, { status: 503, delayMs: 0 });
  const bad = await thing(prefix, 'bad');
  const good = await thing(prefix, 'good');
  const id = await createOpenConnection(service.request, connection(prefix, {}));
  await setCounter(bad, 1);
  await setCounter(good, 1);
  await waitFor(
    async () =>
      metric(
        (await devops('GET', `/api/2/connections/${id}/metrics`)).json,
        'outbound',
        'published',
        'failure',
      ) === 1,
    'one failed publish',
  );
  await waitFor(
    async () =>
      metric((await devops('GET', `/api/2/connections/${id}/metrics`)).json, 'outbound', 'published') === 1,
    'one published',
  );
  const logs = (await devops('GET', `/api/2/connections/${id}/logs`)).json.connectionLogs as Array<{
    type: string;
    level: string;
    message: string;
  }>;
  expect(logs.some((l) => l.type === 'published' && l.level === 'failure' && l.message.includes('503'))).toBe(
    true,
  );
  expect(JSON.stringify(logs)).not.toContain('s3cr3t-pw');
  await devops('DELETE', `/api/2/connections/${id}`);
});

it('resolves a write with the response, and rejects it with the response status, headers and body (retriable only for 408, 429, 5xx)', async () => {
  const prefix = uniquePrefix('http');
  behaviour.set(`/base/${prefix}/missing`, { status: 404, delayMs: 0 });
  behaviour.set(`/base/${prefix}/busy`, { status: 503, delayMs: 0 });
  const conn = validateConnection(
    { ...connection(prefix, {}), id: prefix },
    { connectors: new Map([['http-push', httpPush]]) },
  );
  const client = httpPush.createClient({
    connection: conn,
    clientIndex: 0,
    shared: false,
    onDisconnect: () => undefined,
  });
  await client.connect();
  const target = await client.createTarget(conn.targets[0]);
  const write = (address: string) =>
    target.write({ address, headers: {}, payload: Buffer.from('{}'), contentType: 'application/json' });
  const missing = await write(`PUT:/${prefix}/missing`).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(missing).toBeInstanceOf(HttpPushResponseError);
  expect(missing).toMatchObject({ status: 404, retriable: false });
  expect((missing as HttpPushResponseError).body.toString()).toBe('no thanks');
  expect((missing as Error).message).not.toContain('s3cr3t-pw');
  await expect(write(`PUT:/${prefix}/busy`)).rejects.toMatchObject({ status: 503, retriable: true });
  await expect(write(`PATCH:/${prefix}/fine`)).resolves.toMatchObject({
    status: 204,
    payload: Buffer.alloc(0),
  });
  await client.close();
});

it('reports an unreachable endpoint as failed without showing the password', async () => {
  const prefix = uniquePrefix('http');
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const res = await devops(
    'POST',
    '/api/2/connections',
    connection(prefix, {}, {}, `http://hook:s3cr3t-pw@127.0.0.1:${port}`),
  );
  expect(res.status).toBe(201);
  const status = await waitFor(async () => {
    const s = (await devops('GET', `/api/2/connections/${res.json.id}/status`)).json;
    return s.liveStatus === 'failed' ? s : undefined;
  }, 'failed');
  expect(status.clientStatus[0].statusDetails).toMatch(/ECONNREFUSED/);
  expect(JSON.stringify(status)).not.toContain('s3cr3t-pw');
  await devops('DELETE', `/api/2/connections/${res.json.id}`);
});

it('refuses addresses without a supported verb and sources', async () => {
  const prefix = uniquePrefix('http');
  const bad = await devops('POST', '/api/2/connections', connection(prefix, { address: 'FETCH:/x' }));
  expect(bad.status).toBe(400);
  expect(bad.json.error).toBe('connectivity:connection.configuration.invalid');
  const withSource = await devops('POST', '/api/2/connections', {
    ...connection(prefix, {}),
    sources: [{ addresses: ['x'], authorizationContext: ['nginx:ditto'] }],
  });
  expect(withSource.status).toBe(400);
});

describe('over TLS', () => {
  let dir: string;
  let tlsServer: https.Server;
  let port = 0;
  let serverPem = '';
  let clientCert = '';
  let clientKey = '';
  const peers: string[] = [];

  /** A self-signed certificate for 127.0.0.1 (or a client name) made with openssl. */
  const certificate = (name: string, cn: string, san: string) => {
    const key = path.join(dir, `${name}.key`);
    const cert = path.join(dir, `${name}.pem`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        `subjectAltName=${san}`,
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tb-http-tls-'));
    const server = certificate('server', '127.0.0.1', 'IP:127.0.0.1');
    const client = certificate('client', 'twinbridge-client', 'DNS:twinbridge-client');
    serverPem = server.cert;
    clientCert = client.cert;
    clientKey = client.key;
    // Client certificates are asked for, and checked against the client's self-signed one when given.
    tlsServer = https.createServer(
      { key: server.key, cert: server.cert, ca: client.cert, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        peers.push(peer && peer.subject ? String(peer.subject.CN) : '');
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      },
    );
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    port = (tlsServer.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => tlsServer?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const tlsConnection = (extra: Record<string, unknown>) => {
    const prefix = uniquePrefix('https');
    return { ...connection(prefix, {}, {}, `https://127.0.0.1:${port}`), id: prefix, ...extra };
  };
  const push = async (extra: Record<string, unknown>) => {
    const conn = validateConnection(tlsConnection(extra), { connectors: new Map([['http-push', httpPush]]) });
    const client = httpPush.createClient({
      connection: conn,
      clientIndex: 0,
      shared: false,
      onDisconnect: () => undefined,
    });
    try {
      await client.connect();
      const target = await client.createTarget(conn.targets[0]);
      await target.write({
        address: 'POST:/tls',
        headers: {},
        payload: Buffer.from('{}'),
        contentType: 'application/json',
      });
    } finally {
      await client.close();
    }
  };

  it('trusts the server through `ca` and presents a client certificate', async () => {
    peers.length = 0;
    await push({ ca: serverPem, credentials: { type: 'client-cert', cert: clientCert, key: clientKey } });
    expect(peers).toEqual(['twinbridge-client']);
  });

  it('connects to an untrusted server only with validateCertificates false', async () => {
    await expect(push({})).rejects.toMatchObject({ retriable: false });
    await expect(push({ validateCertificates: false })).resolves.toBeUndefined();
  });

  it('shows a connection to an untrusted server as misconfigured', async () => {
    const res = await devops('POST', '/api/2/connections', tlsConnection({ id: undefined }));
    expect(res.status).toBe(201);
    const status = await waitFor(async () => {
      const s = (await devops('GET', `/api/2/connections/${res.json.id}/status`)).json;
      return s.liveStatus === 'misconfigured' ? s : undefined;
    }, 'misconfigured');
    expect(status.clientStatus[0].statusDetails).toMatch(/certificate/i);
    await devops('DELETE', `/api/2/connections/${res.json.id}`);
  });
});
