/**
 * `specificConfig` of HTTP push connections (ditto-interfaces.md §11.6), as a JSON schema (STYLE lesson 3).
 * All values are strings (§11.1).
 */
export const httpPushConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    parallelism: {
      type: 'string',
      pattern: '^[1-9]\\d{0,3}$',
      description:
        'Requests in flight at once per client; default 1 (requests are then sent one after the other, in order).',
    },
    omitRequestBody: {
      type: 'string',
      pattern: '^\\s*((GET|POST|PUT|PATCH|DELETE)\\s*(,\\s*(GET|POST|PUT|PATCH|DELETE)\\s*)*)?$',
      description: 'Comma-separated HTTP verbs whose requests are sent without a body; default "GET,DELETE".',
    },
  },
} as const;

export const VERBS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Verb = (typeof VERBS)[number];

export interface HttpPushConfig {
  parallelism: number;
  omitRequestBody: ReadonlySet<string>;
}

export function parseHttpPushConfig(c: Record<string, string>): HttpPushConfig {
  const omit = c.omitRequestBody ?? 'GET,DELETE';
  return {
    parallelism: c.parallelism === undefined ? 1 : Number(c.parallelism),
    omitRequestBody: new Set(
      omit
        .split(',')
        .map((v) => v.trim().toUpperCase())
        .filter((v) => v.length > 0),
    ),
  };
}
