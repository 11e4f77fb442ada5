/** A Ditto duration (`250ms`, `30s`, `5m`, `1h`, `2d`) in milliseconds; undefined when absent or not one. */
export function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
