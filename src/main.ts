/**
 * Composition root: configuration → store → services → HTTP app → listen. Stops gracefully on SIGTERM
 * and SIGINT (stop accepting, finish requests, flush the store).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { SignalBus } from './bus/signal-bus.js';
import { ConfigError, loadConfig } from './config/config.js';
import { StorePolicyDirectory } from './policies/directory.js';
import { JournalStore } from './store/embedded/journal-store.js';
import { ThingsService } from './things/service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password', '*.users', '*.devopsUsers'] });
  let ready = false;
  const store = new JournalStore({ dir: path.resolve(config.dataDir) });
  await store.open();
  const bus = new SignalBus((err) => logger.error({ err }, 'event subscriber failed'));
  const policies = new StorePolicyDirectory({ store, maxPolicyBytes: config.maxPolicyBytes });
  const things = new ThingsService({ store, bus, policies, maxThingBytes: config.maxThingBytes });
  const app = await buildApp({
    logger,
    things,
    auth: { users: config.users, devopsUsers: config.devopsUsers, trustedProxies: config.trustedProxies },
    defaultNamespace: config.defaultNamespace,
    https: config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined,
    isReady: () => ready,
  });
  const address = await app.listen({ host: config.host, port: config.port });
  ready = true;
  logger.info({ address, dataDir: path.resolve(config.dataDir) }, 'Twinbridge is ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ready = false;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Twinbridge failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
