/**
 * One connection (devops), or a new one: its JSON in an editor where the service's validation message is
 * shown at the field it names, a dry-run test, open/close/delete, the status of each client, source and
 * target, metrics as charts, and the connection logs (enable, follow).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, enc, request } from '../lib/api';
import { navigate, type Location } from '../lib/router';
import { useInterval, useLoad, useTitle } from '../lib/hooks';
import {
  connectionCommand,
  connectionStatus,
  fieldOfMessage,
  maskUri,
  metricsSeries,
  toRate,
  windowOf,
  type ConnectionStatus,
} from '../lib/connections';
import { formatTime, pretty, type JsonObject } from '../lib/json';
import { Card, Empty, ErrorMessage, Loading, Notice, PageHeader, StatusBadge } from '../components/common';
import { CodeEditor, parseEditorJson, type EditorError } from '../components/CodeEditor';
import { Chart } from '../components/Chart';

const SUBJECT = 'nginx:ditto';

function mqttTemplate(connectionType: 'mqtt' | 'mqtt-5', name: string): JsonObject {
  return {
    name,
    connectionType,
    connectionStatus: 'open',
    uri: 'tcp://localhost:1883',
    specificConfig: { clientId: 'twinbridge' },
    sources: [{ addresses: ['devices/+/telemetry'], qos: 1, authorizationContext: [SUBJECT] }],
    targets: [
      {
        address: 'devices/{{ thing:id }}/events',
        topics: ['_/_/things/twin/events'],
        qos: 1,
        authorizationContext: [SUBJECT],
      },
    ],
  };
}

/** Starting points for a new connection, one per connection type. */
const TEMPLATES: Record<string, { label: string; json: JsonObject }> = {
  mqtt: { label: 'MQTT 3.1.1', json: mqttTemplate('mqtt', 'Devices over MQTT') },
  'mqtt-5': { label: 'MQTT 5', json: mqttTemplate('mqtt-5', 'Devices over MQTT 5') },
  kafka: {
    label: 'Kafka',
    json: {
      name: 'Telemetry from Kafka',
      connectionType: 'kafka',
      connectionStatus: 'open',
      uri: 'tcp://localhost:9092',
      specificConfig: { bootstrapServers: 'localhost:9092' },
      sources: [{ addresses: ['telemetry'], authorizationContext: [SUBJECT] }],
      targets: [
        {
          address: 'twin-events/{{ thing:id }}',
          topics: ['_/_/things/twin/events'],
          authorizationContext: [SUBJECT],
        },
      ],
    },
  },
  'amqp-10': {
    label: 'AMQP 1.0',
    json: {
      name: 'AMQP 1.0 broker',
      connectionType: 'amqp-10',
      connectionStatus: 'open',
      uri: 'amqp://guest:guest@localhost:5672',
      sources: [{ addresses: ['telemetry'], authorizationContext: [SUBJECT] }],
      targets: [
        { address: 'twin-events', topics: ['_/_/things/twin/events'], authorizationContext: [SUBJECT] },
      ],
    },
  },
  'amqp-091': {
    label: 'AMQP 0.9.1 (RabbitMQ)',
    json: {
      name: 'RabbitMQ',
      connectionType: 'amqp-091',
      connectionStatus: 'open',
      uri: 'amqp://guest:guest@localhost:5672/%2F',
      sources: [{ addresses: ['telemetry'], authorizationContext: [SUBJECT] }],
      targets: [
        {
          address: 'amq.topic/twin.{{ thing:id }}',
          topics: ['_/_/things/twin/events'],
          authorizationContext: [SUBJECT],
        },
      ],
    },
  },
  'http-push': {
    label: 'HTTP push',
    json: {
      name: 'Webhook',
      connectionType: 'http-push',
      connectionStatus: 'open',
      uri: 'http://localhost:8081',
      targets: [
        {
          address: 'POST:/events/{{ thing:id }}',
          topics: ['_/_/things/twin/events'],
          authorizationContext: [SUBJECT],
        },
      ],
    },
  },
};

/** What the editor shows of a stored connection: without the read-only fields. */
function editable(connection: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(connection).filter(([k]) => !k.startsWith('_')));
}

