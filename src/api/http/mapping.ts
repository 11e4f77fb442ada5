/**
 * Trying a payload mapping without a broker (beyond Ditto; ditto-interfaces.md §12, §15):
 *
 *   POST /api/2/mappings/try        devops users only (realm `devops`, like connection management §2.9)
 *   { "mappingDefinitions"?: {…}, "payloadMapping"?: ["…"], "direction": "incoming" | "outgoing",
 *     "message": { "headers"?: {…}, "contentType"?: "…", "textPayload"?: "…" | "bytePayload"?: "<base64>"
 *                  | "protocolMessage"?: {Ditto Protocol JSON, outgoing only} } }
 *   200 { "direction", "results": [ { "mapper", "messages": [...] } | { "mapper", "error": {Ditto error JSON} } ] }
 *
 * The mappers see the message's payload in one form, chosen by its content type as for all HTTP input
 * (src/mapping/payload.ts `byContentType`): text types as `textPayload`, others as `bytePayload`.
 * The definitions are validated exactly as when a connection is saved (including their number) and those
 * that `payloadMapping` uses are compiled into a registry that lives for this request only (a JavaScript
 * mapper is a sandbox with a heap of its own, so unused definitions are not created). At most
 * `concurrency` requests run at once; one more is 429 `too.many.requests`. Incoming results are Ditto
 * Protocol JSON, each also converted to its signal (a conversion error becomes that mapper's error, as in
 * Ditto's inbound processor); outgoing results are
 * `{ headers, contentType?, textPayload? | bytePayload? (base64) }`. A broken script yields the mapper's
 * `connectivity:message.mapping.failed` error with the script line in its message. A bad request (not JSON,
 * wrong field types, invalid definitions) is a 400 with Ditto's error JSON.
 *
 * The path is outside `/api/2/connections/…` so it can never collide with a connection ID route.
 */
import type { FastifyInstance } from 'fastify';
import { DittoError } from '../../errors/ditto-error.js';
import {
  jsonFieldMissing,
  jsonFormatInvalid,
  mediaTypeUnsupported,
  tooManyRequests,
} from '../../errors/general.js';
import { messageMappingFailed } from '../../errors/mapping.js';
import type { ExternalMessage, ProtocolJson } from '../../mapping/types.js';
import { byContentType } from '../../mapping/payload.js';
import { createMapperRegistry, validatePayloadMapping } from '../../mapping/registry.js';
import { parseProtocolMessage, renderProtocolMessage, toSignal } from '../../protocol/index.js';
import { isPlainObject } from '../../util/json-pointer.js';
import { parseJson } from '../../util/json-parse.js';

export const TRY_MAPPING_PATH = '/api/2/mappings/try';
const TRY_CONNECTION_ID = 'mapping-try';

interface TryRequest {
  mappingDefinitions?: Record<string, unknown>;
  payloadMapping?: string[];
  direction: 'incoming' | 'outgoing';
  message: Record<string, unknown>;
}

const wrongType = (field: string, type: string) =>
  jsonFormatInvalid({ detail: `The field '${field}' must be ${type}.` });

function parseBody(body: unknown, contentType: string | undefined): TryRequest {
  if (contentType === undefined || !/^application\/json\b/i.test(contentType.trim())) {
    throw mediaTypeUnsupported({ contentType: contentType ?? '', allowed: ['application/json'] });
  }
  const json = parseJson(Buffer.isBuffer(body) ? body.toString('utf8') : String(body ?? ''));
  if (!isPlainObject(json)) throw jsonFormatInvalid({ detail: 'The request body must be a JSON object.' });
  if (json.direction === undefined) throw jsonFieldMissing({ field: 'direction' });
  if (json.direction !== 'incoming' && json.direction !== 'outgoing')
    throw wrongType('direction', "'incoming' or 'outgoing'");
  if (json.message === undefined) throw jsonFieldMissing({ field: 'message' });
  if (!isPlainObject(json.message)) throw wrongType('message', 'a JSON object');
  if (json.mappingDefinitions !== undefined && !isPlainObject(json.mappingDefinitions))
    throw wrongType('mappingDefinitions', 'a JSON object');
  const mapping = json.payloadMapping;
  if (mapping !== undefined && (!Array.isArray(mapping) || !mapping.every((m) => typeof m === 'string'))) {
    throw wrongType('payloadMapping', 'an array of strings');
  }
  return json as unknown as TryRequest;
}

/** The definitions that `payloadMapping` names (the others are validated but never instantiated). */
function usedDefinitions(
  definitions: Record<string, unknown> | undefined,
  payloadMapping: readonly string[],
): Record<string, unknown> | undefined {
  if (definitions === undefined) return undefined;
  return Object.fromEntries(Object.entries(definitions).filter(([id]) => payloadMapping.includes(id)));
}

