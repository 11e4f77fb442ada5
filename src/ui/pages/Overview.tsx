/**
 * Overview (devops): the connections at a glance, and the last 15 minutes of messages per second in and out
 * per connection and of durable store write latency, from the service's own metrics
 * (`GET /devops/metrics/series`), refreshed every 5 seconds.
 */
import { enc } from '../lib/api';
import { useInterval, useLoad, useTitle } from '../lib/hooks';
import {
  listConnections,
  metricsSeries,
  statusesOf,
  toRate,
  windowOf,
  type SeriesJson,
} from '../lib/connections';
import {
  Card,
  Empty,
  ErrorMessage,
  Link,
  Loading,
  Notice,
  PageHeader,
  StatusBadge,
} from '../components/common';
import { Chart } from '../components/Chart';

const REFRESH_MS = 5000;

function latest(values: Array<number | null>): number | undefined {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i]!;
  return undefined;
}

export function OverviewPage() {
  useTitle('Overview');
  const series = useLoad(metricsSeries, []);
  const connections = useLoad(async () => {
    const list = await listConnections();
    const statuses = await statusesOf(list.slice(0, 50).map((c) => String(c.id)));
    return { list, statuses };
  }, []);
  useInterval(() => (series.reload(), connections.reload()), REFRESH_MS);
  const data = series.data;
  const names = new Map(
    (connections.data?.list ?? []).map((c) => [
      String(c.id),
      typeof c.name === 'string' && c.name ? c.name : String(c.id),
    ]),
  );
  const statuses = [...(connections.data?.statuses.values() ?? [])];
  const open = statuses.filter((s) => s.liveStatus === 'open').length;
  const failing = statuses.filter(
    (s) => s.liveStatus === 'failed' || s.liveStatus === 'misconfigured',
  ).length;
  const perSecond = (counts: Array<number | null>) => (data ? toRate(data, counts, 1000) : []);
  const inbound =
    data?.connections.map((c) => ({
      label: names.get(c.id) ?? c.id,
      values: perSecond(c.inbound.consumed),
    })) ?? [];
  const outbound =
    data?.connections.map((c) => ({
      label: names.get(c.id) ?? c.id,
      values: perSecond(c.outbound.published),
    })) ?? [];
  const sum = (list: typeof inbound) => list.reduce((total, s) => total + (latest(s.values) ?? 0), 0);

  return (
    <div class="page">
      <PageHeader title="Overview" subtitle="The bridge over the last 15 minutes." />
      <div class="stats" role="list">
        <Stat label="Connections" value={connections.data ? String(connections.data.list.length) : '…'} />
        <Stat label="Open" value={connections.data ? String(open) : '…'} tone="ok" />
        <Stat
          label="Failing"
          value={connections.data ? String(failing) : '…'}
          tone={failing > 0 ? 'bad' : undefined}
        />
        <Stat label="Inbound now" value={data ? `${sum(inbound).toFixed(1)} msg/s` : '…'} />
        <Stat label="Outbound now" value={data ? `${sum(outbound).toFixed(1)} msg/s` : '…'} />
        <Stat label="Store write p99" value={data ? formatMs(latest(data.storeWrites.p99Seconds)) : '…'} />
      </div>
      {series.error !== undefined && <ErrorMessage error={series.error} />}
      {data?.truncated && (
        <Notice kind="warning">
          More connections had traffic than the overview keeps; the busiest ones are missing from the charts.
        </Notice>
      )}
      <div class="grid-2">
        <Card title="Inbound messages per second" id="chart-inbound">
          <SeriesChart
            data={data}
            series={inbound}
            unit="msg/s"
            summary={`Inbound messages per second per connection; now ${sum(inbound).toFixed(1)} in total.`}
          />
        </Card>
        <Card title="Outbound messages per second" id="chart-outbound">
          <SeriesChart
            data={data}
            series={outbound}
            unit="msg/s"
            summary={`Outbound messages per second per connection; now ${sum(outbound).toFixed(1)} in total.`}
          />
        </Card>
      </div>
      <Card title="Durable write latency" id="chart-store">
        {data ? (
          <Chart
            timestamps={data.timestamps.map((t) => t / 1000)}
            series={[
              {
                label: 'median',
                values: data.storeWrites.p50Seconds.map((s) => (s === null ? null : s * 1000)),
                color: '#2563eb',
              },
              {
                label: '99th percentile',
                values: data.storeWrites.p99Seconds.map((s) => (s === null ? null : s * 1000)),
                color: '#ea580c',
              },
            ]}
            range={windowOf(data)}
            unit="ms"
            summary={`Durable store write latency; 99th percentile now ${formatMs(latest(data.storeWrites.p99Seconds))}.`}
          />
        ) : (
          <Loading />
        )}
        <p class="hint">
          Each durable write is one group-commit batch of the store (a journal append or a PostgreSQL
          transaction); acknowledgements to devices wait for it.
        </p>
      </Card>
      <Card title="Connections" id="overview-connections">
        {connections.error !== undefined && <ErrorMessage error={connections.error} />}
        {connections.loading && !connections.data && <Loading />}
        {connections.data && connections.data.list.length === 0 && (
          <Empty>
            No connection yet. <Link to="/connections/new">Create one</Link>.
          </Empty>
        )}
        {connections.data && connections.data.list.length > 0 && (
          <ul class="connection-list">
            {connections.data.list.map((c) => {
              const id = String(c.id);
              return (
                <li key={id}>
                  <Link to={`/connections/${enc(id)}`}>{names.get(id)}</Link>
                  <span class="mono muted small">{String(c.connectionType)}</span>
                  <StatusBadge status={connections.data!.statuses.get(id)?.liveStatus ?? 'unknown'} />
                </li>
              );
            })}
          </ul>
        )}
      </Card>
    </div>
  );
}

function formatMs(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  const ms = seconds * 1000;
  return `${ms >= 10 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
}

function Stat(props: { label: string; value: string; tone?: 'ok' | 'bad' }) {
  return (
    <div class={`stat${props.tone ? ` stat-${props.tone}` : ''}`} role="listitem">
      <p class="stat-label">{props.label}</p>
      <p class="stat-value">{props.value}</p>
    </div>
  );
}

function SeriesChart(props: {
  data: SeriesJson | undefined;
  series: Array<{ label: string; values: Array<number | null> }>;
  unit: string;
  summary: string;
}) {
  if (!props.data) return <Loading />;
  if (props.series.length === 0) return <Empty>No connection had traffic in the last 15 minutes.</Empty>;
  return (
    <Chart
      timestamps={props.data.timestamps.map((t) => t / 1000)}
      series={props.series}
      unit={props.unit}
      summary={props.summary}
      range={windowOf(props.data)}
    />
  );
}
