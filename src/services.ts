/**
 * Composition of the services from a validated configuration, shared by main.ts and the tests so both run
 * the same wiring. Adding a service: construct it here, add it to Services, close it in close().
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { SignalBus } from './bus/signal-bus.js';
import type { Config } from './config/config.js';
import { StorePolicyDirectory } from './policies/directory.js';
import { JournalStore } from './store/embedded/journal-store.js';
import type { Store } from './store/port.js';
import { ThingsService } from './things/service.js';
import { createConditionEvaluator } from './search/condition.js';
import { SearchService } from './search/service.js';

export interface Services {
  config: Config;
  logger: Logger;
  store: Store;
  bus: SignalBus;
  policies: StorePolicyDirectory;
  things: ThingsService;
  search: SearchService;
  /** Stops everything started here, in reverse order; the store last so pending writes become durable. */
  close(): Promise<void>;
}

export async function createServices(config: Config, logger: Logger): Promise<Services> {
  const store = new JournalStore({ dir: path.resolve(config.dataDir) });
  await store.open();
  const bus = new SignalBus((err) => logger.error({ err }, 'event subscriber failed'));
  const policies = new StorePolicyDirectory({ store, maxPolicyBytes: config.maxPolicyBytes });
  const things = new ThingsService({ store, bus, policies, maxThingBytes: config.maxThingBytes, evaluateCondition: createConditionEvaluator() });
  const search = new SearchService({ policies });
  await search.start(store, bus);
  return {
    config,
    logger,
    store,
    bus,
    policies,
    things,
    search,
    async close() {
      search.stop();
      await store.close();
    },
  };
}
