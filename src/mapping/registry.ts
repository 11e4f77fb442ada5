/**
 * The mapper registry of one connection (ditto-interfaces.md §12.1, §11.2 inbound order, §11.4; ditto:
 * DefaultMessageMapperFactory, DefaultMessageMapperRegistry, InboundMappingProcessor,
 * OutboundMappingProcessor, WrappingMessageMapper).
 *
 * `mappingDefinitions` is `{ <id>: { mappingEngine, options?, incomingConditions?, outgoingConditions? } }`.
 * A source's or target's `payloadMapping` lists definition IDs and/or the aliases of built-in engines whose
 * configuration is optional (`Ditto`, `Normalized`, `RawMessage`, `UpdateTwinWithLiveResponse`,
 * `CloudEvents`); an ID shadows an alias of the same name. Absent or empty ⇒ `["Ditto"]`.
 *
 * Contract of mapIncoming / mapOutgoing (called by the connection runtime for every message):
 *   - every listed mapper gets the ORIGINAL message (fan-out); they run concurrently (the JavaScript engine
 *     batches concurrent calls) and the outcomes come back in the order of `payloadMapping`;
 *   - a mapper is skipped (result `[]`) when the content type is in its `content-type-blocklist` option
 *     (inbound; default: the Hono notification types for `Ditto`, `RawMessage`, `UpdateTwinWithLiveResponse`)
 *     or when any of its conditions does not resolve (ditto: `{{ fn:default('true') | <condition> }}` must
 *     resolve to a value, e.g. `fn:filter(header:x,'eq','true')`);
 *   - at most 10 mappers per list (an 11th and later yield an error entry) and at most 10 messages per mapper
 *     and message (more ⇒ that mapper's error entry);
 *   - a mapper that throws, times out or returns something invalid (inbound: not a Ditto Protocol envelope
 *     with a known topic) yields `{ mapper, error }` with `connectivity:message.mapping.failed` (the reason,
 *     and the script line for JavaScript); other mappers are unaffected. These promises never reject.
 *   - the outcomes come back as an array when every mapper answered synchronously (the built-in engines do:
 *     no promise per message), as a promise of it otherwise (JavaScript).
 *   - an ID that is neither defined nor an alias falls back to `Ditto` at runtime as in Ditto; connection
 *     validation (`validateMappingDefinitions`) rejects such IDs when the connection is saved.
 * Mappers are created once per registry (JavaScript compiles into its own isolate); `close()` releases them.
 */
import { DittoError } from '../errors/ditto-error.js';
import { messageMapperConfigInvalid, messageMappingFailed } from '../errors/mapping.js';
import {
  connectionResolver,
  featureResolver,
  headerResolver,
  namespacedIdResolver,
  PLACEHOLDER_SCOPES,
  requestResolver,
  resolveTemplate,
  resourceResolver,
  timeResolver,
  topicResolver,
  validateTemplate,
  type CompiledTemplate,
  type PlaceholderResolvers,
  type ResourceType,
} from '../placeholders/index.js';
import { parseProtocolMessage, parseTopic, type TopicPath } from '../protocol/index.js';
import { isPlainObject } from '../util/json-pointer.js';
import { builtinEngines, DEFAULT_MAPPER, type JavaScriptEngineOptions } from './builtins/index.js';
import { contentTypeOf, headerOf, mediaTypeOf, stringHeaders } from './builtins/shared.js';
import type {
  ExternalMessage,
  InboundOptions,
  MapperContext,
  MappingEngine,
  MessageMapper,
  ProtocolJson,
  IncomingOutcome,
} from './types.js';

export type {
  ExternalMessage,
  ProtocolJson,
  MapperOutcome,
  InboundOptions,
  IncomingOutcome,
} from './types.js';

/** ditto: mapping.mapper-limits — mappers per source/target and messages per mapper and message (§13). */
export const MAX_MAPPERS = 10;
export const MAX_MESSAGES_PER_MAPPER = 10;
const BLOCKLIST_OPTION = 'content-type-blocklist';

