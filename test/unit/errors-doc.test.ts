import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { loadAllErrors } from '../../scripts/errors-doc.js';

it('documents every declared error code with its status in docs/errors.md', async () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const errors = await loadAllErrors();
  expect(errors.length).toBeGreaterThan(50);
  const missing = errors
    .filter((e) => !doc.includes(`| \`${e.code}\` | ${e.status} |`))
    .map((e) => `${e.code} (${e.status})`);
  expect(missing, 'run `npm run docs:errors`').toEqual([]);
});
