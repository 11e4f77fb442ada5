/**
 * Helpers shared by the built-in mappers (ditto-interfaces.md §12.1): payload text, content-type classes,
 * Ditto Protocol parsing, option reading and template resolution. Pure functions.
 */
import type { DittoError } from '../../errors/ditto-error.js';
import { messageMapperConfigInvalid, messageMappingFailed } from '../../errors/mapping.js';
import {
  compileTemplate,
  headerResolver,
  requestResolver,
  resolveTemplate,
  timeResolver,
  type CompiledTemplate,
  type PlaceholderResolvers,
} from '../../placeholders/index.js';
import { parseProtocolMessage } from '../../protocol/index.js';
import { isPlainObject } from '../../util/json-pointer.js';
import { charsetOf, decodeText, findHeader } from '../payload.js';
import type { ExternalMessage, InboundOptions, MapperContext, ProtocolJson } from '../types.js';
import { parseJson } from '../../util/json-parse.js';

export { DITTO_PROTOCOL_CONTENT_TYPE } from '../../protocol/index.js';

/** The content type of an external message: `contentType`, else its `content-type` header. */
export function contentTypeOf(message: ExternalMessage): string | undefined {
  return message.contentType ?? findHeader(message.headers, 'content-type');
}

/** The media type without parameters, lower case. */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

export type PayloadClass = 'text' | 'json' | 'merge-patch' | 'binary';

// ditto: ContentType — text/*, application/[vnd.…+]javascript|ecmascript are text; application/[…+]json is
// JSON; application/merge-patch+json is its own class (and therefore NOT text for the RawMessage mapper).
const TEXT = /^(text\/.*)|(application\/((vnd\.)?.+\+)?(javascript|ecmascript))$/;
const JSON_TYPE = /^application\/((vnd\.)?.+\+)?json$/;

export function payloadClass(contentType: string): PayloadClass {
  const type = mediaTypeOf(contentType);
  if (type === 'application/merge-patch+json') return 'merge-patch';
  if (TEXT.test(type)) return 'text';
  if (JSON_TYPE.test(type)) return 'json';
  return 'binary';
}

export function failure(contentType: string | undefined, reason: string, cause?: unknown): DittoError {
  return messageMappingFailed({ contentType, reason }, cause === undefined ? undefined : { cause });
}

/**
 * The payload as text (ditto: AbstractMessageMapper.extractPayloadAsString): the text payload, else the
 * bytes decoded with the content type's charset (default UTF-8). Absent or empty payload ⇒
 * `connectivity:message.mapping.failed`.
 */
export function payloadText(message: ExternalMessage): string {
  let text = message.textPayload;
  if (text === undefined && message.bytePayload !== undefined)
    text = decodeText(message.bytePayload, charsetOf(contentTypeOf(message)));
  if (text === undefined || text === '') {
    throw failure(
      contentTypeOf(message),
      'As payload was absent or empty, please make sure to send payload in your messages.',
    );
  }
  return text;
}

/**
 * Parses Ditto Protocol JSON text and checks its envelope and topic (§4.1, §4.2). Returns the JSON object
 * as sent, with `headers` defaulted to `{}`. Throws the adapter's DittoError (json.invalid, unknown topic…).
 */
export function readProtocolJson(text: string): ProtocolJson {
  const json = parseJson(text);
  parseProtocolMessage(json);
  const message = json as ProtocolJson;
  if (message.headers === undefined) message.headers = {};
  return message;
}

/** Protocol headers as strings (strings unchanged, other JSON as JSON text; ditto: DittoHeaders values). */
export function stringHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isPlainObject(headers)) return out;
  for (const [k, v] of Object.entries(headers))
    out[k.toLowerCase()] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** Header value, case-insensitive. */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (!isPlainObject(headers)) return undefined;
  const value = findHeader(headers as Record<string, string>, name);
  return value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
}

/** ditto: MessageMapperConfiguration.findProperty — a string option as is, other JSON as JSON text. */
export function optionText(options: Record<string, unknown>, key: string): string | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** ditto: Boolean.parseBoolean of the option text; `fallback` when absent. */
export function optionFlag(options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const text = optionText(options, key);
  return text === undefined ? fallback : text.trim().toLowerCase() === 'true';
}

/** An option that must be a JSON object of strings (header templates); absent ⇒ undefined. */
export function optionObject(
  options: Record<string, unknown>,
  key: string,
): Record<string, string> | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw configInvalid(`the option '${key}' must be a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

export function configInvalid(detail: string, cause?: unknown): DittoError {
  return messageMapperConfigInvalid({ detail }, cause === undefined ? undefined : { cause });
}

/** Compiles a template at configuration time; syntax problems are configuration errors. */
export function compileOption(text: string, option: string): CompiledTemplate {
  try {
    return compileTemplate(text);
  } catch (error) {
    throw configInvalid(`the option '${option}' is not a valid template: ${(error as Error).message}`, error);
  }
}

/** The placeholders of templates applied to inbound messages: `header:`, `time:`, `request:subjectId`. */
export function inboundResolvers(
  message: ExternalMessage,
  context: MapperContext,
  options: InboundOptions,
): PlaceholderResolvers {
  return {
    header: headerResolver(message.headers),
    time: timeResolver(context.now),
    request: requestResolver(options.authorizationSubject),
  };
}

/** The first resolved value, or undefined when unresolved or deleted. */
export function resolveFirstValue(
  template: CompiledTemplate,
  resolvers: PlaceholderResolvers,
): string | undefined {
  const result = resolveTemplate(template, resolvers);
  return result.kind === 'resolved' ? result.values[0] : undefined;
}
