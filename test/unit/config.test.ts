import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('configuration', () => {
  it('has documented defaults: port 8080 on all interfaces, ./data, ditto:ditto and devops:foobar', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      dataDir: './data',
      logLevel: 'info',
      users: [{ user: 'ditto', password: 'ditto' }],
      devopsUsers: [{ user: 'devops', password: 'foobar' }],
      trustedProxies: [],
    });
  });

  it('reads TWINBRIDGE_ variables and lets them win over the config file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-config-'));
    const file = path.join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ port: 9000, logLevel: 'debug', users: ['a:b', 'c:d'] }));
    const config = loadConfig({ TWINBRIDGE_CONFIG: file, TWINBRIDGE_PORT: '9100' });
    expect(config.port).toBe(9100);
    expect(config.logLevel).toBe('debug');
    expect(config.users).toEqual([
      { user: 'a', password: 'b' },
      { user: 'c', password: 'd' },
    ]);
  });

  it('reports every bad value at once with the variable that holds it, never echoing secrets', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        TWINBRIDGE_PORT: '70000',
        TWINBRIDGE_LOG_LEVEL: 'loud',
        TWINBRIDGE_USERS: 'nopassword',
        TWINBRIDGE_TLS_CERT: '/nonexistent.pem',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    expect(text).toContain('TWINBRIDGE_PORT: must be a port number');
    expect(text).toContain('TWINBRIDGE_LOG_LEVEL: must be one of');
    expect(text).toContain('TWINBRIDGE_USERS: each entry must be user:password');
    expect(text).not.toContain('nopassword');
    expect(text).toContain('TWINBRIDGE_TLS_CERT: file /nonexistent.pem cannot be read');
  });

  it('reads history retention as Ditto durations, per namespace too, and the headers history keeps', () => {
    expect(loadConfig({})).toMatchObject({
      historyRetentionNamespaces: {},
      historyCompactionInterval: 3_600_000,
      historicalHeadersToPersist: [],
    });
    expect(loadConfig({}).historyRetention).toBeUndefined();
    const config = loadConfig({
      TWINBRIDGE_HISTORY_RETENTION: '30d',
      TWINBRIDGE_HISTORY_RETENTION_NAMESPACES: '{"audit":"forever","telemetry":"12h"}',
      TWINBRIDGE_HISTORICAL_HEADERS_TO_PERSIST: 'ditto-originator, correlation-id',
    });
    expect(config.historyRetention).toBe(30 * 86_400_000);
    expect(config.historyRetentionNamespaces).toEqual({ audit: 'forever', telemetry: '12h' });
    expect(config.historicalHeadersToPersist).toEqual(['ditto-originator', 'correlation-id']);
    let error: ConfigError | undefined;
    try {
      loadConfig({
        TWINBRIDGE_HISTORY_RETENTION: '30 days',
        TWINBRIDGE_HISTORY_RETENTION_NAMESPACES: '{"audit":"always"}',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error?.problems.join('\n')).toMatch(
      /TWINBRIDGE_HISTORY_RETENTION: must be a duration[\s\S]*TWINBRIDGE_HISTORY_RETENTION_NAMESPACES: 'audit' must be a duration/,
    );
  });

  it('requires the TLS certificate and key together', () => {
    expect(() => loadConfig({ TWINBRIDGE_TLS_CERT: 'package.json' })).toThrow(/must be set together/);
  });

  it('rejects unknown keys in the config file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tb-config-'));
    const file = path.join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ TWINBRIDGE_CONFIG: file })).toThrow(/unknown key 'prot'/);
  });
});

describe('documentation', () => {
  it('lists every option with its environment variable in the README', async () => {
    const { readFileSync } = await import('node:fs');
    const { OPTIONS } = await import('../../src/config/config.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = OPTIONS.filter((o) => !readme.includes(`\`${o.env}\``)).map((o) => o.env);
    expect(missing, 'run `npm run -s docs:config` and paste the table into the README').toEqual([]);
  });
});
