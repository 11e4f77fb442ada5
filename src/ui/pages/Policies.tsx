/**
 * Policies: the policies of the things you can read, a policy's entries (subjects, resources with grants
 * and revokes) as a table, editing as JSON with Ditto's validation messages, and "who can read this path?":
 * the entries with a rule on the path, and the service's own answer for you (`POST /api/2/checkPermissions`).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, enc, request, type Session } from '../lib/api';
import { navigate } from '../lib/router';
import { useLoad, useTitle } from '../lib/hooks';
import { isObject, pretty, type Json, type JsonObject } from '../lib/json';
import { Card, Empty, ErrorMessage, Link, Loading, Notice, PageHeader } from '../components/common';
import { CodeEditor, parseEditorJson, type EditorError } from '../components/CodeEditor';

export function PoliciesPage() {
  useTitle('Policies');
  const [id, setId] = useState('');
  const known = useLoad(async () => {
    const { body } = await request<{ items: JsonObject[] }>(
      '/api/2/search/things?fields=thingId,policyId&option=size(200),sort(%2BthingId)',
    );
    const counts = new Map<string, number>();
    for (const t of body.items)
      if (typeof t.policyId === 'string') counts.set(t.policyId, (counts.get(t.policyId) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => a.localeCompare(b));
  }, []);
  return (
    <div class="page">
      <PageHeader title="Policies" subtitle="Who may read, write and message which parts of your things." />
      <Card title="Open a policy">
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (id.trim()) navigate(`/policies/${enc(id.trim())}`);
          }}
        >
          <div class="field field-grow">
            <label for="policy-id">Policy ID</label>
            <input
              id="policy-id"
              class="mono"
              placeholder="org.example:policy-1"
              value={id}
              onInput={(e) => setId(e.currentTarget.value)}
              spellcheck={false}
            />
          </div>
          <div class="field field-button">
            <button type="submit" class="button button-primary">
              Open
            </button>
          </div>
        </form>
      </Card>
      <Card title="Policies of your things" id="known-policies">
        {known.error !== undefined && <ErrorMessage error={known.error} />}
        {known.loading && !known.data && <Loading />}
        {known.data && known.data.length === 0 && (
          <Empty>None of the things you can read has a policy yet.</Empty>
        )}
        {known.data && known.data.length > 0 && (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Policy ID</th>
                <th scope="col" class="num">
                  Things (of the first 200)
                </th>
              </tr>
            </thead>
            <tbody>
              {known.data.map(([policyId, n]) => (
                <tr key={policyId}>
                  <td class="mono">
                    <Link to={`/policies/${enc(policyId)}`}>{policyId}</Link>
                  </td>
                  <td class="num">{n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

interface ResourceRule {
  grant?: string[];
  revoke?: string[];
}

interface Entry {
  subjects?: Record<string, { type?: string; expiry?: string }>;
  resources?: Record<string, ResourceRule>;
  importable?: string;
}

export function PolicyPage(props: { params: Record<string, string>; session: Session }) {
  const id = props.params.id;
  useTitle(id);
  const policy = useLoad(async () => {
    const reply = await request<JsonObject>(`/api/2/policies/${enc(id)}`);
    return { policy: reply.body, etag: reply.headers.get('etag') ?? undefined };
  }, [id]);
  const entries =
    policy.data && isObject(policy.data.policy.entries)
      ? (policy.data.policy.entries as unknown as Record<string, Entry>)
      : {};
  return (
    <div class="page">
      <PageHeader
        title={id}
        subtitle={
          <>
            <Link to="/policies">Policies</Link> / policy
          </>
        }
      />
      {policy.error !== undefined && <ErrorMessage error={policy.error} />}
      {policy.loading && !policy.data && <Loading />}
      {policy.data && (
        <>
          <Card title="Entries" id="policy-entries">
            <EntriesTable entries={entries} />
          </Card>
          <div class="columns">
            <div class="column-main">
              <WhoCanRead policyId={id} entries={entries} session={props.session} />
            </div>
            <div class="column-side">
              <PolicyEditor
                id={id}
                policy={policy.data.policy}
                etag={policy.data.etag}
                onSaved={policy.reload}
              />
            </div>
          </div>
        </>
      )}
    </div>
  );
}

function Permissions(props: { rule: ResourceRule }) {
  return (
    <span class="perms">
      {(props.rule.grant ?? []).map((p) => (
        <span class="perm perm-grant" key={`g${p}`} title="granted">
          ✓ {p}
        </span>
      ))}
      {(props.rule.revoke ?? []).map((p) => (
        <span class="perm perm-revoke" key={`r${p}`} title="revoked">
          ✕ {p}
        </span>
      ))}
    </span>
  );
}

function EntriesTable(props: { entries: Record<string, Entry> }) {
  const labels = Object.keys(props.entries);
  if (labels.length === 0)
    return <Empty>This policy has no entries: nobody may access what it governs.</Empty>;
  return (
    <div class="table-wrap">
      <table class="table table-top">
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Subjects</th>
            <th scope="col">Resources</th>
            <th scope="col">Importable</th>
          </tr>
        </thead>
        <tbody>
          {labels.map((label) => {
            const entry = props.entries[label];
            return (
              <tr key={label} data-entry={label}>
                <th scope="row" class="mono">
                  {label}
                </th>
                <td>
                  <ul class="plain-list">
                    {Object.entries(entry.subjects ?? {}).map(([subject, s]) => (
                      <li key={subject}>
                        <span class="mono">{subject}</span>
                        {s.type && <span class="muted"> · {s.type}</span>}
                        {s.expiry && <span class="muted"> · expires {s.expiry}</span>}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  <ul class="plain-list">
                    {Object.entries(entry.resources ?? {}).map(([resource, rule]) => (
                      <li key={resource} class="resource-rule">
                        <span class="mono">{resource}</span> <Permissions rule={rule} />
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{entry.importable ?? 'implicit'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** How a rule's resource relates to the path asked about. */
function relation(ruleKey: string, type: string, path: string): 'here' | 'above' | 'below' | undefined {
  const colon = ruleKey.indexOf(':');
  if (ruleKey.slice(0, colon) !== type) return undefined;
  const norm = (p: string) => p.replace(/\/+$/, '') || '/';
  const rule = norm(ruleKey.slice(colon + 1));
  const asked = norm(path.startsWith('/') ? path : `/${path}`);
  if (rule === asked) return 'here';
  if (rule === '/' || asked.startsWith(rule + '/')) return 'above';
  if (asked === '/' || rule.startsWith(asked + '/')) return 'below';
  return undefined;
}

