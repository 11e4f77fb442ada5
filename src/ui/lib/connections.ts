/** Connection helpers shared by the connections pages, the overview and the mapping tester. */
import { enc, request } from './api';
import type { JsonObject } from './json';
// The JSON of GET /devops/metrics/series, as the service declares it (a type only: nothing of the server is bundled).
import type { SeriesJson } from '../../api/http/metrics-series';

export type { SeriesJson };

export interface ConnectionStatus {
  connectionId: string;
  connectionStatus: string;
  liveStatus: string;
  connectedSince?: string;
  statusDetails?: string;
  clientStatus?: Array<{ client: string; status: string; statusDetails?: string; inStateSince?: string }>;
  sourceStatus?: Array<{ client: string; address: string; status: string; statusDetails?: string }>;
  targetStatus?: Array<{ client: string; address: string; status: string; statusDetails?: string }>;
}

export async function listConnections(): Promise<JsonObject[]> {
  return (await request<JsonObject[]>('/api/2/connections')).body;
}

export async function connectionStatus(id: string): Promise<ConnectionStatus> {
  return (await request<ConnectionStatus>(`/api/2/connections/${enc(id)}/status`)).body;
}

/** The statuses of `ids`, fetched side by side; a failed one is left out. */
export async function statusesOf(ids: readonly string[]): Promise<Map<string, ConnectionStatus>> {
  const results = await Promise.allSettled(ids.map((id) => connectionStatus(id)));
  const map = new Map<string, ConnectionStatus>();
  results.forEach((r, i) => r.status === 'fulfilled' && map.set(ids[i], r.value));
  return map;
}

export type ConnectionCommand =
  | 'openConnection'
  | 'closeConnection'
  | 'enableConnectionLogs'
  | 'resetConnectionLogs'
  | 'resetConnectionMetrics';

/** ditto: §2.9 `POST /connections/{id}/command` with a text/plain `connectivity.commands:<name>`. */
export async function connectionCommand(id: string, command: ConnectionCommand): Promise<void> {
  await request(`/api/2/connections/${enc(id)}/command`, {
    method: 'POST',
    body: `connectivity.commands:${command}`,
    contentType: 'text/plain',
  });
}

/** The URI with its password masked, for display. */
export function maskUri(uri: unknown): string {
  if (typeof uri !== 'string') return '';
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1••••@');
}

/** The JSON pointer a connection validation message names: "the field '/uri' …", "unknown field '/x'". */
export function fieldOfMessage(message: string): string | undefined {
  const m = /(?:the field|unknown field) '(\/[^']*)'/.exec(message);
  return m ? m[1] : undefined;
}

export async function metricsSeries(): Promise<SeriesJson> {
  return (await request<SeriesJson>('/devops/metrics/series')).body;
}

/** Counts per step as a rate per `perMs` (the current step, not over yet, by its elapsed time). */
export function toRate(
  series: SeriesJson,
  counts: Array<number | null>,
  perMs: number,
): Array<number | null> {
  return counts.map((n, i) => {
    if (n === null) return null;
    const start = series.timestamps[i];
    const elapsed = i === series.timestamps.length - 1 ? Math.max(series.now - start, 1000) : series.stepMs;
    return (n * perMs) / Math.min(elapsed, series.stepMs);
  });
}

/** The whole window of the series in seconds: charts span the last 15 minutes even while the data covers less. */
export function windowOf(data: SeriesJson): [number, number] {
  return [(data.now - data.windowMs) / 1000, data.now / 1000];
}
