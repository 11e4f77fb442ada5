/**
 * The connection JSON schema, compatible with ditto-spec/jsonschema/connection.json (same fields, types,
 * enums and required keys) with what Ditto's model accepts beyond that document: `qos` on sources and
 * targets, `tags`, non-string `specificConfig` values (stringified on parse, §11.1). Compiled once with ajv.
 * Fields marked `x-secret` (`'password'`: the password of a URI) are sealed at rest and never logged
 * (src/connectivity/secrets.ts, STYLE lesson 3).
 */
import { Ajv, type ErrorObject } from 'ajv';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const stringArray = { type: 'array', items: { type: 'string' } };

const source = {
  type: 'object',
  properties: {
    addresses: { type: 'array', uniqueItems: true, minItems: 1, items: { type: 'string', minLength: 1 } },
    consumerCount: { type: 'integer', minimum: 1 },
    qos: { type: 'integer', minimum: 0, maximum: 2 },
    authorizationContext: {
      type: 'array',
      uniqueItems: true,
      minItems: 1,
      items: { type: 'string', minLength: 1 },
    },
    enforcement: {
      type: 'object',
      properties: {
        input: { type: 'string' },
        filters: { type: 'array', uniqueItems: true, items: { type: 'string' } },
      },
      additionalProperties: false,
      required: ['input'],
    },
    acknowledgementRequests: {
      type: 'object',
      properties: { includes: stringArray, filter: { type: 'string' } },
      additionalProperties: false,
      required: ['includes'],
    },
    declaredAcks: stringArray,
    payloadMapping: stringArray,
    headerMapping: stringMap,
    replyTarget: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean' },
        address: { type: 'string' },
        headerMapping: stringMap,
        expectedResponseTypes: {
          type: 'array',
          uniqueItems: true,
          items: { enum: ['response', 'error', 'nack'] },
        },
      },
      additionalProperties: false,
      required: ['enabled'],
    },
  },
  additionalProperties: false,
  required: ['addresses', 'authorizationContext'],
};

const target = {
  type: 'object',
  properties: {
    address: { type: 'string', minLength: 1 },
    topics: { type: 'array', uniqueItems: true, items: { type: 'string' } },
    qos: { type: 'integer', minimum: 0, maximum: 2 },
    authorizationContext: {
      type: 'array',
      uniqueItems: true,
      minItems: 1,
      items: { type: 'string', minLength: 1 },
    },
    issuedAcknowledgementLabel: { type: 'string' },
    payloadMapping: stringArray,
    headerMapping: stringMap,
  },
  additionalProperties: false,
  required: ['address', 'authorizationContext', 'topics'],
};

export const connectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    connectionType: {
      type: 'string',
      enum: ['amqp-091', 'amqp-10', 'mqtt', 'mqtt-5', 'kafka', 'hono', 'http-push'],
    },
    connectionStatus: { type: 'string', enum: ['open', 'closed'] },
    uri: { type: 'string', minLength: 1, 'x-secret': 'password' },
    ca: { type: 'string' },
    credentials: {
      type: 'object',
      properties: {
        type: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string', 'x-secret': true },
        // Ditto's other credential types (not supported here, refused by validate.ts), marked all the same.
        password: { type: 'string', 'x-secret': true },
        clientSecret: { type: 'string', 'x-secret': true },
        parameters: {
          type: 'object',
          properties: {
            accessKey: { type: 'string', 'x-secret': true },
            secretKey: { type: 'string', 'x-secret': true },
            sharedKey: { type: 'string', 'x-secret': true },
          },
        },
      },
      required: ['type'],
    },
    sources: { type: 'array', items: source },
    targets: { type: 'array', items: target },
    clientCount: { type: 'integer', minimum: 1, maximum: 9 },
    failoverEnabled: { type: 'boolean' },
    validateCertificates: { type: 'boolean' },
    processorPoolSize: { type: 'integer', minimum: 1, maximum: 5 },
    specificConfig: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    mappingDefinitions: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          mappingEngine: { type: 'string' },
          options: { type: 'object' },
          incomingConditions: stringMap,
          outgoingConditions: stringMap,
        },
        additionalProperties: false,
        required: ['mappingEngine'],
      },
    },
    sshTunnel: {
      type: 'object',
      properties: {
        credentials: {
          type: 'object',
          properties: {
            password: { type: 'string', 'x-secret': true },
            privateKey: { type: 'string', 'x-secret': true },
          },
        },
      },
    },
    tags: { type: 'array', items: { type: 'string' } },
    _revision: { type: 'integer' },
    _created: { type: 'string' },
    _modified: { type: 'string' },
  },
  additionalProperties: false,
  required: ['connectionType', 'connectionStatus', 'uri'],
};

const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addKeyword('x-secret');
const compiled = ajv.compile(connectionSchema);

/** Checks the JSON against the schema; returns a message naming the field, or undefined when valid. */
export function schemaProblem(json: unknown): string | undefined {
  if (compiled(json)) return undefined;
  return describe(compiled.errors![0]);
}

/** Compiles a connector's specificConfig schema (once per connector) to a checker like schemaProblem. */
export function compileConfigSchema(
  schema: Record<string, unknown>,
): (config: unknown) => string | undefined {
  const check = ajv.compile(schema);
  return (config) => (check(config) ? undefined : describe(check.errors![0], '/specificConfig'));
}

function describe(error: ErrorObject, prefix = ''): string {
  const where = `${prefix}${error.instancePath}` || '/';
  if (error.keyword === 'additionalProperties') {
    return `unknown field '${where === '/' ? '' : where}/${(error.params as { additionalProperty: string }).additionalProperty}'`;
  }
  if (error.keyword === 'required') {
    return `the field '${where === '/' ? '' : where}/${(error.params as { missingProperty: string }).missingProperty}' is missing`;
  }
  return `the field '${where}' ${error.message ?? 'is invalid'}`;
}
