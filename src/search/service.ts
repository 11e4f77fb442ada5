/**
 * Search over the twins (ditto-interfaces.md §2.7): the in-memory SearchIndex kept current from the
 * signal bus (updated synchronously as each durable event is published, so a search right after a write
 * sees it), queried with per-caller policy enforcement.
 *
 * Enforcement: a thing is a result only if the caller may read some of it, and the filter must also hold
 * on the view the caller may read, so a filter on a field the caller cannot read never reveals it (a
 * predicate on a hidden field behaves as on a missing field, except that a thing also has to match on its
 * full state: results err towards hiding, never towards leaking). Items are pruned before they leave.
 */
import type { AuthContext } from '../auth/context.js';
import type { PublishedThingEvent, SignalBus } from '../bus/signal-bus.js';
import type { PolicyDirectory } from '../things/policy-directory.js';
import { withSpecialFields, type ThingRecord } from '../things/service.js';
import type { Store } from '../store/port.js';
import { applyFieldSelector, parseFieldSelector } from '../util/field-selector.js';
import { isPlainObject } from '../util/json-pointer.js';
import { copyOf, extended } from '../util/objects.js';
import { compileFilter, type ThingPredicate } from './evaluate.js';
import { parseNamespaces } from './rql/namespaces.js';
import { DEFAULT_PAGE_SIZE, parseSearchOptions } from './rql/options.js';
import { parseRql } from './rql/parser.js';
import { SearchIndex } from './search-index.js';
import type { ThingJson } from './values.js';

export interface SearchRequest {
  filter?: string;
  namespaces?: string;
  fields?: string;
  option?: string | string[];
  /** ms; the query fails with thing-search:query.time.exceeded beyond it. */
  timeoutMs?: number;
}

export interface SearchPage {
  items: Record<string, unknown>[];
  cursor?: string;
  nextPageOffset?: number;
}

type Indexed = ThingJson & { policyId?: string; _created?: string };

export class SearchService {
  private readonly index = new SearchIndex();
  private readonly policies: PolicyDirectory;
  private unsubscribe: (() => void) | undefined;

  constructor(options: { policies: PolicyDirectory }) {
    this.policies = options.policies;
  }

  /**
   * Indexes every stored thing and loads every policy into the directory (enforcement during a query is
   * synchronous, on the directory's latest accepted policies), then follows the bus.
   */
  async start(store: Store, bus: SignalBus): Promise<void> {
    this.unsubscribe = bus.subscribeThingEvents((published) => this.onEvent(published));
    for await (const record of store.list('policy')) await this.policies.load(record.id);
    for await (const record of store.list('thing')) {
      if (record.value && !this.index.get(record.id)) this.index.upsert(toIndexed(record as ThingRecord));
    }
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private onEvent({ event, thing }: PublishedThingEvent): void {
    if (event.channel !== 'twin') return;
    if (!thing) {
      this.index.remove(event.thingId);
      return;
    }
    const previous = this.index.get(event.thingId) as Indexed | undefined;
    const created = event.action === 'created' && event.path === '/' ? event.timestamp : (previous?._created ?? event.timestamp);
    this.index.upsert(extended(thing, { _revision: event.revision, _created: created, _modified: event.timestamp, _namespace: namespaceOf(event.thingId) }) as ThingJson);
  }

  async search(request: SearchRequest, auth: AuthContext): Promise<SearchPage> {
    const options = parseSearchOptions(request.option);
    if (request.fields !== undefined) parseFieldSelector(request.fields);
    const { filter, canRead } = await this.prepare(request, auth);
    const result = this.index.query({
      filter,
      namespaces: parseNamespaces(request.namespaces),
      sort: options.sort,
      size: options.limit ? options.limit.count : (options.size ?? DEFAULT_PAGE_SIZE),
      cursor: options.cursor,
      offset: options.limit?.offset,
      canRead: canRead.test,
      timeoutMs: request.timeoutMs,
    });
    const items = result.items.map((thing) => {
      const visible = canRead.view(thing as Indexed)!;
      return request.fields === undefined ? stripSpecial(visible) : (applyFieldSelector(visible, request.fields) as Record<string, unknown>);
    });
    const page: SearchPage = { items };
    if (result.cursor !== undefined) page.cursor = result.cursor;
    if (result.nextPageOffset !== undefined) page.nextPageOffset = result.nextPageOffset;
    return page;
  }

  async count(request: Pick<SearchRequest, 'filter' | 'namespaces' | 'timeoutMs'>, auth: AuthContext): Promise<number> {
    const { filter, canRead } = await this.prepare(request, auth);
    return this.index.count({ filter, namespaces: parseNamespaces(request.namespaces), canRead: canRead.test, timeoutMs: request.timeoutMs });
  }

  /** The parsed filter and a per-request visibility check with a cache of pruned views. */
  private async prepare(request: Pick<SearchRequest, 'filter'>, auth: AuthContext) {
    const filter = request.filter === undefined || request.filter === '' ? undefined : parseRql(request.filter, 'search');
    const predicate: ThingPredicate | undefined = filter ? compileFilter(filter, { mode: 'search' }) : undefined;
    const views = new Map<string, Record<string, unknown> | undefined>();
    const view = (thing: Indexed): Record<string, unknown> | undefined => {
      const id = String(thing.thingId);
      if (views.has(id)) return views.get(id);
      const pruned = this.policies.enforcerOfHead(thing.policyId)?.filterReadable('thing', '/', stripSpecial(thing), auth.subjects);
      const visible = isPlainObject(pruned) ? withSpecial(pruned, thing) : undefined;
      views.set(id, visible);
      return visible;
    };
    const test = (thing: ThingJson): boolean => {
      const visible = view(thing as Indexed);
      return visible !== undefined && (!predicate || predicate(visible as ThingJson));
    };
    return { filter, canRead: { test, view } };
  }
}

const SPECIAL = ['_revision', '_created', '_modified', '_namespace'] as const;

function toIndexed(record: ThingRecord): ThingJson {
  return withSpecialFields(record.value as Record<string, unknown>, record) as ThingJson;
}

function stripSpecial(thing: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...thing };
  for (const key of SPECIAL) delete copy[key];
  return copy;
}

function withSpecial(visible: Record<string, unknown>, thing: Indexed): Record<string, unknown> {
  const out: Record<string, unknown> = copyOf(visible);
  for (const key of SPECIAL) if ((thing as Record<string, unknown>)[key] !== undefined) out[key] = (thing as Record<string, unknown>)[key];
  return out;
}

function namespaceOf(thingId: string): string {
  return thingId.slice(0, thingId.indexOf(':'));
}
