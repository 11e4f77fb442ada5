/**
 * What `npm start` tells a person on the first run: where the web console is, with a warning while the
 * default users and passwords are active; JSON log lines when stdout is not a terminal, pretty lines
 * when it is (a pseudo-terminal made by util-linux `script`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startArguments, startServiceProcess } from '../helpers/service-process.js';

async function dataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'tb-first-run-'));
}

function consoleLine(output: string): Record<string, unknown> | undefined {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((entry) => typeof entry.msg === 'string' && entry.msg.startsWith('Web console'));
}

describe('first run', () => {
  it('logs JSON with the console URL and a warning while the default users are active', async () => {
    const service = await startServiceProcess({ TWINBRIDGE_DATA_DIR: await dataDir() });
    try {
      await expect.poll(() => consoleLine(service.output()), { timeout: 10_000 }).toBeDefined();
      const line = consoleLine(service.output())!;
      expect(line.level).toBe(40); // pino's warn
      expect(line.console).toBe(`${service.url}/ui/`);
      expect(line.msg).toContain(`${service.url}/ui/`);
      expect(line.msg).toContain('default users and passwords are active for ditto, devops');
    } finally {
      await service.stop();
    }
  });

  it('says where the console is without a warning once the passwords are changed', async () => {
    const service = await startServiceProcess({
      TWINBRIDGE_DATA_DIR: await dataDir(),
      TWINBRIDGE_USERS: 'alice:secret',
      TWINBRIDGE_DEVOPS_USERS: 'ops:other',
    });
    try {
      await expect.poll(() => consoleLine(service.output()), { timeout: 10_000 }).toBeDefined();
      expect(consoleLine(service.output())).toMatchObject({
        level: 30,
        msg: `Web console: ${service.url}/ui/`,
      });
    } finally {
      await service.stop();
    }
  });

  it('pretty-prints the log on a terminal', async () => {
    const node = [process.execPath, ...startArguments].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', node, '/dev/null'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: {
        ...process.env,
        TWINBRIDGE_HOST: '127.0.0.1',
        TWINBRIDGE_PORT: '0',
        TWINBRIDGE_DATA_DIR: await dataDir(),
        TWINBRIDGE_LOG_LEVEL: 'info',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await expect
        .poll(() => output, { timeout: 30_000 })
        .toMatch(/Web console: http:\/\/127\.0\.0\.1:\d+\/ui\//);
      const text = output.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), ''); // without colours
      expect(text).toMatch(/WARN.*Web console: http:\/\/127\.0\.0\.1:\d+\/ui\/ \(WARNING: the default users/);
      expect(text).toMatch(/INFO.*Twinbridge is ready/);
      expect(text.split('\n').some((line) => line.trimStart().startsWith('{"level"'))).toBe(false);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });
});
