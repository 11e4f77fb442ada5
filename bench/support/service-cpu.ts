/**
 * The CPU time, garbage collection pauses and durable store writes of a Twinbridge process, from its
 * Prometheus `/metrics`. CPU per message is a steadier figure than throughput on a shared machine: it does
 * not depend on how much of the cores other processes took during the run. GC pauses and slow store writes
 * (a stalled disk holds every acknowledgement behind it) show how much of a latency tail each explains.
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
  /** Durable store writes (group-commit batches) so far, and how many of them took over 10 ms. */
  storeWrites: number;
  storeWritesOver10ms: number;
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
    storeWrites: sum(/^twinbridge_store_write_seconds_count (\S+)$/gm),
    storeWritesOver10ms: sum(/^twinbridge_store_write_seconds_count (\S+)$/gm) - sum(/^twinbridge_store_write_seconds_bucket\{le="0\.01"\} (\S+)$/gm),
  };
}
