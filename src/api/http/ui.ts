/**
 * The web console (src/ui/, bundled into dist/ui/ by `npm run build`), served by the service itself:
 *
 *   GET /                      302 to /ui/ when the client accepts HTML; API clients get the 404 they got before
 *   GET /ui, /ui/*             index.html (the console routes in the browser), `Cache-Control: no-cache`
 *   GET /ui/assets/<name>      the hashed bundle files, cached for a year (`immutable`)
 *   GET /ui/session            what the presented credentials may do: `{"api": {"subjects"} | null,
 *                              "devops": {"subjects"} | null}`; 401 when neither realm accepts them
 *
 * Every /ui response carries a strict Content-Security-Policy: scripts, styles and requests only from this
 * origin, no inline script, no eval, no framing. The page's policy adds a nonce, new for each answer, for
 * the style elements the code editor (CodeMirror) creates; the page passes it on from a meta tag. Nothing
 * is fetched from elsewhere at run time. The files are
 * read once at start and kept in memory (with a gzip copy made on first use); without a build the console answers 503 and
 * says how to build it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../auth/context.js';
import { DittoError } from '../../errors/ditto-error.js';
import { authenticationFailed, routeNotFound } from '../../errors/gateway.js';
import type { Services } from '../../services.js';
import { authenticate, type AuthOptions } from './auth.js';

const UI_PATH = '/ui';

export interface UiRoutesOptions {
  services: Pick<Services, 'config' | 'jwt'>;
  /** Where the built console is; default dist/ui of this checkout. */
  assetsDir?: string;
}

const contentSecurityPolicy = (styleNonce?: string) =>
  [
    "default-src 'none'",
    "script-src 'self'",
    styleNonce ? `style-src 'self' 'nonce-${styleNonce}'` : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

/** Where the built index.html wants the page's nonce (src/ui/index.html). */
const NONCE_PLACEHOLDER = '{{nonce}}';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface Asset {
  type: string;
  body: Buffer;
  compressible: boolean;
  /** Made on the first request that accepts it (null: not smaller than the body). */
  gzip?: Buffer | null;
}

/** dist/ui beside dist/src when running the build, <root>/dist/ui when running the sources. */
function defaultAssetsDir(): string {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  return path.basename(root) === 'dist' ? path.join(root, 'ui') : path.join(root, 'dist', 'ui');
}

function load(file: string): Asset {
  const body = readFileSync(file);
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  return {
    type,
    body,
    compressible: type.startsWith('text/') || type.includes('json') || type.includes('svg'),
  };
}

function loadConsole(dir: string): { index: Asset; assets: Map<string, Asset> } | undefined {
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) return undefined;
  const assets = new Map<string, Asset>();
  const assetsDir = path.join(dir, 'assets');
  if (existsSync(assetsDir))
    for (const name of readdirSync(assetsDir)) assets.set(name, load(path.join(assetsDir, name)));
  return { index: load(indexFile), assets };
}

function send(
  request: FastifyRequest,
  reply: FastifyReply,
  asset: Asset,
  cacheControl: string,
): FastifyReply {
  reply
    .header('content-type', asset.type)
    .header('cache-control', cacheControl)
    .header('vary', 'accept-encoding');
  if (asset.compressible && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    if (asset.gzip === undefined) {
      const gzip = gzipSync(asset.body);
      asset.gzip = gzip.length < asset.body.length ? gzip : null;
    }
    if (asset.gzip) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  }
  return reply.send(asset.body);
}

/** Whether the request asks for a page (a browser navigation), not for data. */
function acceptsHtml(request: FastifyRequest): boolean {
  return /\btext\/html\b/.test(String(request.headers.accept ?? ''));
}

export async function uiRoutes(app: FastifyInstance, options: UiRoutesOptions): Promise<void> {
  const dir = options.assetsDir ?? defaultAssetsDir();
  const built = loadConsole(dir);
  if (!built) app.log.warn({ dir }, 'the web console is not built (npm run build); /ui answers 503');
  const none = { config: { realm: 'none' as const } };
  const { config, jwt } = options.services;
  // The same users and issuers as every other route (src/app.ts registerAuthentication).
  const auth: AuthOptions = {
    users: config.users,
    devopsUsers: config.devopsUsers,
    trustedProxies: config.trustedProxies,
    jwt,
  };
  const trusted = new Set(auth.trustedProxies);

  // Hooks of this plugin apply to its routes only (fastify encapsulation).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy'))
      reply.header('content-security-policy', contentSecurityPolicy());
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });

  app.get('/', none, async (request, reply) => {
    if (!acceptsHtml(request)) throw routeNotFound({ path: '/' });
    return reply.redirect(`${UI_PATH}/`, 302);
  });

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!built) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send('The web console is not built: run `npm run build` (npm start does it).\n');
    }
    const nonce = randomBytes(18).toString('base64');
    return reply
      .header('content-security-policy', contentSecurityPolicy(nonce))
      .header('cache-control', 'no-cache')
      .type(built.index.type)
      .send(built.index.body.toString('utf8').replaceAll(NONCE_PLACEHOLDER, nonce));
  };
  app.get(UI_PATH, none, page);
  app.get(`${UI_PATH}/*`, none, page);

  app.get(`${UI_PATH}/assets/:name`, none, async (request, reply) => {
    const asset = built?.assets.get((request.params as { name: string }).name);
    if (!asset) throw routeNotFound({ path: request.url.split('?')[0] });
    return send(request, reply, asset, 'public, max-age=31536000, immutable');
  });

  app.get(`${UI_PATH}/session`, none, async (request, reply) => {
    const realm = async (name: 'api' | 'devops'): Promise<AuthContext | null> => {
      try {
        return await authenticate(request, name, auth, trusted);
      } catch (err) {
        if (err instanceof DittoError && err.status === 401) return null;
        throw err;
      }
    };
    const [api, devops] = [await realm('api'), await realm('devops')];
    if (!api && !devops) throw authenticationFailed({ detail: 'neither an API user nor a devops user' });
    return reply
      .header('cache-control', 'no-store')
      .send({ api: api && { subjects: api.subjects }, devops: devops && { subjects: devops.subjects } });
  });
}
