/**
 * `date.toISOString()`, remembered for the millisecond last asked: at thousands of writes per second most
 * writes share their millisecond with the previous one, and formatting a date costs more than comparing it.
 */
let lastMs = Number.NaN;
let lastText = '';

export function isoTime(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastMs) {
    lastText = date.toISOString();
    lastMs = ms;
  }
  return lastText;
}
