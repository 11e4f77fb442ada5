/**
 * `ConnectionStatus` (ditto-interfaces.md §12.1; ditto: ConnectionStatusMessageMapper), inbound only, for
 * Eclipse Hono device notifications: the headers `creation-time` (epoch ms) and `ttd` (seconds until
 * disconnect; -1 = unlimited, 0 = disconnected) become a twin command on the feature `featureId`
 * (default `ConnectionStatus`) of the thing `thingId` (required; `{{ header:… }}` placeholders allowed):
 *   - ttd > 0:  modify feature `{definition:["org.eclipse.ditto:ConnectionStatus:1.0.0"],
 *               properties:{status:{readySince: creation-time, readyUntil: creation-time + ttd s}}}`
 *   - ttd = -1: the same with readyUntil `9999-12-31T23:59:59Z`
 *   - ttd = 0:  modify the property `status/readyUntil` = creation-time
 * Commands carry `response-required: false` and no requested acks. As in Ditto, a message the mapper cannot
 * use (missing/invalid headers, unresolvable or invalid thing ID) is dropped, not failed: the mapper runs
 * next to another one (`["Ditto", "status"]`) on every message.
 */
import { parseNamespacedId } from '../../model/ids.js';
import {
  formatInstant,
  headerResolver,
  validateTemplate,
  type CompiledTemplate,
  type PlaceholderResolvers,
} from '../../placeholders/index.js';
import { findHeader } from '../payload.js';
import type { ExternalMessage, MappingEngine, ProtocolJson } from '../types.js';
import { configInvalid, optionText, resolveFirstValue } from './shared.js';

export const CONNECTION_STATUS_DEFINITION = 'org.eclipse.ditto:ConnectionStatus:1.0.0';
const DEFAULT_FEATURE_ID = 'ConnectionStatus';
// ditto: DISTANT_FUTURE_INSTANT, epoch second 253402300799 = 9999-12-31T23:59:59Z
const DISTANT_FUTURE_MS = 253_402_300_799_000;

interface Options {
  thingId: CompiledTemplate;
  featureId: CompiledTemplate;
}

function template(text: string, option: string): CompiledTemplate {
  try {
    return validateTemplate(text, { allowedPrefixes: ['header'] });
  } catch (error) {
    throw configInvalid(`the option '${option}' is invalid: ${(error as Error).message}`, error);
  }
}

function readOptions(options: Record<string, unknown>): Options {
  const thingId = optionText(options, 'thingId');
  if (thingId === undefined) throw configInvalid("the option 'thingId' is required");
  const compiled = template(thingId, 'thingId');
  if (compiled.placeholders.length === 0 && !parseNamespacedId(thingId)) {
    throw configInvalid(`the option 'thingId' <${thingId}> is not a valid thing ID`);
  }
  return {
    thingId: compiled,
    featureId: template(optionText(options, 'featureId') ?? DEFAULT_FEATURE_ID, 'featureId'),
  };
}

/** A header as a Java long, or undefined when missing or not an integer. */
function longHeader(headers: Record<string, string>, name: string): number | undefined {
  const text = findHeader(headers, name);
  return text !== undefined && /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

export function connectionStatus(message: ExternalMessage, options: Options): ProtocolJson[] {
  const resolvers: PlaceholderResolvers = { header: headerResolver(message.headers) };
  const thingId = resolveFirstValue(options.thingId, resolvers);
  const featureId = resolveFirstValue(options.featureId, resolvers);
  const id = thingId === undefined ? undefined : parseNamespacedId(thingId);
  const creationTime = longHeader(message.headers, 'creation-time');
  const ttd = longHeader(message.headers, 'ttd');
  if (!id || !featureId || creationTime === undefined || ttd === undefined || creationTime < 0 || ttd < -1) {
    return []; // ditto: errors of this mapper are logged and the message is dropped
  }
  const headers: Record<string, unknown> = {};
  const correlationId = findHeader(message.headers, 'correlation-id');
  if (correlationId !== undefined) headers['correlation-id'] = correlationId;
  headers['response-required'] = false;
  headers['requested-acks'] = [];
  const topic = `${id.namespace}/${id.name}/things/twin/commands/modify`;
  const feature = featureId.replace(/~/g, '~0').replace(/\//g, '~1');
  if (ttd === 0) {
    return [
      {
        topic,
        headers,
        path: `/features/${feature}/properties/status/readyUntil`,
        value: formatInstant(creationTime),
      },
    ];
  }
  const readyUntil = ttd === -1 ? DISTANT_FUTURE_MS : creationTime + ttd * 1000;
  const value = {
    definition: [CONNECTION_STATUS_DEFINITION],
    properties: {
      status: { readySince: formatInstant(creationTime), readyUntil: formatInstant(readyUntil) },
    },
  };
  return [{ topic, headers, path: `/features/${feature}`, value }];
}

export const connectionStatusEngine: MappingEngine = {
  alias: 'ConnectionStatus',
  configurationMandatory: true,
  validate: (options) => void readOptions(options),
  create(options) {
    const parsed = readOptions(options);
    return { mapIncoming: (message) => connectionStatus(message, parsed) };
  },
};
