// vitest global setup: builds dist/ (as `npm start` does) and makes sure every broker kind has an address
// before the test files run.
//   - kinds with an address in the environment (TWINBRIDGE_TEST_*): nothing to do;
//   - otherwise, with a reachable Docker engine: throw-away containers (removed at the end);
//   - otherwise: the local brokers of scripts/brokers (installed on the first run, which may take
//     minutes; later runs only check them, in about a second).
// Local brokers are deliberately left running at the end so the next run is fast; stop them with
// `npm run brokers:down`. The console's browser tests get Chromium the same way (scripts/browser.ts).
import type { TestProject } from 'vitest/node';
import { build } from '../scripts/build.js';
import { ensureChromium, type ChromiumAvailability } from '../scripts/browser.js';
import { up } from '../scripts/brokers/index.js';
import { dockerAvailable, startDockerBrokers } from './brokers/docker.js';
import { fromEnvironment, localServers } from './brokers/env.js';
import { brokerKinds } from './brokers/types.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // Tests that run the service as a process run the build of `npm start` (test/helpers/service-process.ts).
  await build();
  process.env.TWINBRIDGE_TEST_PREBUILT = '1';
  project.provide('twinbridgeDockerBrokers', {});
  const chromium = await ensureChromium();
  if ('unavailable' in chromium) console.warn(`browser tests will be skipped: ${chromium.unavailable}`);
  project.provide('twinbridgeChromium', chromium);
  const wanted = brokerKinds.filter((kind) => !fromEnvironment(kind));
  if (wanted.length === 0) return undefined;
  if (await dockerAvailable()) {
    const docker = await startDockerBrokers(wanted);
    project.provide('twinbridgeDockerBrokers', docker.endpoints);
    return () => docker.stop();
  }
  const servers = [...new Set(wanted.map((kind) => localServers[kind]))];
  const started = Date.now();
  const result = await up(servers);
  const changed = Object.entries(result).filter(([, state]) => state === 'started');
  if (changed.length > 0) {
    console.log(
      `brokers: started ${changed.map(([name]) => name).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s (they keep running; npm run brokers:down stops them)`,
    );
  }
  return undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the browser tests' Chromium is, or why there is none (test/ui/). */
    twinbridgeChromium: ChromiumAvailability;
  }
}
