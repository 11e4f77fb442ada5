/**
 * A real browser for tests: Debian's Chromium (installed by the test setup when missing, scripts/browser.ts)
 * driven by playwright-core, which downloads no browser of its own. Each launch gets a new empty profile.
 * `watch(page)` records what a person would see go wrong: console errors, uncaught exceptions, failed
 * requests and HTTP error answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { CHROMIUM_PATH } from '../../scripts/browser.js';

// Flags that work on a loaded 2-core machine without a GPU, sandbox or network beyond loopback.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  /** The browser with its profile; each page is a new tab (its own sessionStorage, so signed out). */
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1360, height: 860 }): Promise<TestBrowser> {
  // A persistent context is how playwright passes --user-data-dir: a new, empty profile per launch.
  const profile = await mkdtemp(path.join(tmpdir(), 'tb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Replaces the text of the console's code editor whose content element has `id` as a person pasting it
 * does: select all, then a paste event with the text (the editor's own paste handling). Inserting text
 * through the browser's native editing instead makes Chromium try inline styles, which the CSP refuses.
 */
export async function pasteIntoEditor(page: Page, id: string, text: string): Promise<void> {
  const editor = page.locator(`#${id}`);
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await editor.evaluate((el, pasted) => {
    // In the page: DOM globals (the tests' TypeScript has no DOM library).
    const dom = globalThis as any;
    const data = new dom.DataTransfer();
    data.setData('text/plain', pasted);
    el.dispatchEvent(
      new dom.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
    );
  }, text);
}

export interface PageProblems {
  /** Console errors, page errors, failed requests and 4xx/5xx answers, in order. */
  problems: string[];
  /** Forgets what was recorded (e.g. after a step that is expected to fail). */
  clear(): void;
}

/**
 * Records the page's problems. A closed event stream is not one: the console closes its SSE requests when
 * it leaves a page, which the browser reports as an aborted request.
 */
export function watch(page: Page): PageProblems {
  const problems: string[] = [];
  const isStream = (request: Request) => (request.headers()['accept'] ?? '').includes('text/event-stream');
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (isStream(request) && request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(
      `request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`,
    );
  });
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return { problems, clear: () => void problems.splice(0) };
}
