import { expect } from 'vitest';
import { isDittoError } from '../../../src/errors/ditto-error.js';
import {
  parseProtocolMessage,
  renderProtocolMessage,
  type ProtocolMessage,
} from '../../../src/protocol/message.js';

/** Asserts that `fn` throws a DittoError with `code` (and `status` when given). */
export function expectDittoError(fn: () => unknown, code: string, status?: number): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isDittoError(thrown), `expected ${code}, got ${String(thrown)}`).toBe(true);
  const error = thrown as { error: string; status: number };
  expect(error.error).toBe(code);
  if (status !== undefined) expect(error.status).toBe(status);
}

/** Parses a literal example (compact JSON text). */
export function parse(text: string): ProtocolMessage {
  return parseProtocolMessage(text);
}

/** Compact JSON text of a literal example, as the renderer would write it. */
export function compact(text: string): string {
  return JSON.stringify(JSON.parse(text));
}

export function render(msg: ProtocolMessage): string {
  return JSON.stringify(renderProtocolMessage(msg));
}
