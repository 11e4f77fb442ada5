/**
 * Starts the real application in-process on a loopback port with a real embedded store in a temporary
 * directory, and gives tests a small fetch-based client (a real HTTP client over a real socket).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { SignalBus } from '../../src/bus/signal-bus.js';
import { StorePolicyDirectory } from '../../src/policies/directory.js';
import { JournalStore } from '../../src/store/embedded/journal-store.js';
import { ThingsService } from '../../src/things/service.js';

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
  bus: SignalBus;
  things: ThingsService;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export async function startTestService(options: { users?: string; dataDir?: string } = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'tb-app-')));
  const store = new JournalStore({ dir: dataDir });
  await store.open();
  const logger = pino({ level: 'silent' });
  const bus = new SignalBus((err) => {
    throw err;
  });
  const policies = new StorePolicyDirectory({ store });
  const things = new ThingsService({ store, bus, policies });
  const users = (options.users ?? 'ditto:ditto,alice:alice,bob:bob').split(',').map((e) => {
    const [user, password] = e.split(':');
    return { user, password };
  });
  const app = await buildApp({
    logger,
    things,
    auth: { users, devopsUsers: [{ user: 'devops', password: 'foobar' }], trustedProxies: [] },
    defaultNamespace: 'org.eclipse.ditto',
    isReady: () => true,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    bus,
    things,
    async request(method, p, o = {}) {
      return request(address, method, p, o);
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export async function request(base: string, method: string, p: string, o: RequestOptions = {}): Promise<TestResponse> {
  const headers: Record<string, string> = { ...o.headers };
  const auth = o.auth === undefined ? 'ditto:ditto' : o.auth;
  if (auth !== null) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined) headers['content-type'] = o.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
  const response = await fetch(base + p, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  if (text.length > 0 && (response.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}
