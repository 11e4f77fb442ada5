/**
 * The optional libraries of Ditto's JavaScript mapper (ditto-interfaces.md §12.2 `loadLongJS`,
 * `loadBytebufferJS`): the unmodified browser builds of the npm packages `long` 3.2.0 and `bytebuffer` 5.0.1,
 * the same versions Ditto ships as webjars. Both are Apache-2.0 (like Twinbridge) and are npm dependencies,
 * not copies in this repository. Their UMD wrappers see no `define`/`require`/`module` inside the isolate, so
 * they install themselves as `dcodeIO.Long` and `dcodeIO.ByteBuffer` on the isolate's global object.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface LibrarySource {
  filename: string;
  code: string;
}

let cached: { long: LibrarySource; bytebuffer: LibrarySource } | undefined;

/** Reads the two library sources once per process. */
export function librarySources(): { long: LibrarySource; bytebuffer: LibrarySource } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const bytebufferPath = require.resolve('bytebuffer/dist/bytebuffer.js');
  // long@~3 is bytebuffer's own dependency; resolve it from there, not the project's (possibly newer) `long`.
  const longPath = createRequire(bytebufferPath).resolve('long/dist/long.js');
  const longVersion = JSON.parse(
    readFileSync(createRequire(bytebufferPath).resolve('long/package.json'), 'utf8'),
  ).version;
  if (!String(longVersion).startsWith('3.'))
    throw new Error(`expected long.js 3.x for bytebuffer.js, found ${longVersion}`);
  cached = {
    long: { filename: 'long.js', code: readFileSync(longPath, 'utf8') },
    bytebuffer: { filename: 'bytebuffer.js', code: readFileSync(bytebufferPath, 'utf8') },
  };
  return cached;
}
