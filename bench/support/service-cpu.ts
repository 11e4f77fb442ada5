/**
 * The CPU time a Twinbridge process has used, from its Prometheus `/metrics` (prom-client's process
 * metrics). CPU per message is a steadier figure than throughput on a shared machine: it does not depend on
 * how much of the cores other processes took during the run.
 */
import { request } from '../../test/helpers/app.js';

export async function serviceCpuSeconds(url: string): Promise<number> {
  const res = await request(url, 'GET', '/metrics', { auth: 'devops:foobar' });
  const m = /^twinbridge_process_cpu_seconds_total (\S+)$/m.exec(res.text);
  if (!m) throw new Error(`no twinbridge_process_cpu_seconds_total in /metrics (${res.status})`);
  return Number(m[1]);
}
