/**
 * Prints the configuration table from the options table of src/config/config.ts; with `--write`,
 * replaces the table between the config-table markers in README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { optionsTable } from '../src/config/config.js';

const table = optionsTable();
if (process.argv.includes('--write')) {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('<!-- config-table');
  const end = readme.indexOf('<!-- /config-table -->');
  if (start < 0 || end < 0) throw new Error('README.md lacks the config-table markers');
  const head = readme.slice(0, readme.indexOf('\n', start) + 1);
  writeFileSync('README.md', `${head}${table}\n${readme.slice(end)}`);
} else {
  console.log(table);
}
