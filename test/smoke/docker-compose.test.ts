// docker-compose.yml stays valid and in step with the images the tests use.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/brokers/config.js';
import { images } from '../brokers/images.js';

const composeFile = path.join(repoRoot, 'docker-compose.yml');
const text = readFileSync(composeFile, 'utf8');

/** The Compose CLI on this machine: the `docker compose` plugin, else standalone docker-compose. */
function composeCommand(): string[] | undefined {
  const works = (command: string, args: string[]) =>
    spawnSync(command, args, { stdio: 'ignore' }).status === 0;
  if (works('docker', ['compose', 'version'])) return ['docker', 'compose'];
  if (works('docker-compose', ['version'])) return ['docker-compose'];
  return undefined;
}
const compose = composeCommand();

/** The top-level services and their text, split on two-space-indented keys under `services:`. */
function services(): Map<string, string> {
  const section = text.slice(text.indexOf('\nservices:\n'), text.search(/\nvolumes:\n/));
  const result = new Map<string, string>();
  for (const block of section.split(/\n(?= {2}[a-z][\w-]*:\n)/).slice(1)) {
    result.set(block.trim().split(':')[0], block);
  }
  return result;
}

describe('docker-compose.yml', () => {
  it('names the same broker images as the testcontainers path', () => {
    const named = [...text.matchAll(/^\s+image:\s*(\S+)\s*$/gm)].map((match) => match[1]).sort();
    expect(named).toEqual(Object.values(images).sort());
  });

  it('gives Twinbridge and every broker a health check', () => {
    const all = services();
    expect([...all.keys()].sort()).toEqual([
      'kafka',
      'mosquitto',
      'postgres',
      'rabbitmq',
      'twinbridge',
      'twinbridge-1',
      'twinbridge-2',
    ]);
    for (const [name, block] of all) expect(block, name).toMatch(/\n {4}healthcheck:\n/);
  });

  // Needs a Compose CLI (the engine is not needed for `config`).
  it.runIf(compose !== undefined)('passes `docker compose config`', () => {
    const [command, ...args] = compose ?? [];
    expect(() =>
      execFileSync(command, [...args, '-f', composeFile, 'config', '-q'], { cwd: repoRoot, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
