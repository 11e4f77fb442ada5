/**
 * The Ditto Protocol JSON schemas (reference/ditto-spec/jsonschema/protocol-*.json, draft-04) restated
 * without `$schema`, titles, descriptions and examples, because the reference folder is not part of the
 * repository. ajv 8 validates this draft-07-compatible subset as is. Keys are the reference file names.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

export const protocolSchemas = {
  'protocol-ack.json': {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      headers: {
        type: 'object',
        properties: {
          'correlation-id': { type: 'string' },
          version: { type: 'integer', minimum: 1, maximum: 2 },
        },
        required: ['correlation-id'],
      },
      path: { type: 'string' },
      value: { type: ['object', 'string', 'number', 'array', 'boolean'] },
      status: { type: 'integer' },
    },
    required: ['topic', 'headers', 'path', 'status'],
  },
  'protocol-acks.json': {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      headers: {
        type: 'object',
        properties: {
          'correlation-id': { type: 'string' },
          version: { type: 'integer', minimum: 1, maximum: 2 },
        },
        required: ['correlation-id'],
      },
      path: { type: 'string' },
      value: { type: 'object' },
      status: { type: 'integer' },
    },
    required: ['topic', 'headers', 'path', 'status'],
  },
  'protocol-announcement.json': {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      headers: { type: 'object' },
      path: { type: 'string' },
      value: { type: ['object', 'string', 'number', 'array', 'boolean'] },
    },
    required: ['topic', 'headers', 'path'],
  },
  'protocol-envelope.json': {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      headers: {
        type: 'object',
        properties: {
          'content-type': { type: 'string' },
          'correlation-id': { type: 'string' },
          'ditto-originator': { type: 'string' },
          'If-Match': { type: 'string' },
          'If-None-Match': { type: 'string' },
          'if-equal': { type: 'string' },
          'response-required': { type: 'boolean' },
          'requested-acks': {
            type: 'array',
            uniqueItems: true,
            items: { type: 'string', pattern: '[a-zA-Z0-9-_:]{3,100}' },
          },
          timeout: { type: 'string' },
          version: { type: 'integer', minimum: 1, maximum: 2 },
          condition: { type: 'string' },
        },
        required: ['correlation-id'],
      },
      path: { type: 'string' },
      fields: { type: 'string' },
      value: { type: ['object', 'string', 'number', 'array', 'boolean'] },
      extra: { type: 'object' },
      revision: { type: 'number' },
      timestamp: { type: 'string', format: 'date-time' },
    },
    required: ['topic', 'headers', 'path'],
  },
  'protocol-error_response.json': {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      headers: {
        type: 'object',
        properties: { 'correlation-id': { type: 'string' } },
        required: ['correlation-id'],
      },
      path: { type: 'string' },
      value: {
        type: 'object',
        properties: {
          status: { type: 'integer' },
          error: { type: 'string' },
          message: { type: 'string' },
          href: { type: 'string' },
        },
        required: ['status', 'error', 'message'],
        additionalProperties: { type: ['array', 'boolean', 'integer', 'number', 'object', 'string', 'null'] },
      },
      status: { type: 'integer' },
    },
    required: ['topic', 'headers', 'path', 'value', 'status'],
  },
  'protocol-response.json': {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      headers: {
        type: 'object',
        properties: {
          'correlation-id': { type: 'string' },
          version: { type: 'integer', minimum: 1, maximum: 2 },
        },
        required: ['correlation-id'],
      },
      path: { type: 'string' },
      value: { type: ['object', 'string', 'number', 'array', 'boolean'] },
      status: { type: 'integer' },
    },
    required: ['topic', 'headers', 'path', 'status'],
  },
  'protocol-search-failed-payload.json': {
    type: 'object',
    properties: {
      subscriptionId: { type: 'string' },
      error: {
        type: 'object',
        properties: { status: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
      },
    },
    required: ['subscriptionId', 'error'],
  },
  'protocol-search-next-payload.json': {
    type: 'object',
    properties: { subscriptionId: { type: 'string' }, items: { type: 'array' } },
    required: ['subscriptionId', 'items'],
  },
  'protocol-search-request-payload.json': {
    type: 'object',
    properties: { subscriptionId: { type: 'string' }, demand: { type: 'number' } },
    required: ['subscriptionId', 'demand'],
  },
  'protocol-search-subscribe-payload.json': {
    type: 'object',
    properties: {
      filter: { type: 'string' },
      options: { type: 'string' },
      namespaces: { type: 'array', items: { type: 'string' } },
    },
  },
  'protocol-search-subscriptionid.json': {
    type: 'object',
    properties: { subscriptionId: { type: 'string' } },
    required: ['subscriptionId'],
  },
  'protocol-streaming-subscription-failed-payload.json': {
    type: 'object',
    properties: {
      subscriptionId: { type: 'string' },
      error: {
        type: 'object',
        properties: {
          status: { type: 'integer' },
          error: { type: 'string' },
          message: { type: 'string' },
          description: { type: 'string' },
        },
      },
    },
    required: ['subscriptionId', 'error'],
  },
  'protocol-streaming-subscription-next-payload.json': {
    type: 'object',
    properties: { subscriptionId: { type: 'string' }, item: {} },
    required: ['subscriptionId', 'item'],
  },
  'protocol-streaming-subscription-request-payload.json': {
    type: 'object',
    properties: { subscriptionId: { type: 'string' }, demand: { type: 'number' } },
    required: ['subscriptionId', 'demand'],
  },
  'protocol-streaming-subscription-subscribe-for-persisted-events-payload.json': {
    type: 'object',
    properties: {
      fromHistoricalRevision: { type: 'integer' },
      toHistoricalRevision: { type: 'integer' },
      fromHistoricalTimestamp: { type: 'string', format: 'date-time' },
      toHistoricalTimestamp: { type: 'string', format: 'date-time' },
      filter: { type: 'string' },
    },
  },
  'protocol-streaming-subscriptionid.json': {
    type: 'object',
    properties: { subscriptionId: { type: 'string' } },
    required: ['subscriptionId'],
  },
} as const;

export type SchemaName = keyof typeof protocolSchemas;

const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv,
) => Ajv;
addFormats(ajv);
const validators = new Map<SchemaName, ValidateFunction>();

/** Asserts that `json` is valid against the named schema; the message lists ajv's errors. */
export function expectValid(name: SchemaName, json: unknown): void {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv.compile(protocolSchemas[name]);
    validators.set(name, validate);
  }
  const ok = validate(json);
  expect(ok ? [] : validate.errors, `${name}: ${JSON.stringify(json)}`).toEqual([]);
}
