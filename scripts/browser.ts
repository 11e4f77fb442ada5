/**
 * The browser of the console's tests (test/ui/): Debian's Chromium, installed with apt like the brokers'
 * packages when it is missing (scripts/brokers/install.ts), driven by playwright-core, which never
 * downloads a browser of its own.
 */
import { existsSync } from 'node:fs';
import { ensureAptPackages } from './brokers/install.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export type ChromiumAvailability = { path: string } | { unavailable: string };

/** Installs Chromium (and a font family to render text with) when /usr/bin/chromium is missing. */
export async function ensureChromium(): Promise<ChromiumAvailability> {
  if (existsSync(CHROMIUM_PATH)) return { path: CHROMIUM_PATH };
  try {
    await ensureAptPackages(['chromium', 'fonts-liberation']);
  } catch (err) {
    return {
      unavailable: `Chromium could not be installed from Debian's packages: ${(err as Error).message}`,
    };
  }
  return existsSync(CHROMIUM_PATH)
    ? { path: CHROMIUM_PATH }
    : { unavailable: `the chromium package is installed but ${CHROMIUM_PATH} is missing` };
}