const RELATION_TEXT = { here: 'on this path', above: 'on a parent', below: 'below it' };

function WhoCanRead(props: { policyId: string; entries: Record<string, Entry>; session: Session }) {
  const [type, setType] = useState('thing');
  const [path, setPath] = useState('/');
  const [permission, setPermission] = useState('READ');
  const [entityId, setEntityId] = useState('');
  const [answer, setAnswer] = useState<{ allowed: boolean; asked: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  // A thing governed by this policy, as the default entity of thing and message resources.
  const governed = useLoad(async () => {
    const filter = `eq(policyId,${JSON.stringify(props.policyId)})`;
    const { body } = await request<{ items: JsonObject[] }>(
      `/api/2/search/things?filter=${enc(filter)}&fields=thingId&option=size(1)`,
    );
    return body.items[0]?.thingId as string | undefined;
  }, [props.policyId]);
  useEffect(() => {
    if (!entityId) setEntityId(type === 'policy' ? props.policyId : (governed.data ?? ''));
  }, [type, governed.data]);

  const rules = Object.entries(props.entries).flatMap(([label, entry]) =>
    Object.entries(entry.resources ?? {}).flatMap(([key, rule]) => {
      const where = relation(key, type, path);
      const matters = (rule.grant ?? []).includes(permission) || (rule.revoke ?? []).includes(permission);
      return where && matters
        ? [{ label, key, rule, where, subjects: Object.keys(entry.subjects ?? {}) }]
        : [];
    }),
  );

  const check = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setAnswer(undefined);
    const resource = `${type}:${path.startsWith('/') ? path : `/${path}`}`;
    try {
      const { body } = await request<Record<string, boolean>>('/api/2/checkPermissions', {
        method: 'POST',
        body: { check: { resource, entityId: entityId.trim(), hasPermissions: [permission] } },
      });
      setAnswer({
        allowed: body.check === true,
        asked: `${permission} on ${resource} of ${entityId.trim()}`,
      });
    } catch (err) {
      setError(err);
    }
  };
  const me = props.session.api?.[0] ?? props.session.user;

  return (
    <Card title="Who can read this path?" id="who-can">
      <form class="check-form" onSubmit={check}>
        <div class="field">
          <label for="check-type">Resource type</label>
          <select
            id="check-type"
            value={type}
            onChange={(e) => {
              setType(e.currentTarget.value);
              setEntityId('');
            }}
          >
            <option value="thing">thing</option>
            <option value="policy">policy</option>
            <option value="message">message</option>
          </select>
        </div>
        <div class="field field-grow">
          <label for="check-path">Path</label>
          <input
            id="check-path"
            class="mono"
            value={path}
            onInput={(e) => setPath(e.currentTarget.value)}
            placeholder="/attributes/location"
            spellcheck={false}
          />
        </div>
        <div class="field">
          <label for="check-permission">Permission</label>
          <select
            id="check-permission"
            value={permission}
            onChange={(e) => setPermission(e.currentTarget.value)}
          >
            <option>READ</option>
            <option>WRITE</option>
            <option>EXECUTE</option>
          </select>
        </div>
        <div class="field field-grow">
          <label for="check-entity">Entity ID</label>
          <input
            id="check-entity"
            class="mono"
            value={entityId}
            onInput={(e) => setEntityId(e.currentTarget.value)}
            placeholder={type === 'policy' ? props.policyId : 'org.example:thing-1'}
            spellcheck={false}
            aria-describedby="check-entity-hint"
          />
          <p class="hint" id="check-entity-hint">
            {type === 'policy' ? 'This policy.' : 'A thing governed by this policy.'}
          </p>
        </div>
        <div class="field field-button">
          <button type="submit" class="button button-primary" disabled={!entityId.trim()}>
            Check for me
          </button>
        </div>
      </form>
      {answer && (
        <Notice kind={answer.allowed ? 'success' : 'warning'} id="check-answer">
          <strong>{me}</strong> {answer.allowed ? 'has' : 'does not have'} {answer.asked} (answered by the
          service, <code>checkPermissions</code>).
        </Notice>
      )}
      <ErrorMessage error={error} />
      <h3 class="subheading">
        Entries with a {permission} rule for {`${type}:${path || '/'}`}
      </h3>
      {rules.length === 0 ? (
        <Empty>No entry grants or revokes {permission} on this path, above or below it.</Empty>
      ) : (
        <table class="table" id="who-can-table">
          <thead>
            <tr>
              <th scope="col">Subjects</th>
              <th scope="col">Entry</th>
              <th scope="col">Rule</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={`${r.label}|${r.key}`}>
                <td class="mono">{r.subjects.join(', ')}</td>
                <td class="mono">{r.label}</td>
                <td>
                  <span class="mono">{r.key}</span> <span class="muted">({RELATION_TEXT[r.where]})</span>{' '}
                  <Permissions
                    rule={{
                      grant: (r.rule.grant ?? []).filter((p) => p === permission),
                      revoke: (r.rule.revoke ?? []).filter((p) => p === permission),
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">
        All entries count together. On the same path a revoke beats a grant; a deeper rule beats a shallower
        one. The service's answer above is authoritative.
      </p>
    </Card>
  );
}

function PolicyEditor(props: { id: string; policy: JsonObject; etag: string | undefined; onSaved(): void }) {
  const [text, setText] = useState(() => pretty(props.policy));
  const [errors, setErrors] = useState<EditorError[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  useEffect(() => setText(pretty(props.policy)), [props.policy]);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    const parsed = parseEditorJson(text);
    if ('errors' in parsed) {
      setErrors(parsed.errors);
      return;
    }
    setErrors([]);
    try {
      await request(`/api/2/policies/${enc(props.id)}`, {
        method: 'PUT',
        body: parsed.value as Json,
        headers: props.etag ? { 'if-match': props.etag } : {},
      });
      setSaved(true);
      props.onSaved();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 412
          ? new Error(
              'The policy was changed meanwhile by someone else. Reload it to see the current version, then apply your change again.',
            )
          : err,
      );
    }
  };
  return (
    <Card title="Edit as JSON" id="policy-edit">
      <form onSubmit={save}>
        <CodeEditor
          id="policy-json"
          label="Policy JSON"
          language="json"
          value={text}
          onChange={setText}
          errors={errors}
          size="large"
        />
        <ErrorMessage error={error} title="The service did not accept the policy" />
        {saved && <Notice kind="success">Saved.</Notice>}
        <div class="form-actions">
          <button type="submit" class="button button-primary">
            Save policy
          </button>
          <button type="button" class="button" onClick={() => setText(pretty(props.policy))}>
            Revert
          </button>
        </div>
      </form>
    </Card>
  );
}
