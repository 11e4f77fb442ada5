/**
 * Search over the twins (ditto-interfaces.md §2.7): the in-memory SearchIndex kept current from the
 * signal bus (updated synchronously as each durable event is published, so a search right after a write
 * sees it), queried with per-caller policy enforcement.
 *
 * Enforcement (view.ts): a thing is a result only if the caller may read some of it, and the filter and
 * the sort are evaluated on the caller's view of it, where a field the caller may not READ does not exist:
 * the answer (items, count, order, cursors) is the same whatever value a hidden field has. Items are
 * pruned before they leave; cursors are sealed (cursor.ts) and bound to the caller's subjects.
 */
import { subjectsKeyOf, type AuthContext } from '../auth/context.js';
import type { PublishedThingEvent, SignalBus } from '../bus/signal-bus.js';
import type { PolicyDirectory } from '../things/policy-directory.js';
import { withSpecialFields } from '../model/special-fields.js';
import type { ThingRecord } from '../things/service.js';
import type { Store } from '../store/port.js';
import { applyFieldSelector, parseFieldSelector } from '../util/field-selector.js';
import { isPlainObject } from '../util/json-pointer.js';
import { copyOf, extended } from '../util/objects.js';
import { CursorCodec } from './cursor.js';
import type { RqlNode } from './rql/ast.js';
import { parseNamespaces } from './rql/namespaces.js';
import { DEFAULT_PAGE_SIZE, parseSearchOptions, type SortField } from './rql/options.js';
import { parseRql } from './rql/parser.js';
import { SearchIndex } from './search-index.js';
import type { ThingJson } from './values.js';
import { callerView, type ThingView } from './view.js';

export interface SearchRequest {
  filter?: string;
  namespaces?: string;
  fields?: string;
  option?: string | string[];
  /** ms; the query fails with thing-search:query.time.exceeded beyond it. */
  timeoutMs?: number;
  /** Only things whose thingId is after this one (an SSE stream resumed with `Last-Event-ID`). */
  afterThingId?: string;
}

export interface SearchPage {
  items: Record<string, unknown>[];
  cursor?: string;
  nextPageOffset?: number;
}

type Indexed = ThingJson & { policyId?: string; _created?: string };

export class SearchService {
  private readonly index: SearchIndex;
  private readonly policies: PolicyDirectory;
  private unsubscribe: (() => void) | undefined;

  /** @param options.cursors seals cursors; pass one keyed by `Store.sharedKey` so every instance opens them. */
  constructor(options: { policies: PolicyDirectory; cursors?: CursorCodec }) {
    this.policies = options.policies;
    this.index = new SearchIndex({ cursors: options.cursors ?? CursorCodec.ephemeral() });
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
    const created =
      event.action === 'created' && event.path === '/'
        ? event.timestamp
        : (previous?._created ?? event.timestamp);
    this.index.upsert(
      extended(thing, {
        _revision: event.revision,
        _created: created,
        _modified: event.timestamp,
        _namespace: namespaceOf(event.thingId),
      }) as ThingJson,
    );
  }

  async search(request: SearchRequest, auth: AuthContext): Promise<SearchPage> {
    const options = parseSearchOptions(request.option);
    if (request.fields !== undefined) parseFieldSelector(request.fields);
    const filter = filterOf(request);
    const result = this.index.query({
      filter,
      namespaces: parseNamespaces(request.namespaces),
      sort: options.sort,
      size: options.limit ? options.limit.count : (options.size ?? DEFAULT_PAGE_SIZE),
      cursor: options.cursor,
      offset: options.limit?.offset,
      view: this.viewOf(auth, filter, options.sort),
      scope: subjectsKeyOf(auth),
      timeoutMs: request.timeoutMs,
    });
    const items = result.items.map((thing) => {
      const visible = this.fullView(thing as Indexed, auth)!;
      return request.fields === undefined
        ? stripSpecial(visible)
        : (applyFieldSelector(visible, request.fields) as Record<string, unknown>);
    });
    const page: SearchPage = { items };
    if (result.cursor !== undefined) page.cursor = result.cursor;
    if (result.nextPageOffset !== undefined) page.nextPageOffset = result.nextPageOffset;
    return page;
  }

  async count(
    request: Pick<SearchRequest, 'filter' | 'namespaces' | 'timeoutMs'>,
    auth: AuthContext,
  ): Promise<number> {
    const filter = filterOf(request);
    return this.index.count({
      filter,
      namespaces: parseNamespaces(request.namespaces),
      view: this.viewOf(auth, filter, undefined),
      timeoutMs: request.timeoutMs,
    });
  }

  /** The caller's view for one query (view.ts), on the directory's latest accepted policies. */
  private viewOf(
    auth: AuthContext,
    filter: RqlNode | undefined,
    sort: readonly SortField[] | undefined,
  ): ThingView {
    return callerView(filter, sort, auth.subjects, (policyId) => this.policies.enforcerOfHead(policyId));
  }

  /** What the caller may read of a result (with the special fields), as a retrieve would answer it. */
  private fullView(thing: Indexed, auth: AuthContext): Record<string, unknown> | undefined {
    const enforcer = this.policies.enforcerOfHead(thing.policyId);
    if (!enforcer) return undefined;
    const stripped = stripSpecial(thing);
    const pruned = enforcer.hasUnrestricted('thing:/', auth.subjects, READ)
      ? stripped
      : enforcer.filterReadable('thing', '/', stripped, auth.subjects);
    return isPlainObject(pruned) ? withSpecial(pruned, thing) : undefined;
  }
}

const READ = ['READ'] as const;

/** The parsed filter, with the SSE resumption condition added as a node (never spliced into the text). */
function filterOf(request: Pick<SearchRequest, 'filter' | 'afterThingId'>): RqlNode | undefined {
  const filter =
    request.filter === undefined || request.filter === '' ? undefined : parseRql(request.filter, 'search');
  if (request.afterThingId === undefined) return filter;
  const after: RqlNode = { op: 'gt', property: 'thingId', value: request.afterThingId };
  return filter ? { op: 'and', children: [filter, after] } : after;
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
  for (const key of SPECIAL)
    if ((thing as Record<string, unknown>)[key] !== undefined)
      out[key] = (thing as Record<string, unknown>)[key];
  return out;
}

function namespaceOf(thingId: string): string {
  return thingId.slice(0, thingId.indexOf(':'));
}
