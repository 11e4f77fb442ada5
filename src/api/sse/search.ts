/**
 * Search results as SSE (ditto-interfaces.md §6, §14.12): every matching thing as `data:<thing JSON>` with
 * `id:<thingId>`, page after page; an error ends the stream as a final `data:<error JSON>`. With
 * `Last-Event-ID: <thingId>` the stream continues after that thing, which needs the default (thingId)
 * order or an explicit `sort(+thingId)`.
 */
import type { FastifyRequest } from 'fastify';
import { isDittoError } from '../../errors/ditto-error.js';
import { internalError } from '../../errors/general.js';
import type { SearchService } from '../../search/service.js';
import type { SseStream } from './stream.js';

type Query = Record<string, string | undefined>;

export async function streamSearch(search: SearchService, request: FastifyRequest, stream: SseStream, lastEventId: string | undefined): Promise<void> {
  const query = request.query as Query;
  const after = lastEventId ? { afterThingId: lastEventId } : {};
  const options = splitTopLevel(query.option ?? '').filter((o) => o !== '' && !o.startsWith('cursor('));
  let cursor: string | undefined;
  try {
    do {
      const option = [...options, ...(cursor === undefined ? [] : [`cursor(${cursor})`])].join(',');
      const page = await search.search({ filter: query.filter, namespaces: query.namespaces, fields: query.fields, option: option === '' ? undefined : option, ...after }, request.auth);
      for (const item of page.items) {
        if (stream.isClosed) return;
        stream.write({ id: String(item.thingId ?? ''), data: JSON.stringify(item) });
      }
      cursor = page.cursor;
    } while (cursor !== undefined && !stream.isClosed);
  } catch (err) {
    const error = isDittoError(err) ? err : internalError(undefined, { cause: err });
    if (!isDittoError(err)) request.log.error({ err }, 'search stream failed');
    stream.write({ data: JSON.stringify(error.toJSON()) });
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