export function ConnectionPage(props: { params: Record<string, string>; location: Location }) {
  const id = props.params.id as string | undefined;
  const isNew = id === undefined;
  useTitle(isNew ? 'New connection' : `Connection ${id}`);
  const connection = useLoad(
    async () => (isNew ? undefined : (await request<JsonObject>(`/api/2/connections/${enc(id)}`)).body),
    [id],
  );
  const status = useLoad(async () => (isNew ? undefined : connectionStatus(id)), [id]);
  useInterval(() => status.reload(), 2000, !isNew);
  const tab = props.location.query.get('tab') ?? 'configuration';
  const name =
    connection.data && typeof connection.data.name === 'string' && connection.data.name
      ? connection.data.name
      : id;

  return (
    <div class="page">
      <PageHeader
        title={isNew ? 'New connection' : (name ?? '')}
        subtitle={
          isNew ? 'Start from a template, edit the JSON, test it, create it.' : <span class="mono">{id}</span>
        }
        actions={
          !isNew &&
          connection.data && (
            <ConnectionActions
              id={id}
              status={status.data}
              onChange={() => (connection.reload(), status.reload())}
            />
          )
        }
      />
      {connection.error !== undefined && <ErrorMessage error={connection.error} />}
      {!isNew && connection.loading && !connection.data && <Loading />}
      {isNew && <ConfigurationEditor />}
      {!isNew && connection.data && (
        <>
          <Tabs id={id} current={tab} />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="tab-panel">
            {tab === 'configuration' && (
              <ConfigurationEditor
                id={id}
                connection={connection.data}
                onSaved={() => (connection.reload(), status.reload())}
              />
            )}
            {tab === 'status' && <StatusPanel status={status.data} error={status.error} />}
            {tab === 'metrics' && <MetricsPanel id={id} />}
            {tab === 'logs' && <LogsPanel id={id} />}
          </div>
        </>
      )}
    </div>
  );
}

const TABS = [
  { key: 'configuration', label: 'Configuration' },
  { key: 'status', label: 'Status' },
  { key: 'metrics', label: 'Metrics' },
  { key: 'logs', label: 'Logs' },
];

