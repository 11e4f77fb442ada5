/**
 * The things list: Ditto's search (`GET /api/2/search/things`) with an RQL filter, namespaces, sort and
 * cursor paging, the count of matches, and a form to create a thing. A 400 of the search is shown at the
 * filter with the service's message.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, enc, request } from '../lib/api';
import { navigate, type Location } from '../lib/router';
import { useLoad, useTitle } from '../lib/hooks';
import { formatTime, isObject, summary, type JsonObject } from '../lib/json';
import { Card, Empty, ErrorMessage, Link, Loading, PageHeader } from '../components/common';
import { CodeEditor, parseEditorJson, type EditorError } from '../components/CodeEditor';

const EXAMPLES = [
  { filter: 'eq(attributes/location,"kitchen")', text: 'attribute equals a value' },
  { filter: 'like(thingId,"*sensor*")', text: 'ID matches a pattern' },
  { filter: 'exists(features/temperature)', text: 'has a feature' },
  { filter: 'gt(features/temperature/properties/value,20)', text: 'property above a value' },
  { filter: 'and(exists(attributes/location),not(eq(attributes/location,"lab")))', text: 'combined' },
];

const SORTS = [
  { value: '+thingId', label: 'Thing ID, A → Z' },
  { value: '-thingId', label: 'Thing ID, Z → A' },
  { value: '-_modified', label: 'Recently modified first' },
  { value: '+_modified', label: 'Least recently modified first' },
];

const SIZES = ['10', '25', '50', '100'];

interface SearchPage {
  items: JsonObject[];
  cursor?: string;
}

export function ThingsPage(props: { location: Location }) {
  useTitle('Things');
  const query = props.location.query;
  const filter = query.get('filter') ?? '';
  const namespaces = query.get('namespaces') ?? '';
  const sort = query.get('sort') ?? '+thingId';
  const size = query.get('size') ?? '25';
  const [draft, setDraft] = useState({ filter, namespaces, sort, size });
  // Cursors of the pages seen so far: cursors[i] opens page i (page 0 has none).
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const [creating, setCreating] = useState(false);
  const searchKey = `${filter}\u0000${namespaces}\u0000${sort}\u0000${size}`;
  // Back and forward change the search in the address: the form follows, paging starts over.
  useEffect(() => {
    setDraft({ filter, namespaces, sort, size });
    setCursors([undefined]);
    setPageIndex(0);
  }, [searchKey]);

  const params = (cursor?: string) => {
    const p = new URLSearchParams();
    if (filter) p.set('filter', filter);
    if (namespaces) p.set('namespaces', namespaces);
    p.set('option', `size(${size}),sort(${sort})${cursor ? `,cursor(${cursor})` : ''}`);
    return p;
  };
  const page = useLoad(async () => {
    const p = params(cursors[pageIndex]);
    p.set('fields', 'thingId,policyId,definition,attributes,features,_revision,_modified');
    return (await request<SearchPage>(`/api/2/search/things?${p}`)).body;
  }, [searchKey, pageIndex]);
  const count = useLoad(async () => {
    const p = params();
    p.delete('option');
    return (await request<number>(`/api/2/search/things/count?${p}`)).body;
  }, [searchKey]);

  const apply = (next: typeof draft) => {
    const p = new URLSearchParams();
    if (next.filter.trim()) p.set('filter', next.filter.trim());
    if (next.namespaces.trim()) p.set('namespaces', next.namespaces.replace(/\s+/g, ''));
    if (next.sort !== '+thingId') p.set('sort', next.sort);
    if (next.size !== '25') p.set('size', next.size);
    setCursors([undefined]);
    setPageIndex(0);
    const key = `${p.get('filter') ?? ''}\u0000${p.get('namespaces') ?? ''}\u0000${p.get('sort') ?? '+thingId'}\u0000${p.get('size') ?? '25'}`;
    if (key === searchKey) {
      page.reload();
      count.reload();
    } else navigate(`/things${p.size ? `?${p}` : ''}`);
  };
  const searchError = page.error instanceof ApiError && page.error.status === 400 ? page.error : undefined;
  const items = page.data?.items ?? [];
  const next = page.data?.cursor;

  return (
    <div class="page">
      <PageHeader
        title="Things"
        subtitle="Digital twins you may read, found with Ditto's search (RQL)."
        actions={
          <button
            type="button"
            class="button button-primary"
            aria-expanded={creating}
            aria-controls="new-thing"
            onClick={() => setCreating(!creating)}
          >
            New thing
          </button>
        }
      />
      {creating && (
        <NewThing onCreated={(id) => navigate(`/things/${enc(id)}`)} onCancel={() => setCreating(false)} />
      )}
      <Card>
        <form
          class="search-form"
          role="search"
          aria-label="Search things"
          onSubmit={(e) => {
            e.preventDefault();
            apply(draft);
          }}
        >
          <div class="field field-grow">
            <label for="filter">RQL filter</label>
            <input
              id="filter"
              class="mono"
              list="filter-examples"
              placeholder='eq(attributes/location,"kitchen")'
              value={draft.filter}
              onInput={(e) => setDraft({ ...draft, filter: e.currentTarget.value })}
              aria-invalid={searchError ? true : undefined}
              aria-describedby={searchError ? 'filter-error filter-hint' : 'filter-hint'}
              spellcheck={false}
              autoComplete="off"
            />
            <datalist id="filter-examples">
              {EXAMPLES.map((x) => (
                <option key={x.filter} value={x.filter}>
                  {x.text}
                </option>
              ))}
            </datalist>
          </div>
          <div class="field field-namespaces">
            <label for="namespaces">Namespaces</label>
            <input
              id="namespaces"
              class="mono"
              placeholder="all"
              value={draft.namespaces}
              onInput={(e) => setDraft({ ...draft, namespaces: e.currentTarget.value })}
              aria-describedby="namespaces-hint"
              spellcheck={false}
            />
            <p class="hint" id="namespaces-hint">
              Comma-separated, e.g. <code>org.example</code>
            </p>
          </div>
          <div class="field">
            <label for="sort">Sort</label>
            <select
              id="sort"
              value={draft.sort}
              onChange={(e) => apply({ ...draft, sort: e.currentTarget.value })}
            >
              {SORTS.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="size">Per page</label>
            <select
              id="size"
              value={draft.size}
              onChange={(e) => apply({ ...draft, size: e.currentTarget.value })}
            >
              {SIZES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </div>
          <div class="field field-button">
            <button type="submit" class="button button-primary">
              Search
            </button>
          </div>
          <p class="hint search-examples" id="filter-hint">
            Examples:{' '}
            {EXAMPLES.map((x, i) => (
              <span key={x.filter}>
                {i > 0 && ', '}
                <button
                  type="button"
                  class="link-button mono"
                  onClick={() => setDraft({ ...draft, filter: x.filter })}
                  title={x.text}
                >
                  {x.filter}
                </button>
              </span>
            ))}
            . Leave empty for all things.
          </p>
        </form>
        {searchError && <ErrorMessage id="filter-error" error={searchError} title="The search was refused" />}
      </Card>
      <Card
        title={
          <>
            Results{' '}
            {typeof count.data === 'number' && (
              <span class="count" id="things-count">
                {count.data} {count.data === 1 ? 'thing' : 'things'}
              </span>
            )}
          </>
        }
        actions={
          <button type="button" class="button button-small" onClick={() => (page.reload(), count.reload())}>
            Refresh
          </button>
        }
        id="results"
      >
        {page.error !== undefined && !searchError && <ErrorMessage error={page.error} />}
        {page.loading && !page.data && <Loading label="Searching…" />}
        {page.data && items.length === 0 && <Empty>No thing matches{filter ? ' this filter' : ''}.</Empty>}
        {items.length > 0 && (
          <div class="table-wrap">
            <table class="table" aria-describedby="results-title">
              <thead>
                <tr>
                  <th scope="col">Thing ID</th>
                  <th scope="col">Policy</th>
                  <th scope="col">Attributes</th>
                  <th scope="col">Features</th>
                  <th scope="col" class="num">
                    Revision
                  </th>
                  <th scope="col">Modified</th>
                </tr>
              </thead>
              <tbody>
                {items.map((thing) => {
                  const id = String(thing.thingId);
                  const attributes = isObject(thing.attributes) ? Object.entries(thing.attributes) : [];
                  const features = isObject(thing.features) ? Object.keys(thing.features) : [];
                  return (
                    <tr key={id} data-thing-id={id}>
                      <td class="mono nowrap">
                        <Link to={`/things/${enc(id)}`}>{id}</Link>
                      </td>
                      <td class="mono nowrap">
                        {typeof thing.policyId === 'string' ? (
                          <Link to={`/policies/${enc(thing.policyId)}`}>{thing.policyId}</Link>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>
                        {attributes.slice(0, 3).map(([k, v]) => (
                          <span class="kv" key={k}>
                            <span class="kv-key">{k}</span> {summary(v, 24)}
                          </span>
                        ))}
                        {attributes.length > 3 && <span class="more">+{attributes.length - 3}</span>}
                      </td>
                      <td>
                        {features.slice(0, 4).map((f) => (
                          <span class="chip" key={f}>
                            {f}
                          </span>
                        ))}
                        {features.length > 4 && <span class="more">+{features.length - 4}</span>}
                      </td>
                      <td class="num">{String(thing._revision ?? '')}</td>
                      <td class="nowrap">{formatTime(thing._modified as string | undefined)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {(pageIndex > 0 || next) && (
          <nav class="pager" aria-label="Pages of results">
            <button
              type="button"
              class="button button-small"
              disabled={pageIndex === 0}
              onClick={() => setPageIndex(pageIndex - 1)}
            >
              ← Previous
            </button>
            <span class="pager-page">Page {pageIndex + 1}</span>
            <button
              type="button"
              class="button button-small"
              disabled={!next}
              onClick={() => {
                setCursors([...cursors.slice(0, pageIndex + 1), next]);
                setPageIndex(pageIndex + 1);
              }}
            >
              Next →
            </button>
          </nav>
        )}
      </Card>
    </div>
  );
}

const NEW_THING = `{
  "attributes": {
    "location": "kitchen"
  },
  "features": {
    "temperature": {
      "properties": { "value": 21.5 }
    }
  }
}`;

function NewThing(props: { onCreated(id: string): void; onCancel(): void }) {
  const [id, setId] = useState('');
  const [text, setText] = useState(NEW_THING);
  const [error, setError] = useState<unknown>(undefined);
  const [jsonError, setJsonError] = useState<EditorError[]>([]);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const parsed = parseEditorJson(text);
    if ('errors' in parsed) {
      setJsonError(parsed.errors);
      return;
    }
    setJsonError([]);
    try {
      const reply = id.trim()
        ? await request<JsonObject>(`/api/2/things/${enc(id.trim())}`, {
            method: 'PUT',
            body: parsed.value,
            headers: { 'if-none-match': '*' },
          })
        : await request<JsonObject>('/api/2/things', { method: 'POST', body: parsed.value });
      props.onCreated(id.trim() || String(reply.body?.thingId));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Card title="New thing" id="new-thing">
      <form onSubmit={create}>
        <div class="field">
          <label for="new-thing-id">Thing ID</label>
          <input
            id="new-thing-id"
            class="mono"
            placeholder="org.example:sensor-1 (empty: generated)"
            value={id}
            onInput={(e) => setId(e.currentTarget.value)}
            aria-describedby="new-thing-id-hint"
            spellcheck={false}
          />
          <p class="hint" id="new-thing-id-hint">
            <code>namespace:name</code>. Without an ID the service generates one in its default namespace.
          </p>
        </div>
        <div class="field">
          <label for="new-thing-json">Thing JSON</label>
          <CodeEditor
            id="new-thing-json"
            label="Thing JSON"
            language="json"
            value={text}
            onChange={setText}
            errors={jsonError}
            size="small"
          />
        </div>
        <ErrorMessage error={error} />
        <div class="form-actions">
          <button type="submit" class="button button-primary">
            Create
          </button>
          <button type="button" class="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Card>
  );
}
