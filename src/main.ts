/**
 * Composition root: configuration → services → HTTP app → listen. Stops gracefully on SIGTERM and SIGINT
 * (stop accepting, finish requests, flush the store).
 */
import path from 'node:path';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { createServices } from './services.js';
import { connectors } from '../connectors/index.js';

async function main(): Promise<void> {
  let config: Config;
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
  const services = await createServices(config, logger, { connectors });
  const app = await buildApp(services, { isReady: () => ready });
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
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Twinbridge failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