/** The outcomes themselves when every mapper answered synchronously (the built-in ones), else a promise. */
export type MaybePromise<T> = T | Promise<T>;

export interface MapperRegistry {
  /** payloadMapping: the source's list (default ['Ditto']); applies incomingConditions, limits (10 mappers, 10 messages each), fan-out (each mapper gets the original message). */
  mapIncoming(
    payloadMapping: readonly string[] | undefined,
    message: ExternalMessage,
    options?: InboundOptions,
  ): MaybePromise<Array<IncomingOutcome | { mapper: string; error: DittoError }>>;
  /** `text`: `message` as JSON text when the caller has it (an event rendered once for all its subscribers). */
  mapOutgoing(
    payloadMapping: readonly string[] | undefined,
    message: ProtocolJson,
    text?: string,
  ): MaybePromise<
    Array<{ mapper: string; result: ExternalMessage[] } | { mapper: string; error: DittoError }>
  >;
  close(): Promise<void>;
}

export interface RegistryContext {
  connectionId: string;
  /** Clock for `time:` placeholders and timestamps the mappers write; default Date.now. */
  now?: () => number;
  /** Limits of the JavaScript mappers (default Ditto's: 50 000 bytes, 500 ms, …). */
  javascript?: JavaScriptEngineOptions;
}

interface Definition {
  engine: MappingEngine;
  options: Record<string, unknown>;
  incoming: CompiledTemplate[];
  outgoing: CompiledTemplate[];
  blocklist: ReadonlySet<string>;
}

interface Entry extends Omit<Definition, 'engine' | 'options'> {
  mapper: MessageMapper;
}

const invalid = (detail: string, cause?: unknown) =>
  messageMapperConfigInvalid({ detail }, cause === undefined ? undefined : { cause });

/** ditto: AbstractMappingProcessor.resolveConditions wraps each condition in this pipeline. */
function compileCondition(id: string, kind: string, name: string, condition: unknown): CompiledTemplate {
  if (typeof condition !== 'string')
    throw invalid(`the ${kind} <${name}> of mapping <${id}> must be a string`);
  try {
    return validateTemplate(`{{ fn:default('true') | ${condition} }}`, {
      allowedPrefixes: PLACEHOLDER_SCOPES.connection,
    });
  } catch (error) {
    throw invalid(`the ${kind} <${name}> of mapping <${id}> is invalid: ${(error as Error).message}`, error);
  }
}

function compileConditions(id: string, kind: string, conditions: unknown): CompiledTemplate[] {
  if (conditions === undefined || conditions === null) return [];
  if (!isPlainObject(conditions)) throw invalid(`the ${kind} of mapping <${id}> must be a JSON object`);
  return Object.entries(conditions).map(([name, condition]) => compileCondition(id, kind, name, condition));
}

