/**
 * Builders of PlaceholderResolvers from plain inputs, one per prefix of ditto-interfaces.md §11.5 (and §1.2
 * for `request`/`ref`, §8 for `jwt`). A caller assembles the ones that apply to the signal at hand, e.g.
 *   { thing: thingResolver(thingId), header: headerResolver(headers), topic: topicResolver(topic),
 *     time: timeResolver() }
 * A resolver returns undefined for a value that is missing; the template is then "unresolved".
 */
import type { PlaceholderResolver, PlaceholderValue } from './types.js';

export const ID_NAMES = ['id', 'namespace', 'name'] as const;

/** `id|namespace|name` of a namespaced ID, split at the first colon (§1.1); everything undefined when the
 * signal has no such entity. Used for `entity:`, `thing:` and `policy:`. */
export function namespacedIdResolver(id: string | undefined): PlaceholderResolver {
  if (id === undefined) return () => undefined;
  const colon = id.indexOf(':');
  const namespace = colon < 0 ? undefined : id.slice(0, colon);
  const name = colon < 0 ? undefined : id.slice(colon + 1);
  return (n) => (n === 'id' ? id : n === 'namespace' ? namespace : n === 'name' ? name : undefined);
}

/** `entity:id|namespace|name`: the thing or policy the signal is about. */
export const entityResolver = namespacedIdResolver;
/** `thing:id|namespace|name`: only for signals about a thing. */
export const thingResolver = namespacedIdResolver;
/** `policy:id|namespace|name`: only for signals about a policy. */
export const policyResolver = namespacedIdResolver;

function single(expected: string, value: string | undefined): PlaceholderResolver {
  return (name) => (name === expected ? value : undefined);
}

/** `feature:id` (only when the signal concerns a feature). */
export const featureResolver = (featureId: string | undefined): PlaceholderResolver =>
  single('id', featureId);
/** `connection:id`. */
export const connectionResolver = (connectionId: string): PlaceholderResolver => single('id', connectionId);
/** `request:subjectId`: the first authorization subject of the command (§1.2, §11.5). */
export const requestResolver = (subjectId: string | undefined): PlaceholderResolver =>
  single('subjectId', subjectId);
/** `source:address`: the address a message was consumed from (MQTT: its topic), for enforcement (§11.2). */
export const sourceResolver = (address: string): PlaceholderResolver => single('address', address);
/** `policy-entry:label` in policy actions (§7.5). */
export const policyEntryResolver = (label: string): PlaceholderResolver => single('label', label);

// ---------------------------------------------------------------------------------------------------------

/** A parsed Ditto Protocol topic (§4.2; structurally compatible with protocol/topic.ts TopicPath).
 * `action` is the command/event action or announcement name, `subject` the message subject (live messages),
 * `label` the label of a single acknowledgement, which Ditto treats as the topic's subject
 * (ImmutableTopicPath.label). `channel` is absent for policies and connections. */
export interface TopicPathParts {
  readonly namespace: string;
  readonly name: string;
  readonly group: string;
  readonly channel?: string;
  readonly criterion: string;
  readonly action?: string;
  readonly subject?: string;
  readonly label?: string;
}

export const TOPIC_NAMES = [
  'full',
  'namespace',
  'entityName',
  'group',
  'channel',
  'criterion',
  'action',
  'subject',
  'action-subject',
] as const;

/** `{namespace}/{name}/{group}[/{channel}]/{criterion}[/{action|subject}]`. */
export function topicFull(t: TopicPathParts): string {
  const channel = t.channel === undefined ? '' : `/${t.channel}`;
  const tail = t.subject ?? t.label ?? t.action;
  return `${t.namespace}/${t.name}/${t.group}${channel}/${t.criterion}${tail === undefined ? '' : `/${tail}`}`;
}

/** `topic:full|namespace|entityName|group|channel|criterion|action|subject|action-subject`
 * (ditto: ImmutableTopicPathPlaceholder). Without a channel, `topic:channel` is `none` as in Ditto. */
export function topicResolver(topic: TopicPathParts): PlaceholderResolver {
  let full: string | undefined;
  const subject = topic.subject ?? topic.label;
  return (name) => {
    switch (name) {
      case 'full':
        return (full ??= topicFull(topic));
      case 'namespace':
        return topic.namespace;
      case 'entityName':
        return topic.name;
      case 'group':
        return topic.group;
      case 'channel':
        return topic.channel ?? 'none';
      case 'criterion':
        return topic.criterion;
      case 'action':
        return topic.action;
      case 'subject':
        return subject;
      case 'action-subject':
        return subject ?? topic.action;
      default:
        return undefined;
    }
  };
}