/** ARIA tabs: Tab reaches the selected tab, arrow keys move between tabs. */
function Tabs(props: { id: string; current: string }) {
  const go = (key: string) =>
    navigate(`/connections/${enc(props.id)}${key === 'configuration' ? '' : `?tab=${key}`}`, true);
  const onKey = (e: KeyboardEvent, i: number) => {
    const next =
      e.key === 'ArrowRight'
        ? (i + 1) % TABS.length
        : e.key === 'ArrowLeft'
          ? (i + TABS.length - 1) % TABS.length
          : -1;
    if (next < 0) return;
    e.preventDefault();
    go(TABS[next].key);
    requestAnimationFrame(() => document.getElementById(`tab-${TABS[next].key}`)?.focus());
  };
  return (
    <div class="tabs" role="tablist" aria-label="Connection">
      {TABS.map((t, i) => (
        <button
          key={t.key}
          type="button"
          role="tab"
          id={`tab-${t.key}`}
          aria-selected={props.current === t.key}
          aria-controls={`panel-${t.key}`}
          tabIndex={props.current === t.key ? 0 : -1}
          class={`tab${props.current === t.key ? ' active' : ''}`}
          onClick={() => go(t.key)}
          onKeyDown={(e) => onKey(e, i)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

function ConnectionActions(props: { id: string; status: ConnectionStatus | undefined; onChange(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState(false);
  const desiredOpen = props.status?.connectionStatus === 'open';
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      props.onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="connection-actions">
      <StatusBadge status={props.status?.liveStatus ?? 'unknown'} />
      <button
        type="button"
        class="button"
        disabled={busy || !props.status}
        onClick={() =>
          void run(() => connectionCommand(props.id, desiredOpen ? 'closeConnection' : 'openConnection'))
        }
      >
        {desiredOpen ? 'Close' : 'Open'}
      </button>
      {!confirming ? (
        <button type="button" class="button button-danger-quiet" onClick={() => setConfirming(true)}>
          Delete
        </button>
      ) : (
        <span class="confirm" role="group" aria-label="Confirm deletion">
          <span>Delete this connection?</span>
          <button
            type="button"
            class="button button-danger"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await request(`/api/2/connections/${enc(props.id)}`, { method: 'DELETE' });
                navigate('/connections');
              })
            }
          >
            Delete
          </button>
          <button type="button" class="button" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
    </div>
  );
}

/** The editor's errors for a failed save or test: at the field the message names, else above the editor. */
function placeError(err: unknown): { field: EditorError[]; general: unknown } {
  if (err instanceof ApiError && err.status === 400 && err.body) {
    const pointer = fieldOfMessage(err.body.message);
    if (pointer !== undefined) return { field: [{ pointer, message: err.body.message }], general: undefined };
  }
  return { field: [], general: err };
}

function ConfigurationEditor(props: { id?: string; connection?: JsonObject; onSaved?: () => void }) {
  const [template, setTemplate] = useState('mqtt');
  const initial = useMemo(
    () => pretty(props.connection ? editable(props.connection) : TEMPLATES[template].json),
    [props.connection, template],
  );
  const [text, setText] = useState(initial);
  useEffect(() => setText(initial), [initial]);
  const [fieldErrors, setFieldErrors] = useState<EditorError[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<'save' | 'test' | undefined>(undefined);

  const parsed = (): JsonObject | undefined => {
    const p = parseEditorJson(text);
    if ('errors' in p) {
      setFieldErrors(p.errors);
      return undefined;
    }
    if (typeof p.value !== 'object' || p.value === null || Array.isArray(p.value)) {
      setFieldErrors([{ line: 1, message: 'A connection is a JSON object.' }]);
      return undefined;
    }
    return p.value;
  };

  const act = async (kind: 'save' | 'test') => {
    setError(undefined);
    setResult(undefined);
    setFieldErrors([]);
    const body = parsed();
    if (!body) return;
    setBusy(kind);
    try {
      if (kind === 'test') {
        const { id: _id, ...withoutId } = body;
        await request('/api/2/connections?dry-run=true', { method: 'POST', body: withoutId });
        setResult('The test connected to the broker successfully (nothing was saved).');
      } else if (props.id) {
        await request(`/api/2/connections/${enc(props.id)}`, { method: 'PUT', body });
        setResult('Saved. The connection restarts with the new configuration.');
        props.onSaved?.();
      } else {
        const { body: created } = await request<JsonObject>('/api/2/connections', { method: 'POST', body });
        navigate(`/connections/${enc(String(created.id))}`);
      }
    } catch (err) {
      const placed = placeError(err);
      setFieldErrors(placed.field);
      setError(placed.general);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <Card title="Configuration" id="connection-config">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act('save');
        }}
      >
        {!props.connection && (
          <div class="field">
            <label for="connection-template">Template</label>
            <select
              id="connection-template"
              value={template}
              onChange={(e) => setTemplate(e.currentTarget.value)}
              aria-describedby="connection-template-hint"
            >
              {Object.entries(TEMPLATES).map(([key, t]) => (
                <option key={key} value={key}>
                  {t.label}
                </option>
              ))}
            </select>
            <p class="hint" id="connection-template-hint">
              Replaces the JSON below. The ID is generated when the connection is created.
            </p>
          </div>
        )}
        <div class="field">
          <label for="connection-json">Connection JSON</label>
          <CodeEditor
            id="connection-json"
            label="Connection JSON"
            language="json"
            value={text}
            onChange={setText}
            errors={fieldErrors}
            size="large"
            describedBy="connection-json-hint"
          />
          <p class="hint" id="connection-json-hint">
            Ditto's connection model: <code>connectionType</code>, <code>uri</code>, <code>sources</code>,{' '}
            <code>targets</code>, <code>mappingDefinitions</code>, <code>specificConfig</code>. The service
            validates it; a problem is shown at the field it names.
          </p>
        </div>
        <ErrorMessage error={error} />
        {result && (
          <Notice kind="success" id="connection-result">
            {result}
          </Notice>
        )}
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy !== undefined}>
            {props.id
              ? busy === 'save'
                ? 'Saving…'
                : 'Save'
              : busy === 'save'
                ? 'Creating…'
                : 'Create connection'}
          </button>
          <button type="button" class="button" disabled={busy !== undefined} onClick={() => void act('test')}>
            {busy === 'test' ? 'Testing…' : 'Test connection'}
          </button>
        </div>
      </form>
    </Card>
  );
}

function StatusPanel(props: { status: ConnectionStatus | undefined; error: unknown }) {
  const s = props.status;
  if (props.error !== undefined) return <ErrorMessage error={props.error} />;
  if (!s) return <Loading />;
  const rows = [
    ...(s.clientStatus ?? []).map((c) => ({
      kind: 'client',
      client: c.client,
      address: '',
      status: c.status,
      details: c.statusDetails,
      since: c.inStateSince,
    })),
    ...(s.sourceStatus ?? []).map((c) => ({
      kind: 'source',
      client: c.client,
      address: c.address,
      status: c.status,
      details: c.statusDetails,
      since: undefined,
    })),
    ...(s.targetStatus ?? []).map((c) => ({
      kind: 'target',
      client: c.client,
      address: c.address,
      status: c.status,
      details: c.statusDetails,
      since: undefined,
    })),
  ];
  return (
    <Card title="Status" id="connection-status">
      <dl class="meta">
        <div>
          <dt>Desired</dt>
          <dd>{s.connectionStatus}</dd>
        </div>
        <div>
          <dt>Live</dt>
          <dd>
            <StatusBadge status={s.liveStatus} />
          </dd>
        </div>
        <div>
          <dt>Connected since</dt>
          <dd>{formatTime(s.connectedSince)}</dd>
        </div>
      </dl>
      {s.statusDetails && <Notice kind="warning">{s.statusDetails}</Notice>}
      {rows.length === 0 ? (
        <Empty>The connection is closed: no client runs.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Part</th>
              <th scope="col">Client</th>
              <th scope="col">Address</th>
              <th scope="col">Status</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>{r.kind}</td>
                <td class="mono">{r.client}</td>
                <td class="mono">{r.address}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td class="small">{r.details ? maskUri(r.details) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function MetricsPanel(props: { id: string }) {
  const series = useLoad(metricsSeries, []);
  useInterval(() => series.reload(), 5000);
  const windows = useLoad(
    async () => (await request<JsonObject>(`/api/2/connections/${enc(props.id)}/metrics`)).body,
    [props.id],
  );
  useInterval(() => windows.reload(), 5000);
  const data = series.data;
  const mine = data?.connections.find((c) => c.id === props.id);
  const perMinute = (counts: Array<number | null>) => (data ? toRate(data, counts, 60_000) : []);
  return (
    <>
      <Card title="Messages per minute, last 15 minutes" id="connection-metrics">
        {series.error !== undefined && <ErrorMessage error={series.error} />}
        {!data && series.loading && <Loading />}
        {data && !mine && <Empty>No message went through this connection in the last 15 minutes.</Empty>}
        {data && mine && (
          <Chart
            id="connection-chart"
            timestamps={data.timestamps.map((t) => t / 1000)}
            series={[
              { label: 'inbound', values: perMinute(mine.inbound.consumed) },
              { label: 'mapped', values: perMinute(mine.inbound.mapped) },
              { label: 'dropped', values: perMinute(mine.inbound.dropped) },
              { label: 'outbound', values: perMinute(mine.outbound.published) },
            ]}
            unit="per minute"
            height={240}
            range={windowOf(data)}
            summary={`Messages per minute of connection ${props.id}: inbound, mapped, dropped and outbound over the last 15 minutes.`}
          />
        )}
      </Card>
      <Card title="Counters (Ditto metrics)" id="connection-counters">
        {windows.error !== undefined && <ErrorMessage error={windows.error} />}
        {windows.data && <Counters metrics={windows.data} />}
      </Card>
    </>
  );
}

const COUNTERS: Array<[string, 'inbound' | 'outbound', string]> = [
  ['Consumed', 'inbound', 'consumed'],
  ['Mapped (in)', 'inbound', 'mapped'],
  ['Dropped (in)', 'inbound', 'dropped'],
  ['Dispatched', 'outbound', 'dispatched'],
  ['Published', 'outbound', 'published'],
  ['Dropped (out)', 'outbound', 'dropped'],
];

function Counters(props: { metrics: JsonObject }) {
  const m = props.metrics.connectionMetrics as unknown as
    Record<string, Record<string, Record<string, Record<string, number>>>> | undefined;
  const cell = (direction: string, type: string, outcome: string, window: string) =>
    m?.[direction]?.[type]?.[outcome]?.[window] ?? 0;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">Messages</th>
          <th scope="col" class="num">
            Last minute
          </th>
          <th scope="col" class="num">
            Last hour
          </th>
          <th scope="col" class="num">
            Last 24 hours
          </th>
          <th scope="col" class="num">
            Failures (24 h)
          </th>
        </tr>
      </thead>
      <tbody>
        {COUNTERS.map(([label, direction, type]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td class="num">{cell(direction, type, 'success', 'PT1M')}</td>
            <td class="num">{cell(direction, type, 'success', 'PT1H')}</td>
            <td class="num">{cell(direction, type, 'success', 'PT24H')}</td>
            <td class="num">{cell(direction, type, 'failure', 'PT24H')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface LogEntry {
  timestamp: string;
  level: string;
  category: string;
  type: string;
  address?: string;
  entityId?: string;
  correlationId?: string;
  message: string;
}

function LogsPanel(props: { id: string }) {
  const [follow, setFollow] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const logs = useLoad(
    async () =>
      (
        await request<{
          enabledSince: string | null;
          enabledUntil: string | null;
          connectionLogs: LogEntry[];
        }>(`/api/2/connections/${enc(props.id)}/logs`)
      ).body,
    [props.id],
  );
  useInterval(() => logs.reload(), 2000, follow);
  const enabled = logs.data?.enabledUntil ? new Date(logs.data.enabledUntil).getTime() > Date.now() : false;
  const command = async (name: 'enableConnectionLogs' | 'resetConnectionLogs') => {
    setError(undefined);
    try {
      await connectionCommand(props.id, name);
      logs.reload();
    } catch (err) {
      setError(err);
    }
  };
  const entries = [...(logs.data?.connectionLogs ?? [])].reverse().slice(0, 300);
  return (
    <Card
      title="Connection logs"
      id="connection-logs"
      actions={
        <>
          <label class="toggle">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
            Follow
          </label>
          <button
            type="button"
            class="button button-small"
            onClick={() => void command('enableConnectionLogs')}
          >
            {enabled ? 'Extend logging (24 h)' : 'Enable logging'}
          </button>
          <button
            type="button"
            class="button button-small"
            onClick={() => void command('resetConnectionLogs')}
          >
            Clear
          </button>
        </>
      }
    >
      <p class="hint">
        {enabled
          ? `Logging until ${formatTime(logs.data?.enabledUntil ?? undefined)}; newest first, at most 300 shown.`
          : 'Logging is off: enable it to record what the connection does.'}
      </p>
      <ErrorMessage error={error} />
      {logs.error !== undefined && <ErrorMessage error={logs.error} />}
      {logs.data && entries.length === 0 && <Empty>No log entries.</Empty>}
      {entries.length > 0 && (
        <div class="table-wrap logs">
          <table class="table table-compact" aria-live={follow ? 'polite' : undefined}>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Level</th>
                <th scope="col">Category</th>
                <th scope="col">Type</th>
                <th scope="col">Address</th>
                <th scope="col">Thing</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => (
                <tr key={`${e.timestamp}-${i}`} class={e.level === 'failure' ? 'row-failure' : undefined}>
                  <td class="nowrap mono small">{new Date(e.timestamp).toLocaleTimeString()}</td>
                  <td>
                    <StatusBadge status={e.level === 'failure' ? 'failed' : 'open'} label={e.level} />
                  </td>
                  <td>{e.category}</td>
                  <td>{e.type}</td>
                  <td class="mono small">{e.address ?? ''}</td>
                  <td class="mono small">{e.entityId ?? ''}</td>
                  <td class="small">{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