function blocklistOf(engine: MappingEngine, options: Record<string, unknown>): ReadonlySet<string> {
  const configured = options[BLOCKLIST_OPTION];
  if (configured !== undefined && typeof configured !== 'string')
    throw invalid(`the option '${BLOCKLIST_OPTION}' must be a comma-separated string`);
  const list = (configured as string | undefined) ?? engine.defaultContentTypeBlocklist ?? '';
  return new Set(
    list
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

function readDefinitions(
  definitions: unknown,
  engines: ReadonlyMap<string, MappingEngine>,
): Map<string, Definition> {
  const result = new Map<string, Definition>();
  if (definitions === undefined || definitions === null) return result;
  if (!isPlainObject(definitions))
    throw invalid('mappingDefinitions must be a JSON object of mapping contexts');
  for (const [id, raw] of Object.entries(definitions)) {
    if (id.trim() === '') throw invalid('a mapping ID must not be empty');
    if (!isPlainObject(raw)) throw invalid(`the mapping <${id}> must be a JSON object`);
    const engineName = raw.mappingEngine;
    if (typeof engineName !== 'string') throw invalid(`the mapping <${id}> has no string 'mappingEngine'`);
    const engine = engines.get(engineName);
    if (engine === undefined) {
      throw invalid(
        `the mappingEngine <${engineName}> of mapping <${id}> is unknown; use one of ${[...engines.keys()].join(', ')}`,
      );
    }
    const options = raw.options ?? {};
    if (!isPlainObject(options)) throw invalid(`the options of mapping <${id}> must be a JSON object`);
    const blocklist = blocklistOf(engine, options);
    try {
      engine.validate(options);
    } catch (error) {
      if (error instanceof DittoError)
        throw invalid(`mapping <${id}> (${engineName}): ${detailOf(error)}`, error);
      throw error;
    }
    result.set(id, {
      engine,
      options,
      blocklist,
      incoming: compileConditions(id, 'incomingConditions', raw.incomingConditions),
      outgoing: compileConditions(id, 'outgoingConditions', raw.outgoingConditions),
    });
  }
  return result;
}

function detailOf(error: DittoError): string {
  const prefix = 'The message mapper configuration is invalid: ';
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/** Aliases usable in payloadMapping without a definition (ditto: isConfigurationMandatory() == false). */
function fallbackAliases(engines: ReadonlyMap<string, MappingEngine>): string[] {
  return [...engines.values()].filter((e) => !e.configurationMandatory).map((e) => e.alias);
}

/**
 * Save-time validation (STYLE lesson 9): the definitions' shape and number (at most `maxDefinitions`:
 * each JavaScript one is a sandbox with its own heap), engines, options (JavaScript: size and syntax) and
 * conditions, and that every ID in `usedIds` (the union of all sources' and targets' payloadMapping) is a
 * definition or an alias. Throws `connectivity:message.mapper.config.invalid`.
 */
export function validateMappingDefinitions(
  definitions: unknown,
  usedIds: readonly string[],
  maxDefinitions = Infinity,
): void {
  if (isPlainObject(definitions) && Object.keys(definitions).length > maxDefinitions) {
    throw invalid(
      `there are ${Object.keys(definitions).length} mappingDefinitions, more than the limit of ${maxDefinitions}`,
    );
  }
  const engines = builtinEngines();
  const defined = readDefinitions(definitions, engines);
  const aliases = fallbackAliases(engines);
  for (const id of usedIds) {
    if (!defined.has(id) && !aliases.includes(id)) {
      throw invalid(
        `the mapper <${id}> could not be loaded; use one of the mappingDefinitions IDs [${[...defined.keys()].join(', ')}] ` +
          `or the aliases [${aliases.join(', ')}]`,
      );
    }
  }
}

/** Also checks the 10-mapper limit of one source's or target's payloadMapping (ditto: ConnectionValidator). */
export function validatePayloadMapping(
  definitions: unknown,
  payloadMapping: readonly string[],
  maxDefinitions = Infinity,
): void {
  if (payloadMapping.length > MAX_MAPPERS) {
    throw invalid(
      `a payloadMapping lists ${payloadMapping.length} mappers, more than the limit of ${MAX_MAPPERS}`,
    );
  }
  validateMappingDefinitions(definitions, payloadMapping, maxDefinitions);
}

function toMappingError(error: unknown, contentType: string | undefined): DittoError {
  if (error instanceof DittoError && error.error === messageMappingFailed.code) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return messageMappingFailed({ contentType, reason }, { cause: error });
}

function allResolve(conditions: readonly CompiledTemplate[], resolvers: PlaceholderResolvers): boolean {
  for (const condition of conditions)
    if (resolveTemplate(condition, resolvers).kind !== 'resolved') return false;
  return true;
}

const RESOURCE_TYPES: Record<string, ResourceType> = {
  things: 'thing',
  policies: 'policy',
  connections: 'connection',
};

/** Placeholders of outbound conditions (ditto: Resolvers.forOutboundSignal). */
function outboundResolvers(
  message: ProtocolJson,
  connectionId: string,
  now: () => number,
): PlaceholderResolvers {
  let topic: TopicPath | undefined;
  try {
    topic = parseTopic(String(message.topic));
  } catch {
    topic = undefined; // an unparsable topic fails in the mapper; conditions just see no topic
  }
  const path = typeof message.path === 'string' ? message.path : '/';
  const entityId =
    topic && topic.namespace !== '_' && topic.name !== '_' && topic.group !== 'connections'
      ? `${topic.namespace}:${topic.name}`
      : undefined;
  const featureId = /^\/features\/([^/]+)/.exec(path)?.[1];
  const resolvers: Record<string, PlaceholderResolvers[string]> = {
    header: headerResolver(stringHeaders(message.headers)),
    connection: connectionResolver(connectionId),
    time: timeResolver(now),
    entity: namespacedIdResolver(entityId),
    thing: namespacedIdResolver(topic?.group === 'things' ? entityId : undefined),
    policy: namespacedIdResolver(topic?.group === 'policies' ? entityId : undefined),
    feature: featureResolver(featureId),
    request: requestResolver(headerOf(message.headers, 'ditto-originator')),
  };
  if (topic) {
    resolvers.topic = topicResolver(topic);
    resolvers.resource = resourceResolver({
      type: topic.criterion === 'messages' ? 'message' : (RESOURCE_TYPES[topic.group] ?? 'thing'),
      path,
    });
  }
  return resolvers;
}

function tooMany(count: number, contentType: string | undefined): DittoError {
  return messageMappingFailed({
    contentType,
    reason: `the mapper produced ${count} messages, which exceeds the limit of ${MAX_MESSAGES_PER_MAPPER}`,
  });
}

/** A mapper's asynchronous answer (any promise-like, whichever realm made it). */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The outcomes as they are when every mapper answered synchronously, else a promise of them. */
function allOf<T>(outcomes: Array<T | Promise<T>>): T[] | Promise<T[]> {
  for (const o of outcomes) if (o instanceof Promise) return Promise.all(outcomes);
  return outcomes as T[];
}

function idsOf(payloadMapping: readonly string[] | undefined): readonly string[] {
  return payloadMapping === undefined || payloadMapping.length === 0 ? [DEFAULT_MAPPER] : payloadMapping;
}

export async function createMapperRegistry(
  definitions: Record<string, unknown> | undefined,
  context: RegistryContext,
): Promise<MapperRegistry> {
  const engines = builtinEngines({ javascript: context.javascript });
  const now = context.now ?? Date.now;
  const mapperContext: MapperContext = { connectionId: context.connectionId, now };
  const defined = readDefinitions(definitions, engines);

  const entries = new Map<string, Entry>();
  const created = await Promise.allSettled(
    [...defined].map(
      async ([id, d]) => [id, { ...d, mapper: await d.engine.create(d.options, mapperContext) }] as const,
    ),
  );
  const failed = created.find((c) => c.status === 'rejected');
  if (failed) {
    for (const c of created) if (c.status === 'fulfilled') c.value[1].mapper.close?.();
    throw failed.reason;
  }
  for (const c of created) if (c.status === 'fulfilled') entries.set(c.value[0], c.value[1]);

  const aliases = new Map<string, Entry>();
  for (const alias of fallbackAliases(engines)) {
    const engine = engines.get(alias)!;
    aliases.set(alias, {
      mapper: await engine.create({}, mapperContext),
      incoming: [],
      outgoing: [],
      blocklist: blocklistOf(engine, {}),
    });
  }
  const fallback = aliases.get(DEFAULT_MAPPER)!;
  const entryOf = (id: string) => entries.get(id) ?? aliases.get(id) ?? fallback;
  let closed = false;

  const limitError = (index: number, contentType: string | undefined) =>
    messageMappingFailed({
      contentType,
      reason: `the payloadMapping has more than ${MAX_MAPPERS} mappers; mapper number ${index + 1} was not applied`,
    });

  type Incoming = IncomingOutcome | { mapper: string; error: DittoError };
  type Outgoing = { mapper: string; result: ExternalMessage[] } | { mapper: string; error: DittoError };

  /** Synchronous when the mapper answers synchronously (the built-in ones), so most messages take no promise. */
  function runIncoming(
    id: string,
    entry: Entry,
    message: ExternalMessage,
    options: InboundOptions,
    contentType: string | undefined,
  ): Incoming | Promise<Incoming> {
    if (
      contentType !== undefined &&
      entry.blocklist.size > 0 &&
      entry.blocklist.has(mediaTypeOf(contentType))
    )
      return { mapper: id, result: [], messages: [] };
    if (entry.incoming.length > 0) {
      const resolvers: PlaceholderResolvers = {
        header: headerResolver(message.headers),
        connection: connectionResolver(context.connectionId),
        time: timeResolver(now),
        request: requestResolver(options.authorizationSubject),
      };
      if (!allResolve(entry.incoming, resolvers)) return { mapper: id, result: [], messages: [] };
    }
    const failed = (error: unknown): Incoming => ({ mapper: id, error: toMappingError(error, contentType) });
    const parsed = (result: ProtocolJson[]): Incoming => {
      try {
        if (result.length > MAX_MESSAGES_PER_MAPPER) throw tooMany(result.length, contentType);
        const messages = result.map((json) => parseProtocolMessage(json)); // envelope + topic (§4.1, §4.2)
        return { mapper: id, result, messages };
      } catch (error) {
        return failed(error);
      }
    };
    let result: ProtocolJson[] | Promise<ProtocolJson[]>;
    try {
      result = entry.mapper.mapIncoming ? entry.mapper.mapIncoming(message, options) : [];
    } catch (error) {
      return failed(error);
    }
    return isThenable(result) ? Promise.resolve(result).then(parsed, failed) : parsed(result);
  }

  function runOutgoing(
    id: string,
    entry: Entry,
    message: ProtocolJson,
    text: string | undefined,
  ): Outgoing | Promise<Outgoing> {
    if (
      entry.outgoing.length > 0 &&
      !allResolve(entry.outgoing, outboundResolvers(message, context.connectionId, now))
    ) {
      return { mapper: id, result: [] };
    }
    const failed = (error: unknown): Outgoing => ({
      mapper: id,
      error: toMappingError(error, headerOf(message.headers, 'content-type')),
    });
    const checked = (result: ExternalMessage[]): Outgoing =>
      result.length > MAX_MESSAGES_PER_MAPPER
        ? failed(tooMany(result.length, headerOf(message.headers, 'content-type')))
        : { mapper: id, result };
    let result: ExternalMessage[] | Promise<ExternalMessage[]>;
    try {
      result = entry.mapper.mapOutgoing ? entry.mapper.mapOutgoing(message, text) : [];
    } catch (error) {
      return failed(error);
    }
    return isThenable(result) ? Promise.resolve(result).then(checked, failed) : checked(result);
  }

  return {
    mapIncoming(payloadMapping, message, options = {}) {
      const contentType = contentTypeOf(message);
      return allOf(
        idsOf(payloadMapping).map((id, i) =>
          i >= MAX_MAPPERS
            ? { mapper: id, error: limitError(i, contentType) }
            : runIncoming(id, entryOf(id), message, options, contentType),
        ),
      );
    },
    mapOutgoing(payloadMapping, message, text) {
      return allOf(
        idsOf(payloadMapping).map((id, i) =>
          i >= MAX_MAPPERS
            ? { mapper: id, error: limitError(i, headerOf(message.headers, 'content-type')) }
            : runOutgoing(id, entryOf(id), message, text),
        ),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const entry of entries.values()) entry.mapper.close?.();
    },
  };
}
