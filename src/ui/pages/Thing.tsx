/**
 * One thing: its JSON as a tree kept live over SSE (changed values flash), a revision slider for historical
 * reads (`at-historical-revision`, hidden behind a note where the service keeps no history), and an editor
 * for attributes, feature properties and desired properties that writes with `If-Match` and shows both
 * versions on a conflict (412).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, enc, request } from '../lib/api';
import { useLoad, useTitle } from '../lib/hooks';
import {
  applyEvent,
  formatTime,
  getAt,
  isObject,
  parsePointer,
  parseJson,
  pretty,
  type Json,
  type JsonObject,
  type ProtocolEvent,
} from '../lib/json';
import { openStream, type StreamState } from '../lib/sse';
import { Card, ErrorMessage, Link, Loading, Notice, PageHeader, StatusBadge } from '../components/common';
import { JsonTree } from '../components/JsonTree';
import { CodeEditor, parseEditorJson, type EditorError } from '../components/CodeEditor';

const FIELDS = 'thingId,policyId,definition,attributes,features,_revision,_modified,_created';
const HISTORY_NOT_FOUND = 'things:thing.history.notfound';

/** The thing without the `_`-prefixed meta fields. */
function content(thing: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(thing).filter(([k]) => !k.startsWith('_')));
}

export function ThingPage(props: { params: Record<string, string> }) {
  const id = props.params.id;
  useTitle(id);
  const [thing, setThing] = useState<JsonObject | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [changed, setChanged] = useState<ReadonlyMap<string, number>>(new Map());
  const latest = useRef<JsonObject | null | undefined>(undefined);
  latest.current = thing;

  const load = async () => {
    try {
      const { body } = await request<JsonObject>(`/api/2/things/${enc(id)}?fields=${FIELDS}`);
      setThing(body);
      setError(undefined);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.status === 404) setThing(null);
    }
  };

  useEffect(() => {
    void load();
    let stamp = 0;
    return openStream(`/api/2/things/${enc(id)}?fields=_revision,_modified,_context`, {
      onState: setStream,
      onEvent: (data) => {
        const parsed = parseJson(data);
        if ('error' in parsed || !isObject(parsed.value)) return;
        const { _revision: revision, _modified: modified, _context: context } = parsed.value;
        const event = context as unknown as ProtocolEvent | undefined;
        const current = latest.current;
        if (typeof revision !== 'number' || !event || typeof event.topic !== 'string') return;
        if (current && typeof current._revision === 'number' && revision <= current._revision) return;
        if (!current || typeof current._revision !== 'number' || revision !== current._revision + 1) {
          void load(); // a gap (or the thing appeared): read it whole
        } else {
          const next = applyEvent(current, event);
          setThing(
            next && { ...next, _revision: revision, _modified: (modified as string) ?? current._modified },
          );
          latest.current = next;
        }
        stamp++;
        setChanged((m) => new Map(m).set(event.path === '/' ? '' : event.path, Date.now() * 1000 + stamp));
      },
    });
  }, [id]);

  const revision = typeof thing?._revision === 'number' ? thing._revision : undefined;

  return (
    <div class="page">
      <PageHeader
        title={id}
        subtitle={
          <>
            <Link to="/things">Things</Link> / thing
          </>
        }
        actions={
          <StatusBadge
            status={stream === 'open' ? 'open' : stream === 'connecting' ? 'connecting' : 'closed'}
            label={stream === 'open' ? 'Live' : stream === 'connecting' ? 'Connecting…' : 'Not live'}
          />
        }
      />
      {error !== undefined && <ErrorMessage error={error} />}
      {thing === undefined && error === undefined && <Loading />}
      {thing === null && (
        <Notice kind="warning">This thing does not exist (any more), or you may not read it.</Notice>
      )}
      {thing && (
        <>
          <dl class="meta" aria-label="Thing metadata">
            <div>
              <dt>Policy</dt>
              <dd class="mono">
                {typeof thing.policyId === 'string' ? (
                  <Link to={`/policies/${enc(thing.policyId)}`}>{thing.policyId}</Link>
                ) : (
                  '—'
                )}
              </dd>
            </div>
            <div>
              <dt>Revision</dt>
              <dd id="thing-revision">{revision ?? '—'}</dd>
            </div>
            <div>
              <dt>Modified</dt>
              <dd>{formatTime(thing._modified as string | undefined)}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{formatTime(thing._created as string | undefined)}</dd>
            </div>
          </dl>
          <div class="columns">
            <div class="column-main">
              <History id={id} revision={revision} current={thing} changed={changed} />
            </div>
            <div class="column-side">
              <Editor id={id} thing={thing} />
            </div>
          </div>
        </>
      )}
    </div>
  );
}

