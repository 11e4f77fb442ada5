/**
 * The code an in-process benchmark measures, as `npm start` runs it: the module's build under dist/
 * (scripts/build.ts, built once per benchmark process). Importing the sources would measure them through
 * tsx, whose esbuild `keepNames` wraps every closure made at run time in a `__name(…)` call (8 % of the
 * JavaScript mapper's CPU time in a profile).
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from '../../scripts/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let building: Promise<void> | undefined;

/** The built module of `source` (a path under the repository such as `src/search/search-index.ts`). */
export async function built<T>(source: string): Promise<T> {
  await (building ??= build());
  return (await import(pathToFileURL(path.join(root, 'dist', source.replace(/\.ts$/, '.js'))).href)) as T;
}
