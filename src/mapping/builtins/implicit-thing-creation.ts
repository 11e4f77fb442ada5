/**
 * `ImplicitThingCreation` (ditto-interfaces.md §12.1, §1.2; ditto: ImplicitThingCreationMessageMapper),
 * inbound: every message becomes a `create` command for the thing described by the option `thing`, a JSON
 * template whose strings may use `{{ header:… }}`, `{{ request:subjectId }}` and `{{ time:… }}` (and
 * `{{ ref:things/<id>/policyId }}` in `_copyPolicyFrom`, left for the things service to resolve). It may
 * carry `_policy` (inline policy) or `_copyPolicyFrom`. `thing.thingId` is required.
 * The command headers are the option `commandHeaders` (templates; default `{"If-None-Match":"*"}`, which
 * is always included so an existing thing is never overwritten) plus `allow-policy-lockout` (option
 * `allowPolicyLockout`, default true). An unresolvable placeholder fails the message.
 * Outbound: error responses (e.g. the 412 for an already existing thing) fail with their error; everything
 * else is dropped.
 */
import { parseNamespacedId } from '../../model/ids.js';
import {
  resolvePartially,
  validateTemplate,
  type CompiledTemplate,
  type PlaceholderResolvers,
} from '../../placeholders/index.js';
import { parseTopic } from '../../protocol/index.js';
import { isPlainObject } from '../../util/json-pointer.js';
import type {
  ExternalMessage,
  InboundOptions,
  MapperContext,
  MappingEngine,
  ProtocolJson,
} from '../types.js';
import {
  configInvalid,
  failure,
  inboundResolvers,
  optionFlag,
  optionObject,
  resolveFirstValue,
} from './shared.js';

const PREFIXES = ['header', 'request', 'time'];
const REQUIRED = { requireResolved: PREFIXES };

/** A JSON template: strings compiled once (keys too), everything else kept as is. */
type Template =
  | { kind: 'string'; template: CompiledTemplate }
  | { kind: 'object'; entries: Array<[Template, Template]> }
  | { kind: 'array'; items: Template[] }
  | { kind: 'literal'; value: unknown };

function compileJson(value: unknown, where: string, allowRef: boolean): Template {
  if (typeof value === 'string') {
    try {
      return {
        kind: 'string',
        template: validateTemplate(value, { allowedPrefixes: allowRef ? [...PREFIXES, 'ref'] : PREFIXES }),
      };
    } catch (error) {
      throw configInvalid(`the template at '${where}' is invalid: ${(error as Error).message}`, error);
    }
  }
  if (Array.isArray(value))
    return { kind: 'array', items: value.map((v, i) => compileJson(v, `${where}/${i}`, allowRef)) };
  if (isPlainObject(value)) {
    return {
      kind: 'object',
      entries: Object.entries(value).map(([k, v]) => [
        compileJson(k, where, false),
        compileJson(v, `${where}/${k}`, allowRef || k === '_copyPolicyFrom'),
      ]),
    };
  }
  return { kind: 'literal', value };
}

function resolveJson(template: Template, resolvers: PlaceholderResolvers): unknown {
  switch (template.kind) {
    case 'literal':
      return template.value;
    case 'array':
      return template.items.map((item) => resolveJson(item, resolvers));
    case 'string':
      return resolveString(template.template, resolvers);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of template.entries) {
        out[resolveJson(key, resolvers) as string] = resolveJson(value, resolvers);
      }
      return out;
    }
  }
}

function resolveString(template: CompiledTemplate, resolvers: PlaceholderResolvers): string {
  const result = resolvePartially(template, resolvers, REQUIRED);
  if (result.kind === 'resolved') return result.values[0];
  if (result.kind === 'deleted') return '';
  throw failure(
    undefined,
    `the placeholder <${result.placeholder}> of the thing template could not be resolved`,
  );
}

interface Options {
  thing: Template;
  commandHeaders: Array<[string, CompiledTemplate]>;
  allowPolicyLockout: boolean;
}

function readThingOption(raw: unknown): Record<string, unknown> {
  let thing = raw;
  if (typeof raw === 'string') {
    try {
      thing = JSON.parse(raw);
    } catch (error) {
      throw configInvalid(`the option 'thing' is not JSON: ${(error as Error).message}`, error);
    }
  }
  if (!isPlainObject(thing)) throw configInvalid("the option 'thing' (a JSON object) is required");
  return thing;
}

function checkId(value: unknown, option: string): void {
  if (typeof value !== 'string') throw configInvalid(`the option '${option}' must be a string`);
  if (!value.includes('{{') && !parseNamespacedId(value))
    throw configInvalid(`the option '${option}' <${value}> is not a valid ID`);
}

function readOptions(options: Record<string, unknown>): Options {
  const thing = readThingOption(options.thing);
  if (thing.thingId === undefined) throw configInvalid("the option 'thing/thingId' is required");
  checkId(thing.thingId, 'thing/thingId');
  if (thing.policyId !== undefined) checkId(thing.policyId, 'thing/policyId');
  const configured = optionObject(options, 'commandHeaders') ?? {};
  const headers: Record<string, string> = { 'if-none-match': '*' };
  for (const [k, v] of Object.entries(configured)) headers[k.toLowerCase()] = v;
  const commandHeaders = Object.entries(headers).map(([name, text]): [string, CompiledTemplate] => {
    try {
      return [name, validateTemplate(text, { allowedPrefixes: PREFIXES })];
    } catch (error) {
      throw configInvalid(`commandHeaders '${name}' is invalid: ${(error as Error).message}`, error);
    }
  });
  return {
    thing: compileJson(thing, 'thing', false),
    commandHeaders,
    allowPolicyLockout: optionFlag(options, 'allowPolicyLockout', true),
  };
}

export function implicitThingCreation(
  message: ExternalMessage,
  options: Options,
  context: MapperContext,
  inbound: InboundOptions,
): ProtocolJson[] {
  const resolvers = inboundResolvers(message, context, inbound);
  const thing = resolveJson(options.thing, resolvers) as Record<string, unknown>;
  const id = typeof thing.thingId === 'string' ? parseNamespacedId(thing.thingId) : undefined;
  if (!id)
    throw failure(
      undefined,
      `the thing ID <${String(thing.thingId)}> of the implicitly created thing is invalid`,
    );
  const headers: Record<string, unknown> = {};
  for (const [name, template] of options.commandHeaders) {
    const value = resolveFirstValue(template, resolvers);
    if (value !== undefined) headers[name] = value;
  }
  headers['allow-policy-lockout'] = options.allowPolicyLockout;
  return [
    { topic: `${id.namespace}/${id.name}/things/twin/commands/create`, headers, path: '/', value: thing },
  ];
}

/** Outbound: an error response fails with its error (ditto: rethrown), anything else is dropped. */
export function implicitThingCreationOutgoing(message: ProtocolJson): ExternalMessage[] {
  if (parseTopic(String(message.topic)).criterion !== 'errors') return [];
  const error = message.value;
  if (isPlainObject(error)) {
    throw failure(
      undefined,
      `the implicit thing creation failed with <${String(error.error)}> (${String(error.status)}): ${String(error.message)}`,
    );
  }
  return [];
}

export const implicitThingCreationEngine: MappingEngine = {
  alias: 'ImplicitThingCreation',
  configurationMandatory: true,
  validate: (options) => void readOptions(options),
  create(options, context) {
    const parsed = readOptions(options);
    return {
      mapIncoming: (message, inbound) => implicitThingCreation(message, parsed, context, inbound),
      mapOutgoing: implicitThingCreationOutgoing,
    };
  },
};
