/**
 * Writes docs/errors.md from the error registry: every error the service can answer with, by code, with
 * its HTTP status and description. `npm run docs:errors` after declaring a new error; a test fails when
 * the document lacks a declared code.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Imports every module of src/errors so the registry is complete. */
export async function loadAllErrors(): Promise<
  Array<{ code: string; status: number; description?: string }>
> {
  const dir = path.join(root, 'src', 'errors');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    await import(pathToFileURL(path.join(dir, file)).href);
  }
  const { declaredErrors, describeError } = await import('../src/errors/ditto-error.js');
  return declaredErrors()
    .map((e) => ({ ...e, description: describeError(e.code) }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

export function renderErrorsDoc(
  errors: Array<{ code: string; status: number; description?: string }>,
): string {
  const rows = errors.map(
    (e) => `| \`${e.code}\` | ${e.status} | ${(e.description ?? '').replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Errors',
    '',
    "Every error is answered as Ditto's error JSON `{status, error, message, description?}` with the HTTP",
    "status below (on WebSocket and connections inside a Ditto Protocol error message). Codes follow Ditto's",
    'spelling; general errors have no prefix. Generated from the registry by `npm run docs:errors`.',
    '',
    '| code | status | description |',
    '|---|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const errors = await loadAllErrors();
  writeFileSync(path.join(root, 'docs', 'errors.md'), renderErrorsDoc(errors));
  console.log(`docs/errors.md: ${errors.length} error codes`);
}
