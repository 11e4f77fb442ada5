/**
 * How the end-to-end benchmarks run and report (issue 21): several rounds in one invocation
 * (`BENCH_ROUNDS`, default 1), the contenders alternating within each round, every round printed, and
 * each target as the ratio it is stated in, with ✓/✗ per round and a closing line per target that says
 * in how many rounds it was met: never the best round alone.
 */

/** `BENCH_ROUNDS` (a whole number ≥ 1; default 1). */
export function benchRounds(): number {
  const text = process.env.BENCH_ROUNDS ?? '1';
  const rounds = Number(text);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`BENCH_ROUNDS must be a whole number ≥ 1, not ${JSON.stringify(text)}`);
  return rounds;
}

/** `items` in the order of round `round` (0-based): rotated by one per round, so that none always goes first. */
export function inRoundOrder<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export interface Target {
  /** What is compared, e.g. `Twinbridge / raw pass-through, saturated msg/s`. */
  label: string;
  /** NaN when it could not be measured (counts as not met). */
  value: number;
  op: '≥' | '≤' | '<';
  bound: number;
  unit: '×' | ' ms';
}

function met(t: Target): boolean {
  if (!Number.isFinite(t.value)) return false;
  return t.op === '≥' ? t.value >= t.bound : t.op === '≤' ? t.value <= t.bound : t.value < t.bound;
}

function figure(value: number, unit: Target['unit']): string {
  return Number.isFinite(value) ? `${value.toFixed(unit === '×' ? 2 : 1)}${unit}` : 'n/a';
}

/** The targets of a benchmark over its rounds. */
export class Targets {
  private readonly rounds: Target[][] = [];

  /** Prints one round's targets and keeps them for the summary. */
  round(targets: Target[]): void {
    this.rounds.push(targets);
    for (const t of targets)
      console.log(
        `${met(t) ? '✓' : '✗'} ${t.label}: ${figure(t.value, t.unit)} (target ${t.op} ${t.bound}${t.unit})`,
      );
  }

  /** One line per target: its value in every round, in order, and in how many it was met. */
  summary(): void {
    if (this.rounds.length === 0) return;
    console.log(`\nTargets over ${this.rounds.length} round(s), every round in order:`);
    for (const [i, t] of this.rounds[0].entries()) {
      const all = this.rounds.map((r) => r[i]);
      const hits = all.filter(met).length;
      console.log(
        `${hits === all.length ? '✓' : '✗'} ${t.label} (target ${t.op} ${t.bound}${t.unit}): ${all.map((r) => figure(r.value, r.unit)).join(', ')}; met in ${hits} of ${all.length}`,
      );
    }
  }
}

/** A Markdown table (as the README's performance section shows figures): the first `textColumns` left-aligned, the figures right-aligned. */
export function markdownTable(
  header: string[],
  rows: Array<Array<string | number>>,
  textColumns = 1,
): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((_, i) => (i < textColumns ? '---' : '---:'))),
    ...rows.map(line),
  ].join('\n');
}