/** The JSON tree with the revision slider above it. */
function History(props: {
  id: string;
  revision: number | undefined;
  current: JsonObject;
  changed: ReadonlyMap<string, number>;
}) {
  const { id, revision } = props;
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [historical, setHistorical] = useState<{ revision: number; thing: JsonObject } | undefined>(
    undefined,
  );
  const [unavailable, setUnavailable] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const shown =
    selected === undefined || selected === revision
      ? undefined
      : historical?.revision === selected
        ? historical.thing
        : undefined;

  const pick = async (value: number) => {
    setError(undefined);
    if (revision === undefined || value >= revision) {
      setSelected(undefined);
      return;
    }
    setSelected(value);
    try {
      // ditto: basic-history "at-historical-revision" reads the thing as it was at that revision
      const { body } = await request<JsonObject>(`/api/2/things/${enc(id)}`, {
        headers: { 'at-historical-revision': String(value) },
      });
      setHistorical({ revision: value, thing: body });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.code === HISTORY_NOT_FOUND) {
        setUnavailable(err.message);
        setSelected(undefined);
      } else setError(err);
    }
  };

  return (
    <Card
      title="Thing"
      id="thing-json"
      actions={
        shown ? (
          <span class="badge badge-warn" id="history-badge">
            Revision {selected} (read-only)
          </span>
        ) : (
          <span class="badge badge-muted">Current revision</span>
        )
      }
    >
      {revision !== undefined && revision > 1 && !unavailable && (
        <div class="history">
          <label for="revision-slider">Revision</label>
          <input
            id="revision-slider"
            type="range"
            min={1}
            max={revision}
            step={1}
            value={selected ?? revision}
            aria-valuetext={`revision ${selected ?? revision} of ${revision}`}
            onChange={(e) => void pick(Number(e.currentTarget.value))}
          />
          <output for="revision-slider" class="history-value">
            {selected ?? revision} / {revision}
          </output>
        </div>
      )}
      {unavailable && (
        <p class="hint history-note" id="history-note">
          Older revisions cannot be shown: the service keeps the current revision only (“{unavailable}”).
        </p>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <JsonTree
        label={shown ? `Thing at revision ${selected}` : 'Thing'}
        value={content(shown ?? props.current)}
        changed={shown ? undefined : props.changed}
      />
    </Card>
  );
}

interface Part {
  key: string;
  label: string;
  /** Below /api/2/things/{id}. */
  path: string;
}

function partsOf(thing: JsonObject): Part[] {
  const parts: Part[] = [{ key: 'attributes', label: 'Attributes', path: '/attributes' }];
  const features = isObject(thing.features) ? Object.keys(thing.features) : [];
  for (const f of features) {
    parts.push({ key: `p:${f}`, label: `${f} · properties`, path: `/features/${enc(f)}/properties` });
    parts.push({
      key: `d:${f}`,
      label: `${f} · desired properties`,
      path: `/features/${enc(f)}/desiredProperties`,
    });
  }
  return parts;
}

/** The value of `part` in the loaded thing (undefined: it does not exist yet). */
function valueOf(thing: JsonObject, part: Part): Json | undefined {
  return getAt(thing, parsePointer(decodeURIComponent(part.path)));
}

interface Conflict {
  mine: string;
  theirs: Json;
  etag: string;
}

function Editor(props: { id: string; thing: JsonObject }) {
  const parts = useMemo(
    () => partsOf(props.thing),
    [Object.keys(isObject(props.thing.features) ? props.thing.features : {}).join('\u0000')],
  );
  const [key, setKey] = useState('attributes');
  const part = parts.find((p) => p.key === key) ?? parts[0];
  const exists = valueOf(props.thing, part) !== undefined;
  const [text, setText] = useState('');
  const [etag, setEtag] = useState<string | undefined>(undefined);
  const [errors, setErrors] = useState<EditorError[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const [conflict, setConflict] = useState<Conflict | undefined>(undefined);
  const url = `/api/2/things/${enc(props.id)}${part.path}`;

  // The part as the service has it, with its ETag; a part that does not exist yet is written with If-None-Match: *.
  const loaded = useLoad(async () => {
    if (!exists) return { value: {} as Json, etag: undefined };
    const reply = await request<Json>(url);
    return { value: reply.body, etag: reply.headers.get('etag') ?? undefined };
  }, [url, exists]);
  useEffect(() => {
    if (!loaded.data) return;
    setText(pretty(loaded.data.value));
    setEtag(loaded.data.etag);
    setErrors([]);
    setError(undefined);
    setConflict(undefined);
  }, [loaded.data]);

  const save = async (body: string, ifMatch: string | undefined) => {
    setError(undefined);
    setSaved(undefined);
    const parsed = parseEditorJson(body);
    if ('errors' in parsed) {
      setErrors(parsed.errors);
      return;
    }
    setErrors([]);
    try {
      await request(url, {
        method: 'PUT',
        body: parsed.value,
        headers: ifMatch ? { 'if-match': ifMatch } : { 'if-none-match': '*' },
      });
      setConflict(undefined);
      setSaved(`Saved ${part.label.toLowerCase()}.`);
      loaded.reload();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        try {
          const current = await request<Json>(url);
          setConflict({ mine: body, theirs: current.body, etag: current.headers.get('etag') ?? '*' });
        } catch (inner) {
          setError(inner);
        }
      } else setError(err);
    }
  };

  return (
    <Card title="Edit" id="thing-edit">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save(text, etag);
        }}
      >
        <div class="field">
          <label for="edit-part">Part</label>
          <select id="edit-part" value={part.key} onChange={(e) => setKey(e.currentTarget.value)}>
            {parts.map((p) => (
              <option key={p.key} value={p.key}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="edit-json">{part.label} (JSON)</label>
          <CodeEditor
            id="edit-json"
            label={`${part.label} JSON`}
            language="json"
            value={text}
            onChange={setText}
            errors={errors}
            describedBy="edit-hint"
          />
          <p class="hint" id="edit-hint">
            Saved only if nobody changed it since it was loaded (<code>If-Match: {etag ?? '(new)'}</code>);
            otherwise both versions are shown.
          </p>
        </div>
        {loaded.error !== undefined && <ErrorMessage error={loaded.error} />}
        <ErrorMessage error={error} />
        {saved && (
          <Notice kind="success" id="edit-saved">
            {saved}
          </Notice>
        )}
        {conflict && (
          <div class="conflict" role="alert" id="edit-conflict">
            <p class="conflict-title">
              <strong>Changed meanwhile.</strong> Someone else changed {part.label.toLowerCase()} after you
              opened it. Compare and choose:
            </p>
            <div class="conflict-columns">
              <div>
                <h3>Your version</h3>
                <CodeEditor
                  id="conflict-mine"
                  label="Your version"
                  language="json"
                  value={conflict.mine}
                  readOnly
                  size="small"
                />
              </div>
              <div>
                <h3>Current version</h3>
                <CodeEditor
                  id="conflict-theirs"
                  label="Current version"
                  language="json"
                  value={pretty(conflict.theirs)}
                  readOnly
                  size="small"
                />
              </div>
            </div>
            <div class="form-actions">
              <button
                type="button"
                class="button button-danger"
                onClick={() => void save(conflict.mine, conflict.etag)}
              >
                Overwrite with yours
              </button>
              <button
                type="button"
                class="button"
                onClick={() => {
                  setText(pretty(conflict.theirs));
                  setEtag(conflict.etag);
                  setConflict(undefined);
                }}
              >
                Take the current version
              </button>
            </div>
          </div>
        )}
        <div class="form-actions">
          <button type="submit" class="button button-primary">
            Save
          </button>
          <button type="button" class="button" onClick={() => loaded.reload()}>
            Revert
          </button>
        </div>
      </form>
    </Card>
  );
}
