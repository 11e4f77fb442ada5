/**
 * What a benchmark reads about the processes it measures. CPU time comes from /proc for every contender
 * alike (Twinbridge, the raw relays, Node-RED, the broker): CPU per message is a steadier figure than
 * throughput on a shared machine, since it does not depend on how much of the cores other processes took.
 * Twinbridge's own `/metrics` add what only it can tell: garbage collection pauses, event-loop delay and
 * durable store writes (a stalled disk holds every acknowledgement behind it), which show how much of a
 * latency tail each explains.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from '../../test/helpers/app.js';

/** Clock ticks per second of /proc's CPU fields (sysconf(_SC_CLK_TCK), 100 on Linux in practice). */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in ticks: the process's threads and its children that it reaped. */
  ticks: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone between the listing and the read
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return {
    pid,
    ppid: Number(f[1]),
    comm: text.slice(text.indexOf('(') + 1, close),
    ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
  };
}

function allProcesses(): Stat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is Stat => s !== undefined);
}

/**
 * User + system CPU seconds so far of process `pid` with all its threads (worker threads included) and,
 * unless `descendants` is false, all its descendant processes (a multi-process service counts whole).
 * Throws when the process is gone: a benchmark must not print a figure for a contender that died.
 */
export function processCpuSeconds(pid: number | undefined, descendants = true): number {
  const root = pid === undefined ? undefined : stat(pid);
  if (!root) throw new Error(`process ${pid} is not running (no /proc/${pid}/stat)`);
  if (!descendants) return root.ticks / ticksPerSecond;
  const children = new Map<number, Stat[]>();
  for (const s of allProcesses()) {
    const siblings = children.get(s.ppid);
    if (siblings) siblings.push(s);
    else children.set(s.ppid, [s]);
  }
  let ticks = 0;
  const todo = [root];
  while (todo.length > 0) {
    const s = todo.pop()!;
    ticks += s.ticks;
    todo.push(...(children.get(s.pid) ?? []));
  }
  return ticks / ticksPerSecond;
}

/** CPU of the benchmark's own process (its load generator or measuring client), without the processes it started. */
export const ownCpuWindow = () => cpuWindow(process.pid, false);

/** The pid of this process's child named `comm` (e.g. the Mosquitto a benchmark started), if any. */
export function childPid(comm: string): number | undefined {
  return allProcesses().find((s) => s.ppid === process.pid && s.comm === comm)?.pid;
}

/** CPU of a process (see processCpuSeconds) over a measured window: call `stop()` at the window's end. */
export function cpuWindow(
  pid: number | undefined,
  descendants = true,
): { stop(messages: number): { usPerMessage: number; cores: number } } {
  const cpu0 = processCpuSeconds(pid, descendants);
  const t0 = performance.now();
  return {
    stop(messages) {
      const cpu = processCpuSeconds(pid, descendants) - cpu0;
      return { usPerMessage: (cpu * 1e6) / messages, cores: cpu / ((performance.now() - t0) / 1000) };
    },
  };
}

export interface ServiceSample {
  /**
   * The process's CPU seconds as it reports them itself (`twinbridge_process_cpu_seconds_total`, all its
   * threads). Comparisons with other processes use processCpuSeconds, which reads every one alike.
   */
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

/** Twinbridge's own figures, from its Prometheus `/metrics`. */
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
    loopDelayMaxMs:
      Number(/^twinbridge_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(res.text)?.[1] ?? NaN) * 1000,
    storeWrites: sum(/^twinbridge_store_write_seconds_count (\S+)$/gm),
    storeWritesOver10ms:
      sum(/^twinbridge_store_write_seconds_count (\S+)$/gm) -
      sum(/^twinbridge_store_write_seconds_bucket\{le="0\.01"\} (\S+)$/gm),
  };
}
