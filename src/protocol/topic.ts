/**
 * Ditto Protocol topic paths (ditto-interfaces.md §4.2):
 * `{namespace}/{name}/{group}[/{channel}]/{criterion}[/{action}|/{subject}|/{label}]`.
 *
 * `parseTopic` checks every structural rule of §4.2 and throws `protocoladapter:unknown.topicpath` (400)
 * otherwise; the signal conversions check what depends on the payload (IDs, paths, values).
 */
import { ackLabelInvalid, unknownTopicPath } from '../errors/protocol.js';
import type { Channel } from '../model/signals.js';

export type TopicGroup = 'things' | 'policies' | 'connections';
export type TopicCriterion =
  'commands' | 'events' | 'search' | 'streaming' | 'messages' | 'errors' | 'acks' | 'announcements';

export interface TopicPath {
  /** May be empty (§1.1) or the wildcard `_`. */
  namespace: string;
  /** The entity name, or the wildcard `_`; for connections the connection ID. */
  name: string;
  group: TopicGroup;
  /** Set for `things` only (mandatory there); policies and connections have no channel. */
  channel?: Channel;
  criterion: TopicCriterion;
  /** commands/events/search/streaming action, or the announcement name (`subjectDeletion`, `opened`, …). */
  action?: string;
  /** messages: the message subject, which may contain '/'. */
  subject?: string;
  /** acks: the label of a single acknowledgement; absent for aggregated acks. */
  label?: string;
}

/** The wildcard for namespace and name (§4.2). */
export const WILDCARD = '_';

// ditto: §1.1 acknowledgement label, optionally prefixed by an unresolved `{{connection:id}}:` placeholder.
export const ACK_LABEL = /^(?:\{\{\s*[a-z]+:[a-z]+\s*\}\}:)?[a-zA-Z0-9\-_:]{3,165}$/;

const THING_COMMANDS = new Set(['create', 'retrieve', 'modify', 'merge', 'delete', 'migrate']);
const THING_EVENTS = new Set(['created', 'modified', 'merged', 'deleted', 'migrated']);
const POLICY_COMMANDS = new Set(['create', 'retrieve', 'modify', 'delete']);
const POLICY_EVENTS = new Set(['created', 'modified', 'deleted']);
const SEARCH_ACTIONS = new Set(['subscribe', 'request', 'cancel', 'created', 'next', 'complete', 'failed']);
const STREAMING_ACTIONS = new Set([
  'subscribeForPersistedEvents',
  'request',
  'cancel',
  'created',
  'next',
  'complete',
  'failed',
]);
const ANNOUNCEMENTS: Record<TopicGroup, Set<string>> = {
  things: new Set(),
  policies: new Set(['subjectDeletion']),
  connections: new Set(['opened', 'closed']),
};

const GROUPS = new Set<string>(['things', 'policies', 'connections']);
const CRITERIA = new Set<string>([
  'commands',
  'events',
  'search',
  'streaming',
  'messages',
  'errors',
  'acks',
  'announcements',
]);

// Which groups each criterion exists for (§4.2).
const CRITERION_GROUPS: Record<TopicCriterion, ReadonlySet<TopicGroup>> = {
  commands: new Set(['things', 'policies']),
  events: new Set(['things', 'policies']),
  search: new Set(['things']),
  streaming: new Set(['things', 'policies']),
  messages: new Set(['things']),
  errors: new Set(['things', 'policies']),
  acks: new Set(['things']),
  announcements: new Set(['policies', 'connections']),
};

function fail(topic: string, detail: string): never {
  throw unknownTopicPath({ topic }, { description: detail });
}

/** The single action segment of `rest`, which must be one of `allowed`. */
function oneAction(topic: string, rest: string[], allowed: ReadonlySet<string>): string {
  if (rest.length !== 1 || !allowed.has(rest[0])) {
    fail(topic, `Action <${rest.join('/')}> is not valid here; expected one of ${[...allowed].join(', ')}.`);
  }
  return rest[0];
}

