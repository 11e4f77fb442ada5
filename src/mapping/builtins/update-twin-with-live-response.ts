/**
 * `UpdateTwinWithLiveResponse` (ditto-interfaces.md §12.1, §10; ditto: UpdateTwinWithLiveResponseMessageMapper),
 * inbound: a live `retrieve` response of a thing (Ditto Protocol JSON with a `status`, e.g. a device
 * answering a live query) becomes a twin `merge` of the returned value at the response's path, so the twin
 * learns what the device reported. Headers: the option `dittoHeadersForMerge` (templates with `header:`,
 * `request:`, `time:`; an unresolvable value is kept as written, as in Ditto; default
 * `{"response-required": false, "if-match": "*"}`) plus `correlation-id` = the response's correlation ID
 * (a new UUID when absent) + `-merge-into-twin`. Any other message, or a payload that is not Ditto
 * Protocol, is dropped. Outbound: nothing.
 */
import { randomUUID } from 'node:crypto';
import { resolvePartially, validateTemplate, type CompiledTemplate } from '../../placeholders/index.js';
import { isDittoError } from '../../errors/ditto-error.js';
import { parseProtocolMessage, toThingCommandResponse } from '../../protocol/index.js';
import type {
  ExternalMessage,
  InboundOptions,
  MapperContext,
  MappingEngine,
  ProtocolJson,
} from '../types.js';
import { DITTO_CONTENT_TYPE_BLOCKLIST } from './ditto.js';
import { configInvalid, headerOf, inboundResolvers, optionObject, payloadText } from './shared.js';
import { parseJson } from '../../util/json-parse.js';

export const CORRELATION_ID_SUFFIX = '-merge-into-twin';
const DEFAULT_HEADERS: Readonly<Record<string, unknown>> = { 'response-required': false, 'if-match': '*' };

type HeaderTemplate = [string, { template: CompiledTemplate } | { json: unknown }];

function readOptions(options: Record<string, unknown>): HeaderTemplate[] {
  const raw = options.dittoHeadersForMerge;
  const headers =
    raw === undefined || raw === null
      ? DEFAULT_HEADERS
      : (optionObject(options, 'dittoHeadersForMerge') ?? {});
  return Object.entries(headers).map(([name, value]): HeaderTemplate => {
    if (typeof value !== 'string') return [name.toLowerCase(), { json: value }];
    try {
      return [
        name.toLowerCase(),
        { template: validateTemplate(value, { allowedPrefixes: ['header', 'request', 'time'] }) },
      ];
    } catch (error) {
      throw configInvalid(`dittoHeadersForMerge '${name}' is invalid: ${(error as Error).message}`, error);
    }
  });
}

/** The configured value as JSON: templates resolved (kept as written when unresolvable), JSON values kept. */
function headerValue(value: HeaderTemplate[1], resolvers: ReturnType<typeof inboundResolvers>): unknown {
  if ('json' in value) return value.json;
  const { template } = value;
  const result = resolvePartially(template, resolvers);
  const text = result.kind === 'resolved' ? result.values[0] : template.text;
  // Non-string JSON written as text in the options (e.g. put-metadata) goes back to JSON.
  if (/^[[{]/.test(text.trim())) {
    try {
      return parseJson(text) as unknown;
    } catch {
      return text; // not JSON after all: a plain string header
    }
  }
  return text;
}

export function updateTwinWithLiveResponse(
  message: ExternalMessage,
  headerTemplates: HeaderTemplate[],
  context: MapperContext,
  inbound: InboundOptions,
): ProtocolJson[] {
  let json: ProtocolJson;
  let response;
  try {
    json = parseJson(payloadText(message)) as ProtocolJson;
    const parsed = parseProtocolMessage(json);
    const { topic } = parsed;
    const isLiveRetrieveResponse =
      parsed.status !== undefined &&
      topic.group === 'things' &&
      topic.channel === 'live' &&
      topic.criterion === 'commands' &&
      topic.action === 'retrieve' &&
      topic.name !== '_';
    if (!isLiveRetrieveResponse) return [];
    response = toThingCommandResponse(parsed);
  } catch (error) {
    // ditto: a payload that is not a Ditto Protocol response is dropped (logged at debug level)
    if (isDittoError(error)) return [];
    throw error;
  }
  if (response.value === undefined) return [];
  const resolvers = inboundResolvers(message, context, inbound);
  const headers: Record<string, unknown> = {};
  for (const [name, value] of headerTemplates) headers[name] = headerValue(value, resolvers);
  const correlationId = headerOf(json.headers, 'correlation-id') ?? randomUUID();
  headers['correlation-id'] = correlationId + CORRELATION_ID_SUFFIX;
  const colon = response.thingId.indexOf(':');
  return [
    {
      topic: `${response.thingId.slice(0, colon)}/${response.thingId.slice(colon + 1)}/things/twin/commands/merge`,
      headers,
      path: response.path,
      value: response.value,
    },
  ];
}

export const updateTwinWithLiveResponseEngine: MappingEngine = {
  alias: 'UpdateTwinWithLiveResponse',
  configurationMandatory: false,
  defaultContentTypeBlocklist: DITTO_CONTENT_TYPE_BLOCKLIST,
  validate: (options) => void readOptions(options),
  create(options, context) {
    const templates = readOptions(options);
    return {
      mapIncoming: (message, inbound) => updateTwinWithLiveResponse(message, templates, context, inbound),
    };
  },
};
