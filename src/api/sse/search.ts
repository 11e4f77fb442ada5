/**
 * Search results as SSE (ditto-interfaces.md §6, §14.12): every matching thing as `data:<thing JSON>` with
 * `id:<thingId>`, page after page. The first page is queried before the stream opens, so an invalid query
 * (filter, options, fields, namespaces) is a plain HTTP error; a later failure is thrown to the route's
 * guard, which ends the stream with it as a final `data:<error JSON>`. With `Last-Event-ID: <thingId>` the stream continues after that thing, which needs
 * the default (thingId) order or an explicit `sort(+thingId)`.
 */
import type { FastifyRequest } from 'fastify';
import type { SearchPage, SearchService } from '../../search/service.js';
import type { SseStream } from './stream.js';

type Query = Record<string, string | undefined>;

/** Streams the results; `open` takes the response over (called once the first page is known). */
export async function streamSearch(
  search: SearchService,
  request: FastifyRequest,
  open: () => SseStream,
  lastEventId: string | undefined,
): Promise<void> {
  const query = request.query as Query;
  const after = lastEventId ? { afterThingId: lastEventId } : {};
  const options = splitTopLevel(query.option ?? '').filter((o) => o !== '' && !o.startsWith('cursor('));
  const page = (cursor: string | undefined): Promise<SearchPage> => {
    const option = [...options, ...(cursor === undefined ? [] : [`cursor(${cursor})`])].join(',');
    return search.search(
      {
        filter: query.filter,
        namespaces: query.namespaces,
        fields: query.fields,
        option: option === '' ? undefined : option,
        ...after,
      },
      request.auth,
    );
  };
  let next = await page(undefined);
  const stream = open();
  for (;;) {
    for (const item of next.items) {
      if (stream.isClosed) return;
      stream.write({ id: String(item.thingId ?? ''), data: JSON.stringify(item) });
    }
    if (next.cursor === undefined || stream.isClosed) break;
    next = await page(next.cursor);
  }
  stream.end();
}

/** Splits `sort(+a,-b),size(5)` at the commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
