/**
 * `npm run build` (run by `npm start` first): transpiles src/ and connectors/ to dist/ with esbuild, file by
 * file (no bundle), so the service runs as plain JavaScript. Running the sources through tsx costs CPU on
 * every message: tsx compiles with esbuild's `keepNames`, which wraps each closure created at run time in a
 * `__name(…)` call (measured: ~4 % of the service's CPU on the MQTT path). Type checking stays `npm run
 * typecheck`; tests and scripts run the sources through tsx.
 *
 * The web console (src/ui/, a browser app) is bundled and minified into dist/ui/: assets/ with content
 * hashes in their names (served with long caching, src/api/http/ui.ts) and index.html naming them.
 */
import { build as esbuild, type Metafile } from 'esbuild';
import { globSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UI_SOURCES = 'src/ui';

export async function build(): Promise<void> {
  await rm(path.join(root, 'dist'), { recursive: true, force: true });
  const serverSources = ['src/**/*.ts', 'connectors/**/*.ts']
    .flatMap((pattern) => globSync(pattern, { cwd: root }))
    .filter((file) => !file.startsWith(UI_SOURCES + path.sep));
  await Promise.all([
    esbuild({
      absWorkingDir: root,
      entryPoints: serverSources,
      outdir: 'dist',
      outbase: '.',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'warning',
    }),
    buildUi(),
  ]);
}

/** Bundles the console: one script, one style sheet and the icon, each named by its content hash. */
async function buildUi(): Promise<void> {
  const outdir = path.join(root, 'dist/ui');
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: [`${UI_SOURCES}/main.tsx`, `${UI_SOURCES}/icon.svg`],
    outdir: path.join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    loader: { '.svg': 'copy' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const asset = (ext: string) => assetName(result.metafile, ext);
  const template = await readFile(path.join(root, UI_SOURCES, 'index.html'), 'utf8');
  const html = template
    .replaceAll('{{script}}', asset('.js'))
    .replaceAll('{{style}}', asset('.css'))
    .replaceAll('{{icon}}', asset('.svg'));
  await mkdir(outdir, { recursive: true });
  await writeFile(path.join(outdir, 'index.html'), html);
}

function assetName(metafile: Metafile, ext: string): string {
  const file = Object.keys(metafile.outputs).find((f) => f.endsWith(ext));
  if (!file) throw new Error(`the console build made no ${ext} file`);
  return `/ui/assets/${path.basename(file)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
