/**
 * Retention of history (ditto: cleanup `history-retention-duration`): the configuration as the store's
 * HistoryRetention, and the compactor that removes what is past it every `intervalMs` (the first run right
 * after start). Runs one at a time; a failed run is logged and tried again at the next interval.
 */
import type { Config } from '../config/config.js';
import type { HistoryRetention, Store } from '../store/port.js';
import { parseDuration } from '../util/duration.js';

export function retentionOf(
  config: Pick<Config, 'historyRetention' | 'historyRetentionNamespaces'>,
): HistoryRetention {
  const namespaces: Record<string, number | null> = {};
  for (const [namespace, text] of Object.entries(config.historyRetentionNamespaces))
    namespaces[namespace] = text === 'forever' ? null : parseDuration(text);
  const retention: HistoryRetention = { namespaces };
  if (config.historyRetention !== undefined) retention.defaultMs = config.historyRetention;
  return retention;
}

/** Whether any history can be past retention (else nothing needs compacting). */
export function limitsHistory(retention: HistoryRetention): boolean {
  return (
    retention.defaultMs !== undefined || Object.values(retention.namespaces ?? {}).some((ms) => ms !== null)
  );
}

export interface CompactorOptions {
  store: Store;
  retention: HistoryRetention;
  intervalMs: number;
  log: (level: 'info' | 'error', msg: string, err?: unknown) => void;
  now?: () => number;
}

export class HistoryCompactor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: CompactorOptions) {}

  start(): void {
    if (!limitsHistory(this.o.retention) || this.timer) return;
    this.timer = setInterval(() => void this.run(), Math.max(1, this.o.intervalMs));
    this.timer.unref();
    void this.run();
  }

  /** One compaction now (or the one under way). */
  run(): Promise<void> {
    this.running ??= this.o.store
      .compactHistory(this.o.retention, (this.o.now ?? Date.now)())
      .then(
        (dropped) => {
          if (dropped > 0)
            this.o.log('info', `history compaction removed ${dropped} revisions past retention`);
        },
        (err: unknown) => this.o.log('error', 'history compaction failed', err),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
