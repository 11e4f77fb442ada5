/**
 * Starts the real application in-process on a loopback port with a real embedded store in a temporary
 * directory, and gives tests a small fetch-based client (a real HTTP client over a real socket).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createServices, type Services } from '../../src/services.js';
import { connectors } from '../../connectors/index.js';

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty. */
  json: any;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** `user:password`; default `ditto:ditto`; null sends no credentials. */
  auth?: string | null;
}

export interface TestService {
  url: string;
  services: Services;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

/**
 * Starts the service with the same wiring as main.ts. `env` holds TWINBRIDGE_* variables; by default the
 * API users are ditto, alice and bob (password = user name) and the store lives in a fresh temp dir.
 * `logger` replaces the silent default (a test that reads the service's log lines).
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<TestService> {
  const dataDir = env.TWINBRIDGE_DATA_DIR ?? (await mkdtemp(path.join(tmpdir(), 'tb-app-')));
  const config = loadConfig({
    TWINBRIDGE_USERS: 'ditto:ditto,alice:alice,bob:bob',
    ...env,
    TWINBRIDGE_DATA_DIR: dataDir,
  });
  const services = await createServices(config, options.logger ?? pino({ level: 'silent' }), { connectors });
  const app = await buildApp(services);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    services,
    request: (method, p, o = {}) => request(address, method, p, o),
    async close() {
      await app.close();
      await services.close();
    },
  };
}

export async function request(
  base: string,
  method: string,
  p: string,
  o: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...o.headers };
  const auth = o.auth === undefined ? 'ditto:ditto' : o.auth;
  if (auth !== null) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined)
    headers['content-type'] =
      o.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
  const response = await fetch(base + p, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  if (text.length > 0 && (response.headers.get('content-type') ?? '').includes('json'))
    json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}
