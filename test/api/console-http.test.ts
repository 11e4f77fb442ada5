/**
 * The web console over HTTP (src/api/http/ui.ts): what /ui serves and with which caching and Content
 * Security Policy, `/` for browsers and for API clients, the console's session probe, the basic-auth
 * challenge, and the metrics series behind the console's charts.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uiRoutes } from '../../src/api/http/ui.js';
import { loadConfig } from '../../src/config/config.js';
import { startTestService, type TestService } from '../helpers/app.js';

describe('web console over HTTP', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ TWINBRIDGE_DEVOPS_USERS: 'devops:foobar' });
  });
  afterAll(() => service.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(service.url + path, { headers, redirect: 'manual' });

  it('redirects / to /ui/ for a browser and answers API clients as before', async () => {
    const browser = await get('/', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/ui/');
    const api = await get('/', { accept: 'application/json' });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ status: 404, error: 'gateway:route.notfound' });
  });

  it('serves the page with no-cache and a strict CSP whose style nonce is new for every answer', async () => {
    const [a, b] = [await get('/ui/'), await get('/ui/things/org.example:deep-link')];
    for (const page of [a, b]) {
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('cache-control')).toBe('no-cache');
    }
    const nonces = await Promise.all(
      [a, b].map(async (page) => {
        const csp = page.headers.get('content-security-policy')!;
        expect(csp).toContain("default-src 'none'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
        const html = await page.text();
        expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
        const nonce = /content="([^"]+)"/.exec(html.slice(html.indexOf('csp-nonce')))![1];
        expect(csp).toContain(`style-src 'self' 'nonce-${nonce}'`);
        return nonce;
      }),
    );
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it('serves hashed assets with a year of caching, gzip when asked, and 404 for unknown ones', async () => {
    const html = await (await get('/ui/')).text();
    const script = /<script type="module" src="([^"]+)"/.exec(html)![1];
    const style = /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1];
    expect(script).toMatch(/^\/ui\/assets\/main-[A-Z0-9]+\.js$/);
    const js = await get(script, { 'accept-encoding': 'gzip' });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await get(style, { 'accept-encoding': 'identity' });
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('content-encoding')).toBeNull();
    const missing = await get('/ui/assets/main-NOTTHERE.js');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'gateway:route.notfound' });
  });

  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

  it('tells the console which realms the credentials are valid in', async () => {
    expect(await (await get('/ui/session', { authorization: basic('ditto:ditto') })).json()).toEqual({
      api: { subjects: ['nginx:ditto'] },
      devops: null,
    });
    expect(await (await get('/ui/session', { authorization: basic('devops:foobar') })).json()).toEqual({
      api: null,
      devops: { subjects: ['devops:devops'] },
    });
    const wrong = await get('/ui/session', {
      authorization: basic('ditto:wrong'),
      'x-requested-with': 'XMLHttpRequest',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'gateway:authentication.failed' });
  });

  it('challenges for basic auth on 401 unless the request says it is a script (X-Requested-With)', async () => {
    for (const path of ['/api/2/things', '/ui/session', '/api/2/connections']) {
      const plain = await get(path, { authorization: basic('ditto:wrong') });
      expect(plain.status).toBe(401);
      expect(plain.headers.get('www-authenticate')).toBe('Basic realm="DITTO"');
      const script = await get(path, {
        authorization: basic('ditto:wrong'),
        'x-requested-with': 'XMLHttpRequest',
      });
      expect(script.status).toBe(401);
      expect(script.headers.get('www-authenticate')).toBeNull();
    }
  });

  it('answers 503 with how to build it where the console is not built', async () => {
    const app = Fastify();
    await app.register(uiRoutes, {
      services: { config: loadConfig({}), jwt: undefined },
      assetsDir: await mkdtemp(path.join(tmpdir(), 'tb-no-ui-')),
    });
    const response = await app.inject({ method: 'GET', url: '/ui/things' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build');
    await app.close();
  });

  it('serves the metrics series to devops users only, with the store writes of the window', async () => {
    expect((await service.request('GET', '/devops/metrics/series')).status).toBe(401);
    expect(
      (await service.request('PUT', '/api/2/things/org.series:thing-1', { body: { attributes: { a: 1 } } }))
        .status,
    ).toBe(201);
    const response = await service.request('GET', '/devops/metrics/series', { auth: 'devops:foobar' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const series = response.json;
    expect(series).toMatchObject({ stepMs: 5000, windowMs: 900_000, connections: [], truncated: false });
    expect(series.timestamps.length).toBeGreaterThan(0);
    expect(series.storeWrites.count).toHaveLength(series.timestamps.length);
    const writes = series.storeWrites.count.reduce((sum: number, n: number | null) => sum + (n ?? 0), 0);
    expect(writes).toBeGreaterThan(0);
  });
});