function externalMessage(message: Record<string, unknown>): ExternalMessage {
  const headers = message.headers ?? {};
  if (!isPlainObject(headers) || !Object.values(headers).every((v) => typeof v === 'string')) {
    throw wrongType('message/headers', 'a JSON object of strings');
  }
  const external: ExternalMessage = { headers: headers as Record<string, string> };
  if (message.contentType !== undefined) {
    if (typeof message.contentType !== 'string') throw wrongType('message/contentType', 'a string');
    external.contentType = message.contentType;
  }
  if (message.textPayload !== undefined && message.bytePayload !== undefined) {
    throw jsonFormatInvalid({
      detail: "Give either 'message/textPayload' or 'message/bytePayload', not both.",
    });
  }
  if (message.textPayload !== undefined) {
    if (typeof message.textPayload !== 'string') throw wrongType('message/textPayload', 'a string');
    external.textPayload = message.textPayload;
  }
  if (message.bytePayload !== undefined) {
    if (typeof message.bytePayload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(message.bytePayload)) {
      throw wrongType('message/bytePayload', 'a base64 string');
    }
    external.bytePayload = new Uint8Array(Buffer.from(message.bytePayload, 'base64'));
  }
  return external;
}

function protocolMessage(message: Record<string, unknown>): ProtocolJson {
  if (message.protocolMessage === undefined) throw jsonFieldMissing({ field: 'message/protocolMessage' });
  // Checked and rendered in its canonical form, as the connection runtime hands it to the mappers.
  return renderProtocolMessage(parseProtocolMessage(message.protocolMessage)) as unknown as ProtocolJson;
}

function renderExternal(message: ExternalMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { headers: message.headers };
  if (message.contentType !== undefined) out.contentType = message.contentType;
  if (message.textPayload !== undefined) out.textPayload = message.textPayload;
  if (message.bytePayload !== undefined)
    out.bytePayload = Buffer.from(message.bytePayload).toString('base64');
  return out;
}

/** Ditto's inbound processor converts each mapped message to a signal; a failure is the mapper's error. */
function checkSignals(messages: ProtocolJson[], contentType: string | undefined): DittoError | undefined {
  for (const json of messages) {
    try {
      toSignal(parseProtocolMessage(json));
    } catch (error) {
      if (!(error instanceof DittoError)) throw error;
      return messageMappingFailed({ contentType, reason: error.message }, { cause: error });
    }
  }
  return undefined;
}

export interface MappingRoutesOptions {
  /** Largest number of mappingDefinitions (TWINBRIDGE_MAPPING_MAX_DEFINITIONS). */
  maxDefinitions: number;
  /** Requests processed at once (TWINBRIDGE_MAPPING_TRY_CONCURRENCY). */
  concurrency: number;
}

export async function mappingRoutes(app: FastifyInstance, options: MappingRoutesOptions): Promise<void> {
  let running = 0;
  app.post(TRY_MAPPING_PATH, { config: { realm: 'devops' } }, async (request, reply) => {
    const body = parseBody(request.body, request.headers['content-type']);
    const payloadMapping = body.payloadMapping ?? [];
    validatePayloadMapping(body.mappingDefinitions, payloadMapping, options.maxDefinitions);
    const input =
      body.direction === 'incoming' ? externalMessage(body.message) : protocolMessage(body.message);
    if (running >= options.concurrency) {
      throw tooManyRequests(undefined, {
        description: `At most ${options.concurrency} mapping tries run at once; try again when one has finished.`,
      });
    }
    running++;
    let registry: Awaited<ReturnType<typeof createMapperRegistry>>;
    try {
      registry = await createMapperRegistry(usedDefinitions(body.mappingDefinitions, payloadMapping), {
        connectionId: TRY_CONNECTION_ID,
      });
    } catch (err) {
      running--;
      throw err;
    }
    try {
      let results: Array<Record<string, unknown>>;
      if (body.direction === 'incoming') {
        const external = byContentType(input as ExternalMessage);
        const outcomes = await registry.mapIncoming(payloadMapping, external);
        results = outcomes.map((o) => {
          const error =
            'error' in o
              ? o.error
              : checkSignals(o.result, external.contentType ?? external.headers['content-type']);
          return error
            ? { mapper: o.mapper, error: error.toJSON() }
            : { mapper: o.mapper, messages: 'result' in o ? o.result : [] };
        });
      } else {
        const outcomes = await registry.mapOutgoing(payloadMapping, input as ProtocolJson);
        results = outcomes.map((o) =>
          'error' in o
            ? { mapper: o.mapper, error: o.error.toJSON() }
            : { mapper: o.mapper, messages: o.result.map(renderExternal) },
        );
      }
      return reply.code(200).type('application/json').send({ direction: body.direction, results });
    } finally {
      try {
        await registry.close();
      } finally {
        running--;
      }
    }
  });
}
