/**
 * Composition root: configuration → services → HTTP app → listen. Stops gracefully on SIGTERM and SIGINT
 * (stop accepting, finish requests, flush the store).
 */
import path from 'node:path';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, defaultCredentialsInUse, loadConfig, type Config } from './config/config.js';
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
  // On a terminal the log is for a person (pino-pretty, in pino's worker thread); elsewhere one JSON object
  // per line for the log collector.
  const pretty = process.stdout.isTTY
    ? {
        transport: {
          target: 'pino-pretty',
          options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        },
      }
    : {};
  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', '*.password', '*.users', '*.devopsUsers'],
    ...pretty,
  });
  let ready = false;
  const services = await createServices(config, logger, { connectors });
  const app = await buildApp(services, { isReady: () => ready });
  const address = await app.listen({ host: config.host, port: config.port });
  ready = true;
  logger.info({ address, dataDir: path.resolve(config.dataDir) }, 'Twinbridge is ready');
  const consoleUrl = consoleAddress(address);
  const defaults = defaultCredentialsInUse(config);
  if (defaults.length > 0) {
    logger.warn(
      { console: consoleUrl, defaultUsers: defaults },
      `Web console: ${consoleUrl} (WARNING: the default users and passwords are active for ${defaults.join(', ')}; set TWINBRIDGE_USERS and TWINBRIDGE_DEVOPS_USERS)`,
    );
  } else {
    logger.info({ console: consoleUrl }, `Web console: ${consoleUrl}`);
  }

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

/** The console's URL for a person: a wildcard bind address becomes localhost. */
function consoleAddress(address: string): string {
  const url = new URL('/ui/', address);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = 'localhost';
  return url.toString();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Twinbridge failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