/** Parses a topic string; throws `protocoladapter:unknown.topicpath` (or `acknowledgement:label.invalid`). */
export function parseTopic(topic: string): TopicPath {
  if (typeof topic !== 'string' || topic === '') return fail(String(topic), 'The topic is empty.');
  const parts = topic.split('/');
  if (parts.length < 4) fail(topic, 'The topic needs at least namespace, name, group and criterion.');
  const namespace = parts[0];
  const name = parts[1];
  const group = parts[2] as TopicGroup;
  if (name === '') fail(topic, 'The topic has no entity name.');
  if (!GROUPS.has(group)) fail(topic, `Group <${group}> is unknown.`);

  let index = 3;
  let channel: Channel | undefined;
  if (group === 'things') {
    const c = parts[index++];
    if (c !== 'twin' && c !== 'live')
      fail(topic, `Channel <${c ?? ''}> is unknown; things need 'twin' or 'live'.`);
    channel = c;
  }
  const criterion = parts[index++] as TopicCriterion;
  if (criterion === undefined || !CRITERIA.has(criterion))
    fail(topic, `Criterion <${criterion ?? ''}> is unknown.`);
  if (!CRITERION_GROUPS[criterion].has(group))
    fail(topic, `Criterion <${criterion}> is not supported for <${group}>.`);
  const rest = parts.slice(index);
  const path: TopicPath =
    channel === undefined
      ? { namespace, name, group, criterion }
      : { namespace, name, group, channel, criterion };

  switch (criterion) {
    case 'commands':
      path.action = oneAction(topic, rest, group === 'things' ? THING_COMMANDS : POLICY_COMMANDS);
      break;
    case 'events':
      path.action = oneAction(topic, rest, group === 'things' ? THING_EVENTS : POLICY_EVENTS);
      break;
    case 'search':
      // ditto: §4.2 search is twin only and addresses no entity: `_/_/things/twin/search/{action}`
      if (channel !== 'twin') fail(topic, 'Search is only available on the twin channel.');
      if (namespace !== WILDCARD || name !== WILDCARD) fail(topic, "Search topics must start with '_/_/'.");
      path.action = oneAction(topic, rest, SEARCH_ACTIONS);
      break;
    case 'streaming':
      if (channel === 'live') fail(topic, 'Streaming is only available on the twin channel.');
      path.action = oneAction(topic, rest, STREAMING_ACTIONS);
      break;
    case 'messages': {
      if (channel !== 'live') fail(topic, 'Messages are only available on the live channel.');
      const subject = rest.join('/');
      if (subject === '') fail(topic, 'Missing message subject.');
      path.subject = subject;
      break;
    }
    case 'errors':
      if (rest.length !== 0) fail(topic, 'Error topics have no action.');
      break;
    case 'acks':
      if (rest.length > 1) fail(topic, 'An acknowledgement topic has at most one label.');
      if (rest.length === 1) {
        if (!ACK_LABEL.test(rest[0])) throw ackLabelInvalid({ label: rest[0] });
        path.label = rest[0];
      }
      break;
    case 'announcements':
      if (group === 'connections' && namespace !== WILDCARD) {
        fail(topic, "Connection topics must start with '_/{connectionId}/'.");
      }
      path.action = oneAction(topic, rest, ANNOUNCEMENTS[group]);
      break;
  }
  return path;
}

/** Renders a topic path; the inverse of `parseTopic` for every path it returns. */
export function formatTopic(topic: TopicPath): string {
  const parts = [topic.namespace, topic.name, topic.group];
  if (topic.group === 'things') parts.push(topic.channel ?? 'twin');
  parts.push(topic.criterion);
  const tail =
    topic.criterion === 'messages' ? topic.subject : topic.criterion === 'acks' ? topic.label : topic.action;
  if (tail !== undefined && tail !== '') parts.push(tail);
  return parts.join('/');
}

/** `ns:name` of a topic, or undefined when either part is the wildcard. */
export function entityIdOf(topic: TopicPath): string | undefined {
  if (topic.namespace === WILDCARD || topic.name === WILDCARD) return undefined;
  return `${topic.namespace}:${topic.name}`;
}