export type ResourceType = 'thing' | 'policy' | 'message' | 'connection';

/** `resource:type` (`thing|policy|message|connection`) and `resource:path` (the Ditto Protocol path). */
export function resourceResolver(resource: { type: ResourceType; path: string }): PlaceholderResolver {
  return (name) => (name === 'type' ? resource.type : name === 'path' ? resource.path : undefined);
}

// ---------------------------------------------------------------------------------------------------------

export type HeaderSource = Readonly<Record<string, string | undefined>> | ReadonlyMap<string, string>;

/** `header:<name>`, case-insensitive (§11.5): inbound the protocol headers, outbound the Ditto headers. */
export function headerResolver(headers: HeaderSource): PlaceholderResolver {
  if (headers instanceof Map) {
    return (name) => {
      const exact = headers.get(name);
      if (exact !== undefined) return exact;
      const lower = name.toLowerCase();
      for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
      return undefined;
    };
  }
  const record = headers as Readonly<Record<string, string | undefined>>;
  return (name) => {
    if (Object.prototype.hasOwnProperty.call(record, name)) return record[name];
    const lower = name.toLowerCase();
    for (const k of Object.keys(record)) if (k.toLowerCase() === lower) return record[k];
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------------------
// JSON-backed placeholders

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strings as they are, other JSON as JSON text (ditto: JsonValue.formatAsString). */
function render(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Segments of a JSON pointer; the leading `/` is optional (`sub`, `/realm_access/roles`). */
export function pointerSegments(pointer: string): string[] {
  const body = pointer.startsWith('/') ? pointer.slice(1) : pointer;
  if (body === '') return [];
  return body.split('/').map((s) => (s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s));
}

/** `jwt:<claim pointer>` over the JWT body (§8): arrays on the way are searched element-wise and an array
 * value yields one result per element (so `{{ jwt:groups }}` expands to several subjects); duplicates are
 * removed; non-string values are rendered as JSON (object claims can be formatted with fn:format). */
export function jwtResolver(claims: Readonly<Record<string, unknown>>): PlaceholderResolver {
  return (name) => {
    const out: string[] = [];
    const visit = (node: unknown, segments: readonly string[], depth: number): void => {
      if (depth === segments.length) {
        if (Array.isArray(node)) for (const item of node) out.push(render(item));
        else if (node !== undefined) out.push(render(node));
        return;
      }
      if (Array.isArray(node)) {
        for (const item of node) visit(item, segments, depth);
      } else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, segments[depth])) {
        visit(node[segments[depth]], segments, depth + 1);
      }
    };
    const segments = pointerSegments(name);
    if (segments.length === 0) return undefined;
    visit(claims, segments, 0);
    return out.length <= 1 ? out[0] : [...new Set(out)];
  };
}

/** `thing-json:<pointer>` over the thing's JSON: the value as a string (JSON text for non-strings), an array
 * yields one result per element, a missing path is unresolved. */
export function thingJsonResolver(thing: unknown): PlaceholderResolver {
  return (name): PlaceholderValue => {
    let node: unknown = thing;
    for (const s of pointerSegments(name)) {
      if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, s)) return undefined;
      node = node[s];
    }
    if (node === undefined) return undefined;
    return Array.isArray(node) ? node.map(render) : render(node);
  };
}

const REF_NAME = /^things\/(.+)\/policyId$/;

/** The thing ID referenced by a `ref:` name (`things/<thingId>/policyId`, §1.2), or undefined. */
export function parseRefName(name: string): string | undefined {
  return REF_NAME.exec(name)?.[1];
}

/** `ref:things/<thingId>/policyId` for `_copyPolicyFrom` (§1.2). Reading the thing is asynchronous, so the
 * caller looks the referenced thing up first (parseRefName on template.placeholders) and passes the result. */
export function refResolver(policyIdOf: (thingId: string) => string | undefined): PlaceholderResolver {
  return (name) => {
    const thingId = parseRefName(name);
    return thingId === undefined ? undefined : policyIdOf(thingId);
  };
}
