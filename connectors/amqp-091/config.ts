/**
 * `specificConfig` of AMQP 0.9.1 connections (ditto-interfaces.md §11.6: Ditto has none). One option beyond
 * Ditto: the prefetch count, the broker-side in-flight window of each consumer (STYLE lesson 7).
 */
export const amqp091ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    prefetchCount: {
      type: 'string',
      pattern: '^[1-9]\\d{0,4}$',
      description:
        'Beyond Ditto: unacknowledged messages the broker delivers to each consumer before it waits for acknowledgements (basic.qos); default 500.',
    },
  },
} as const;

export interface Amqp091Config {
  prefetchCount: number;
}

export const DEFAULT_PREFETCH = 500;

export function parseAmqp091Config(c: Record<string, string>): Amqp091Config {
  return { prefetchCount: c.prefetchCount === undefined ? DEFAULT_PREFETCH : Number(c.prefetchCount) };
}
