/**
 * The CPU time and garbage collection pauses of a Twinbridge process, from its Prometheus `/metrics`
 * (prom-client's process metrics). CPU per message is a steadier figure than throughput on a shared
 * machine: it does not depend on how much of the cores other processes took during the run. GC pauses
 * show how much of a latency tail the collector explains.
 */
import { request } from '../../test/helpers/app.js';

export interface ServiceSample {
  cpuSeconds: number;
  /** Pauses of the main thread for garbage collection, all kinds. */
  gcSeconds: number;
  gcCount: number;
  /** Pauses longer than 10 ms (prom-client's bucket bound). */
  gcOver10ms: number;
  /** The longest event-loop delay since the previous sample (prom-client resets it on every scrape). */
  loopDelayMaxMs: number;
}

export async function sampleService(url: string): Promise<ServiceSample> {
  const res = await request(url, 'GET', '/metrics', { auth: 'devops:foobar' });
  const cpu = /^twinbridge_process_cpu_seconds_total (\S+)$/m.exec(res.text);
  if (!cpu) throw new Error(`no twinbridge_process_cpu_seconds_total in /metrics (${res.status})`);
  const sum = (re: RegExp) => [...res.text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  const count = sum(/^twinbridge_nodejs_gc_duration_seconds_count\{[^}]*\} (\S+)$/gm);
  const upTo10ms = sum(/^twinbridge_nodejs_gc_duration_seconds_bucket\{[^}]*le="0\.01"[^}]*\} (\S+)$/gm);
  return {
    cpuSeconds: Number(cpu[1]),
    gcSeconds: sum(/^twinbridge_nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm),
    gcCount: count,
    gcOver10ms: count - upTo10ms,
    loopDelayMaxMs: Number(/^twinbridge_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(res.text)?.[1] ?? NaN) * 1000,
  };
}
