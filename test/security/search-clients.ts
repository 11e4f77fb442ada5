/**
 * Search clients for the adversarial suite: one query read to its end over each transport (HTTP search
 * following the cursors, HTTP count, the WebSocket search protocol, an SSE search stream), as a real
 * client of that transport would.
 */
import type { TestService } from '../helpers/app.js';
import type { TestWs } from '../ws/client.js';

export interface SearchQuery {
  filter?: string;
  option?: string;
  namespaces: string;
  fields?: string;
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`;

function params(q: SearchQuery, cursor?: string): string {
  const p = new URLSearchParams({ namespaces: q.namespaces });
  if (q.filter !== undefined) p.set('filter', q.filter);
  const option = [q.option, cursor === undefined ? undefined : `cursor(${cursor})`]
    .filter((o) => o !== undefined)
    .join(',');
  if (option !== '') p.set('option', option);
  if (q.fields !== undefined) p.set('fields', q.fields);
  return p.toString();
}

/** Every page of an HTTP search (the items of each page, and the cursors it was given). */
export async function httpPages(
  svc: TestService,
  user: string,
  q: SearchQuery,
): Promise<{ pages: unknown[][]; cursors: string[] }> {
  const pages: unknown[][] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await svc.request('GET', `/api/2/search/things?${params(q, cursor)}`, {
      auth: `${user}:${user}`,
    });
    if (res.status !== 200) throw new Error(`search ${JSON.stringify(q)}: ${res.status} ${res.text}`);
    pages.push(res.json.items);
    cursor = res.json.cursor;
    if (cursor !== undefined) cursors.push(cursor);
  } while (cursor !== undefined && pages.length < 100);
  return { pages, cursors };
}

export async function httpCount(svc: TestService, user: string, q: SearchQuery): Promise<number> {
  const p = new URLSearchParams({ namespaces: q.namespaces });
  if (q.filter !== undefined) p.set('filter', q.filter);
  const res = await svc.request('GET', `/api/2/search/things/count?${p}`, { auth: `${user}:${user}` });
  if (res.status !== 200) throw new Error(`count ${q.filter}: ${res.status} ${res.text}`);
  return res.json as number;
}

let ids = 0;

/** Every page of a WebSocket search subscription (subscribe, then request one page at a time until complete). */
export async function wsPages(ws: TestWs, q: SearchQuery): Promise<unknown[][]> {
  const message = (action: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    topic: `_/_/things/twin/search/${action}`,
    headers: { 'correlation-id': `sec-${++ids}` },
    path: '/',
    value,
    ...extra,
  });
  const value: Record<string, unknown> = { namespaces: q.namespaces.split(',') };
  if (q.filter !== undefined) value.filter = q.filter;
  if (q.option !== undefined) value.options = q.option;
  ws.send(message('subscribe', value, q.fields === undefined ? {} : { fields: q.fields }));
  const created = (await ws.nextTopic('/search/created')) as { value: { subscriptionId: string } };
  const { subscriptionId } = created.value;
  const ofThis = (f: Record<string, any>) => f.value?.subscriptionId === subscriptionId;
  const pages: unknown[][] = [];
  for (;;) {
    ws.send(message('request', { subscriptionId, demand: 1 }));
    const frame = await ws.next(
      (f) => typeof f !== 'string' && /\/search\/(next|complete|failed)$/.test(String(f.topic)) && ofThis(f),
    );
    const topic = String((frame as Record<string, any>).topic);
    if (topic.endsWith('/failed'))
      throw new Error(`ws search ${JSON.stringify(q)} failed: ${JSON.stringify(frame)}`);
    if (topic.endsWith('/complete')) return pages;
    pages.push((frame as Record<string, any>).value.items);
    // the last page is followed by complete without a further request
    const done = await ws
      .next((f) => typeof f !== 'string' && String(f.topic).endsWith('/search/complete') && ofThis(f), 50)
      .catch(() => undefined);
    if (done) return pages;
  }
}

/** The items of an SSE search stream, read until the server ends it. */
export async function sseItems(svc: TestService, user: string, q: SearchQuery): Promise<unknown[]> {
  const res = await fetch(`${svc.url}/api/2/search/things?${params(q)}`, {
    headers: { accept: 'text/event-stream', authorization: basic(user) },
  });
  if (res.status !== 200)
    throw new Error(`sse search ${JSON.stringify(q)}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as unknown);
}
