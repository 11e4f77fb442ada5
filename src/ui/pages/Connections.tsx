/** The connections (devops): each with its live status (refreshed every few seconds) and open/close. */
import { useState } from 'preact/hooks';
import { enc } from '../lib/api';
import { navigate } from '../lib/router';
import { useInterval, useLoad, useTitle } from '../lib/hooks';
import {
  connectionCommand,
  listConnections,
  maskUri,
  statusesOf,
  type ConnectionStatus,
} from '../lib/connections';
import type { JsonObject } from '../lib/json';
import { Card, Empty, ErrorMessage, Link, Loading, PageHeader, StatusBadge } from '../components/common';

const REFRESH_MS = 3000;

export function ConnectionsPage() {
  useTitle('Connections');
  const connections = useLoad(listConnections, []);
  const ids = (connections.data ?? []).map((c) => String(c.id));
  const statuses = useLoad(() => statusesOf(ids), [ids.join('\u0000')]);
  useInterval(() => statuses.reload(), REFRESH_MS, ids.length > 0);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const toggle = async (connection: JsonObject, status: ConnectionStatus | undefined) => {
    const id = String(connection.id);
    const open = (status?.connectionStatus ?? connection.connectionStatus) === 'open';
    setBusy(id);
    setError(undefined);
    try {
      await connectionCommand(id, open ? 'closeConnection' : 'openConnection');
      connections.reload();
      statuses.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div class="page">
      <PageHeader
        title="Connections"
        subtitle="Bridges to external brokers: MQTT, Kafka, AMQP 1.0, AMQP 0.9.1 and HTTP push."
        actions={
          <button type="button" class="button button-primary" onClick={() => navigate('/connections/new')}>
            New connection
          </button>
        }
      />
      <ErrorMessage error={error} />
      <Card>
        {connections.error !== undefined && <ErrorMessage error={connections.error} />}
        {connections.loading && !connections.data && <Loading />}
        {connections.data && connections.data.length === 0 && (
          <Empty>
            No connection yet. <Link to="/connections/new">Create one</Link> to bring device messages in.
          </Empty>
        )}
        {connections.data && connections.data.length > 0 && (
          <div class="table-wrap">
            <table class="table" id="connections-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">URI</th>
                  <th scope="col" class="num">
                    Sources
                  </th>
                  <th scope="col" class="num">
                    Targets
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {connections.data.map((c) => {
                  const id = String(c.id);
                  const status = statuses.data?.get(id);
                  const desired = status?.connectionStatus ?? String(c.connectionStatus);
                  return (
                    <tr key={id} data-connection-id={id}>
                      <td>
                        <Link to={`/connections/${enc(id)}`}>
                          {typeof c.name === 'string' && c.name ? c.name : id}
                        </Link>
                        <div class="muted mono small">{id}</div>
                      </td>
                      <td class="mono">{String(c.connectionType)}</td>
                      <td class="mono truncate" title={maskUri(c.uri)}>
                        {maskUri(c.uri)}
                      </td>
                      <td class="num">{Array.isArray(c.sources) ? c.sources.length : 0}</td>
                      <td class="num">{Array.isArray(c.targets) ? c.targets.length : 0}</td>
                      <td>
                        <StatusBadge status={status?.liveStatus ?? 'unknown'} />
                        {status?.clientStatus && status.clientStatus.length > 1 && (
                          <span class="muted small">
                            {' '}
                            {status.clientStatus.filter((s) => s.status === 'open').length}/
                            {status.clientStatus.length} clients
                          </span>
                        )}
                      </td>
                      <td class="actions">
                        <button
                          type="button"
                          class="button button-small"
                          disabled={busy === id}
                          onClick={() => void toggle(c, status)}
                          aria-label={`${desired === 'open' ? 'Close' : 'Open'} ${typeof c.name === 'string' && c.name ? c.name : id}`}
                        >
                          {desired === 'open' ? 'Close' : 'Open'}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
