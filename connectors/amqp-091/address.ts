/**
 * AMQP 0.9.1 target addresses and message properties (ditto-interfaces.md §11.6, §14.13).
 *
 * A target address is `exchange/routingKey` with exactly one `/` in the configured template; `/rk` publishes
 * to the default exchange (routing key = queue name). Placeholders are resolved by the runtime; the resolved
 * address is split at its first `/`.
 */
import type { ConsumeMessage, Options } from 'amqplib';

const OCTET_STREAM = 'application/octet-stream';

/** Splits a resolved target address; undefined when it has no `/`. */
export function splitTargetAddress(address: string): { exchange: string; routingKey: string } | undefined {
  const slash = address.indexOf('/');
  if (slash < 0) return undefined;
  return { exchange: address.slice(0, slash), routingKey: address.slice(slash + 1) };
}

/** The number of `/` outside `{{ … }}` placeholders of an address template (must be exactly 1). */
export function literalSlashes(template: string): number {
  return (template.replace(/\{\{[^}]*\}\}/g, '').match(/\//g) ?? []).length;
}

/**
 * Inbound: the headers table plus `content-type`, `correlation-id` and `reply-to` from the basic
 * properties (names lower-cased, values as strings; a property wins over a table entry of the same name).
 */
export function headersOf(message: ConsumeMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const p = message.properties;
  for (const [k, v] of Object.entries((p.headers ?? {}) as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    headers[k.toLowerCase()] = Buffer.isBuffer(v)
      ? v.toString('utf8')
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
  }
  if (p.contentType) headers['content-type'] = String(p.contentType);
  if (p.correlationId) headers['correlation-id'] = String(p.correlationId);
  if (p.replyTo) headers['reply-to'] = String(p.replyTo);
  return headers;
}

/**
 * Whether the mappers get the body as text too (ditto: RabbitMQConsumerActor — bytes only when the content
 * type starts with `application/octet-stream`; otherwise text in the content type's charset, and bytes).
 */
export function textForm(contentType: string | undefined): 'charset' | undefined {
  return contentType?.startsWith(OCTET_STREAM) ? undefined : 'charset';
}

/**
 * Outbound: `content-type` and `correlation-id` become the basic properties of the same name, every other
 * header goes to the headers table. Messages are persistent (delivery mode 2).
 */
export function publishOptions(
  headers: Record<string, string>,
  contentType: string | undefined,
): Options.Publish {
  const table: Record<string, string> = {};
  const options: Options.Publish = { persistent: true, headers: table };
  for (const [k, v] of Object.entries(headers)) {
    if (k === 'content-type') options.contentType = v;
    else if (k === 'correlation-id') options.correlationId = v;
    else table[k] = v;
  }
  if (options.contentType === undefined && contentType !== undefined) options.contentType = contentType;
  return options;
}
