/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core, against the real service
 * (embedded store) and the test Mosquitto. Every wait is for a condition (Playwright's auto-waiting), never
 * a sleep. Skipped, with the reason, only where Chromium cannot be installed (test/global-setup.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { getBroker, type BrokerEndpoint } from '../brokers/index.js';
import { startTestService, type TestService } from '../helpers/app.js';
import {
  launchBrowser,
  pasteIntoEditor,
  watch,
  type PageProblems,
  type TestBrowser,
} from '../helpers/browser.js';

const chromium = inject('twinbridgeChromium');
if ('unavailable' in chromium)
  console.warn(`the web console's browser tests are skipped: ${chromium.unavailable}`);

// `ditto` is an API and a devops user here (so one sign-in reaches every page); `alice` is an API user only.
const ENV = {
  TWINBRIDGE_USERS: 'ditto:ditto,alice:alice',
  TWINBRIDGE_DEVOPS_USERS: 'devops:foobar,ditto:ditto',
};
const DEVOPS = 'devops:foobar';

describe.skipIf('unavailable' in chromium)('web console in Chromium', { timeout: 90_000 }, () => {
  let service: TestService;
  let browser: TestBrowser;
  let mqtt: BrokerEndpoint;

  beforeAll(async () => {
    [service, browser, mqtt] = await Promise.all([startTestService(ENV), launchBrowser(), getBroker('mqtt')]);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  /** A new tab (signed out: the console keeps its session per tab) with its problems recorded. */
  async function open(path = '/ui/'): Promise<{ page: Page; problems: PageProblems }> {
    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(service.url + path);
    return { page, problems };
  }

  async function signIn(page: Page, user = 'ditto', password = user): Promise<void> {
    await page.getByLabel('Username', { exact: true }).fill(user);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  /** Clicks a link of the console's navigation and waits for the page's heading. */
  async function go(page: Page, link: string, heading = link): Promise<void> {
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: link, exact: true })
      .click();
    await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  }

  const putThing = async (id: string, body: unknown) => {
    const response = await service.request('PUT', `/api/2/things/${id}`, { body });
    expect(response.status).toBeLessThan(300);
  };

  it('signs in with the Username and Password fields and lands on the things list', async () => {
    const { page, problems } = await open();
    await expect(page.getByLabel('Username', { exact: true }).getAttribute('type')).resolves.not.toBe(
      'password',
    );
    await signIn(page);
    await page.getByRole('heading', { level: 1, name: 'Things' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/things');
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it('refuses wrong credentials with the service message, never with a basic-auth challenge', async () => {
    const { page, problems } = await open();
    const challenges: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 401 && r.headers()['www-authenticate'] !== undefined) challenges.push(r.url());
    });
    await page.getByLabel('Username', { exact: true }).fill('ditto');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Sign-in failed' }).waitFor();
    expect(challenges).toEqual([]);
    // The only problem is the refused sign-in itself.
    expect(problems.problems.filter((p) => !p.includes('401'))).toEqual([]);
    await page.close();
  });

  it('renders every page with no console errors and no failed requests', async () => {
    const thingId = `org.pages:thing-${randomUUID()}`;
    await putThing(thingId, {
      attributes: { location: 'lab' },
      features: { lamp: { properties: { on: true }, desiredProperties: { on: false } } },
    });
    const policyId = (await service.request('GET', `/api/2/things/${thingId}/policyId`)).json as string;
    const created = await service.request('POST', '/api/2/connections', {
      auth: DEVOPS,
      body: {
        name: 'pages',
        connectionType: 'mqtt',
        connectionStatus: 'closed',
        uri: mqtt.url.replace(/^mqtt:/, 'tcp:'),
        sources: [{ addresses: ['pages/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
      },
    });
    expect(created.status).toBe(201);
    const { page, problems } = await open();
    await signIn(page);
    await page.getByRole('heading', { level: 1, name: 'Things' }).waitFor();
    await page.locator(`tr[data-thing-id="${thingId}"] td:first-child a`).click();
    await page.getByRole('heading', { level: 1, name: thingId }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await page.locator('[data-pointer="/attributes/location"]').waitFor();
    await page.getByRole('definition').getByRole('link', { name: policyId, exact: true }).click();
    await page.locator('tr[data-entry]').first().waitFor();
    await go(page, 'Policies');
    await page.locator('#known-policies').getByRole('link', { name: policyId, exact: true }).waitFor();
    await go(page, 'Overview');
    await page.locator('#overview-connections').getByText('pages').waitFor();
    await go(page, 'Connections');
    await page.getByRole('link', { name: 'pages', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'pages' }).waitFor();
    for (const tab of ['Status', 'Metrics', 'Logs', 'Configuration']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.locator(`#panel-${tab.toLowerCase()}`).getByRole('heading', { level: 2 }).first().waitFor();
    }
    await page.locator('#connection-json').waitFor();
    await go(page, 'Connections');
    await page.getByRole('button', { name: 'New connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'New connection' }).waitFor();
    await go(page, 'Mapping tester');
    await page.getByRole('button', { name: 'Map message' }).click();
    await page.locator('.mapper-result[data-mapper="script"] .code-editor').waitFor();
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it('lists a thing created over HTTP', async () => {
    const thingId = `org.list:thing-${randomUUID()}`;
    await putThing(thingId, { attributes: { room: 'kitchen' } });
    const { page, problems } = await open();
    await signIn(page);
    await page.getByLabel('RQL filter').fill('eq(attributes/room,"kitchen")');
    await page.getByLabel('Namespaces').fill('org.list');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const row = page.locator(`tr[data-thing-id="${thingId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('kitchen');
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it('pages through the results with the cursor, sorted as chosen', async () => {
    const namespace = `org.paging${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 12; i++)
      await putThing(`${namespace}:thing-${String(i).padStart(2, '0')}`, { attributes: { i } });
    const { page, problems } = await open();
    await signIn(page);
    await page.getByLabel('Namespaces').fill(namespace);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#things-count').getByText('12 things').waitFor();
    await page.getByLabel('Per page').selectOption('10');
    await page.getByLabel('Sort').selectOption('-thingId');
    const rows = page.locator('tr[data-thing-id]');
    await rows
      .first()
      .and(page.locator(`[data-thing-id="${namespace}:thing-11"]`))
      .waitFor();
    expect(await rows.count()).toBe(10);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await rows
      .first()
      .and(page.locator(`[data-thing-id="${namespace}:thing-01"]`))
      .waitFor();
    expect(await rows.count()).toBe(2);
    await page.getByRole('button', { name: '← Previous' }).click();
    await rows
      .first()
      .and(page.locator(`[data-thing-id="${namespace}:thing-11"]`))
      .waitFor();
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it('shows the service message for a bad RQL filter at the filter', async () => {
    const { page, problems } = await open();
    await signIn(page);
    await page.getByLabel('RQL filter').fill('eq(attributes/room');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const expected = (
      await service.request('GET', `/api/2/search/things?filter=${encodeURIComponent('eq(attributes/room')}`)
    ).json;
    expect(expected.status).toBe(400);
    const error = page.locator('#filter-error');
    await error.getByText(expected.message, { exact: true }).waitFor();
    expect(await page.getByLabel('RQL filter').getAttribute('aria-describedby')).toContain('filter-error');
    expect(problems.problems.filter((p) => !p.includes('400'))).toEqual([]);
    await page.close();
  });

  it('shows a change made over HTTP on the open thing page within a second', async () => {
    const thingId = `org.live:thing-${randomUUID()}`;
    await putThing(thingId, {
      attributes: { room: 'kitchen' },
      features: { lamp: { properties: { on: false } } },
    });
    const { page, problems } = await open(`/ui/things/${thingId}`);
    await signIn(page);
    await page.getByText('Live', { exact: true }).waitFor();
    const on = page.locator('[data-pointer="/features/lamp/properties/on"]');
    await on.getByText('false', { exact: true }).waitFor();
    const put = await service.request('PUT', `/api/2/things/${thingId}/features/lamp/properties/on`, {
      body: true,
    });
    expect(put.status).toBe(204);
    await on.getByText('true', { exact: true }).waitFor({ timeout: 1000 });
    expect(await on.getAttribute('class')).toContain('flash');
    await service.request('PATCH', `/api/2/things/${thingId}/attributes`, { body: { floor: 3, room: null } });
    await page
      .locator('[data-pointer="/attributes/floor"]')
      .getByText('3', { exact: true })
      .waitFor({ timeout: 1000 });
    await page.locator('[data-pointer="/attributes/room"]').waitFor({ state: 'detached', timeout: 1000 });
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it('saves attributes with If-Match and shows both versions on a conflict', async () => {
    const thingId = `org.edit:thing-${randomUUID()}`;
    await putThing(thingId, { attributes: { room: 'kitchen' } });
    const { page, problems } = await open(`/ui/things/${thingId}`);
    await signIn(page);
    await page.locator('#edit-json').getByText('"kitchen"').waitFor();
    await pasteIntoEditor(page, 'edit-json', '{"room": "lab"}');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#edit-saved').waitFor();
    expect((await service.request('GET', `/api/2/things/${thingId}/attributes`)).json).toEqual({
      room: 'lab',
    });
    // The editor has reloaded what it saved: it now holds the service's ETag of it.
    const etag = (await service.request('GET', `/api/2/things/${thingId}/attributes`)).headers.get('etag')!;
    await page.locator('#edit-hint').getByText(etag).waitFor();
    // Someone else writes meanwhile: the console's next save carries the old ETag and gets 412.
    await service.request('PUT', `/api/2/things/${thingId}/attributes/room`, { body: 'office' });
    await pasteIntoEditor(page, 'edit-json', '{"room": "attic"}');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const conflict = page.locator('#edit-conflict');
    await conflict.locator('#conflict-theirs').getByText('"office"').waitFor();
    await conflict.locator('#conflict-mine').getByText('"attic"').waitFor();
    expect((await service.request('GET', `/api/2/things/${thingId}/attributes`)).json).toEqual({
      room: 'office',
    });
    await conflict.getByRole('button', { name: 'Overwrite with yours' }).click();
    await page.locator('#edit-saved').waitFor();
    expect((await service.request('GET', `/api/2/things/${thingId}/attributes`)).json).toEqual({
      room: 'attic',
    });
    expect(problems.problems.filter((p) => !p.includes('412'))).toEqual([]);
    await page.close();
  });

  it('reads an older revision with the slider, or gives way to a note where the service keeps no history', async () => {
    const thingId = `org.history:thing-${randomUUID()}`;
    await putThing(thingId, { attributes: { n: 1 } });
    await service.request('PUT', `/api/2/things/${thingId}/attributes/n`, { body: 2 });
    // What the service does with Ditto's header decides what the console must show.
    const old = await service.request('GET', `/api/2/things/${thingId}`, {
      headers: { 'at-historical-revision': '1' },
    });
    const { page, problems } = await open(`/ui/things/${thingId}`);
    await signIn(page);
    const slider = page.getByRole('slider', { name: 'Revision' });
    await slider.waitFor();
    await slider.focus();
    await page.keyboard.press('ArrowLeft');
    if (old.status === 200) {
      await page.locator('#history-badge').getByText('Revision 1 (read-only)').waitFor();
      await page.locator('[data-pointer="/attributes/n"]').getByText('1', { exact: true }).waitFor();
      expect(problems.problems).toEqual([]);
    } else {
      expect(old.json).toMatchObject({ status: 404, error: 'things:thing.history.notfound' });
      await page.locator('#history-note').getByText('the current revision only').waitFor();
      await slider.waitFor({ state: 'detached' });
      expect(problems.problems.filter((p) => !p.includes('404'))).toEqual([]);
    }
    await page.close();
  });

  it('creates a connection against the test Mosquitto that reaches status open', async () => {
    const { page, problems } = await open('/ui/connections/new');
    await signIn(page);
    const name = `console ${randomUUID().slice(0, 8)}`;
    const connection = {
      name,
      connectionType: 'mqtt',
      connectionStatus: 'open',
      uri: mqtt.url.replace(/^mqtt:/, 'tcp:'),
      specificConfig: { clientId: `console-${randomUUID().slice(0, 8)}` },
      sources: [{ addresses: ['console/telemetry/#'], qos: 1, authorizationContext: ['nginx:ditto'] }],
    };
    await pasteIntoEditor(page, 'connection-json', JSON.stringify(connection, null, 2));
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('#connection-result').getByText('connected to the broker successfully').waitFor();
    expect(
      (await service.request('GET', '/api/2/connections', { auth: DEVOPS })).json.some(
        (c: { name: string }) => c.name === name,
      ),
    ).toBe(false);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await page.locator('.page-header [data-status="open"]').waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(
      (await service.request('GET', `/api/2/connections/${id}/status`, { auth: DEVOPS })).json.liveStatus,
    ).toBe('open');
    // Closed from the console, it is closed in the service too.
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.locator('.page-header [data-status="closed"]').waitFor();
    expect(
      (await service.request('GET', `/api/2/connections/${id}`, { auth: DEVOPS })).json.connectionStatus,
    ).toBe('closed');
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it("shows the service's message for a bad connection at the field it names", async () => {
    const bad = {
      name: 'bad',
      connectionType: 'mqtt',
      connectionStatus: 'open',
      uri: 'tcp//no-scheme:1883',
      sources: [{ addresses: ['x/#'], authorizationContext: ['nginx:ditto'] }],
    };
    const refused = await service.request('POST', '/api/2/connections', { auth: DEVOPS, body: bad });
    expect(refused.json).toMatchObject({
      status: 400,
      error: 'connectivity:connection.configuration.invalid',
    });
    expect(refused.json.message).toContain("'/uri'");
    const { page, problems } = await open('/ui/connections/new');
    await signIn(page);
    await pasteIntoEditor(page, 'connection-json', JSON.stringify(bad, null, 2));
    await page.getByRole('button', { name: 'Create connection' }).click();
    const message = page.locator('#connection-json .cm-inline-error[data-pointer="/uri"]');
    await message.getByText(refused.json.message, { exact: true }).waitFor();
    // The message sits right under the line of the field.
    expect(await message.evaluate((el) => el.previousElementSibling?.textContent)).toBe(
      '  "uri": "tcp//no-scheme:1883",',
    );
    expect(problems.problems.filter((p) => !p.includes('400'))).toEqual([]);
    await page.close();
  });

  it('shows a mapping script error with its line', async () => {
    const { page, problems } = await open('/ui/mapping');
    await signIn(page);
    const script = [
      'function mapToDittoProtocolMsg(headers, textPayload) {',
      '  const data = JSON.parse(textPayload);',
      '  return data.missing.field;',
      '}',
    ].join('\n');
    await pasteIntoEditor(page, 'incoming-script', script);
    await page.getByRole('button', { name: 'Map message' }).click();
    await page
      .locator('#mapping-result')
      .getByText(/line 3/)
      .first()
      .waitFor();
    const marked = page.locator('[data-editor="incoming-script"] .cm-error-line');
    await marked.waitFor();
    expect(await marked.textContent()).toBe('  return data.missing.field;');
    const inline = page.locator('[data-editor="incoming-script"] .cm-inline-error');
    expect(await inline.textContent()).toMatch(/line 3/);
    expect(problems.problems).toEqual([]);
    await page.close();
  });

  it('offers an API user no devops pages', async () => {
    const { page, problems } = await open();
    await signIn(page, 'alice');
    await page.getByRole('heading', { level: 1, name: 'Things' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Things', 'Policies']);
    expect(problems.problems).toEqual([]);
    await page.close();
  });
});
