/**
 * Policy commands, responses and announcements, and connection announcements ↔ Ditto Protocol
 * (ditto-interfaces.md §4.7): `{ns}/{name}/policies/commands/{create|modify|retrieve|delete}`,
 * `{ns}/{name}/policies/announcements/subjectDeletion`, `_/{connectionId}/connections/announcements/{opened|closed}`.
 */
import { illegalAdaptable, unknownCommand, unknownPath, unknownTopicPath } from '../errors/protocol.js';
import { parseNamespacedId } from '../model/ids.js';
import type {
  ConnectionAnnouncement,
  PolicyAnnouncement,
  PolicyCommand,
  PolicyCommandAction,
  PolicyCommandResponse,
  PolicyEvent,
} from '../model/signals.js';
import { isPlainObject } from '../util/json-pointer.js';
import type { ProtocolMessage } from './message.js';
import { formatTopic, WILDCARD, type TopicPath } from './topic.js';

const POLICY_ACTIONS: readonly string[] = ['create', 'retrieve', 'modify', 'delete'];

export type PolicyResourceKind =
  | 'policy'
  | 'imports'
  | 'import'
  | 'importEntries'
  | 'importTransitiveImports'
  | 'entries'
  | 'entry'
  | 'resources'
  | 'resource'
  | 'subjects'
  | 'subject'
  | 'entryImportable'
  | 'entryAllowedAdditions'
  | 'entryNamespaces'
  | 'entryReferences';

const ENTRY_CHILDREN: Record<string, PolicyResourceKind> = {
  importable: 'entryImportable',
  allowedAdditions: 'entryAllowedAdditions',
  namespaces: 'entryNamespaces',
  references: 'entryReferences',
};

/**
 * What a policy path addresses (§4.7; code `PolicyResource`): `/`, `/imports[/<id>[/entries|/transitiveImports]]`,
 * `/entries[/<label>[/subjects[/<subjectId…>]|/resources[/<resource…>]|/importable|/allowedAdditions|/namespaces|/references]]`.
 * Subject IDs and resource keys may contain '/' (`thing:/features/x`), so everything after `subjects/` or
 * `resources/` is one key. Throws `protocoladapter:unknown.path`.
 */
export function policyResourceOf(path: string): { kind: PolicyResourceKind; key?: string } {
  const fail = (): never => {
    throw unknownPath({ path });
  };
  const raw = path.startsWith('/') ? path.slice(1) : path;
  if (raw === '') return { kind: 'policy' };
  const s =
    raw.endsWith('/') && !/^entries\/[^/]+\/(subjects|resources)\//.test(raw)
      ? raw.slice(0, -1).split('/')
      : raw.split('/');
  if (s.slice(0, 3).some((segment) => segment === '')) return fail();
  if (s[0] === 'imports') {
    if (s.length === 1) return { kind: 'imports' };
    if (s.length === 2) return { kind: 'import', key: s[1] };
    if (s.length === 3 && s[2] === 'entries') return { kind: 'importEntries', key: s[1] };
    if (s.length === 3 && s[2] === 'transitiveImports') return { kind: 'importTransitiveImports', key: s[1] };
    return fail();
  }
  if (s[0] !== 'entries') return fail();
  if (s.length === 1) return { kind: 'entries' };
  if (s.length === 2) return { kind: 'entry', key: s[1] };
  const child = s[2];
  if (child === 'subjects' || child === 'resources') {
    if (s.length === 3) return { kind: child };
    // everything after `entries/<label>/<child>/` is one key, '/'s included (`thing:/features/x`)
    const key = s.slice(3).join('/');
    if (key === '') return { kind: child };
    return { kind: child === 'subjects' ? 'subject' : 'resource', key };
  }
  if (s.length === 3 && Object.hasOwn(ENTRY_CHILDREN, child)) return { kind: ENTRY_CHILDREN[child] };
  return fail();
}

function policyTopic(policyId: string, criterion: TopicPath['criterion'], action: string): TopicPath {
  const colon = policyId.indexOf(':');
  return {
    namespace: colon < 0 ? '' : policyId.slice(0, colon),
    name: colon < 0 ? policyId : policyId.slice(colon + 1),
    group: 'policies',
    criterion,
    action,
  };
}

function policyIdOf(topic: TopicPath): string {
  const id = `${topic.namespace}:${topic.name}`;
  if (!parseNamespacedId(id)) {
    throw unknownTopicPath(
      { topic: formatTopic(topic) },
      { description: `'${id}' is not a valid policy ID.` },
    );
  }
  return id;
}

function expectPolicyCommand(msg: ProtocolMessage): { policyId: string; action: PolicyCommandAction } {
  const { topic } = msg;
  if (
    topic.group !== 'policies' ||
    topic.criterion !== 'commands' ||
    !POLICY_ACTIONS.includes(topic.action ?? '')
  ) {
    throw unknownCommand({ command: formatTopic(topic) });
  }
  const policyId = policyIdOf(topic);
  const action = topic.action as PolicyCommandAction;
  // ditto: §4.7 create exists only for the whole policy
  if (action === 'create' && msg.path !== '/') throw unknownPath({ path: msg.path });
  policyResourceOf(msg.path);
  return { policyId, action };
}

/** A policy command. Errors: `protocoladapter:unknown.command`, `…:unknown.path`, `…:illegal.adaptable`. */
export function toPolicyCommand(msg: ProtocolMessage): PolicyCommand {
  const { policyId, action } = expectPolicyCommand(msg);
  if (msg.status !== undefined) {
    throw unknownCommand(
      { command: formatTopic(msg.topic) },
      { description: 'A message with a status is a response.' },
    );
  }
  const command: PolicyCommand = { policyId, action, path: msg.path, headers: msg.headers };
  if (action === 'create' || action === 'modify') {
    if (!('value' in msg)) throw illegalAdaptable({ detail: `A '${action}' command needs a 'value'.` });
    command.value = msg.value;
  }
  if (action === 'retrieve' && msg.fields !== undefined) command.fields = msg.fields;
  return command;
}

export function fromPolicyCommand(command: PolicyCommand): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: policyTopic(command.policyId, 'commands', command.action),
    headers: command.headers,
    path: command.path,
  };
  if (command.value !== undefined) msg.value = command.value;
  if (command.fields !== undefined) msg.fields = command.fields;
  return msg;
}

export function toPolicyCommandResponse(msg: ProtocolMessage): PolicyCommandResponse {
  const { policyId, action } = expectPolicyCommand(msg);
  if (msg.status === undefined) throw illegalAdaptable({ detail: 'A command response needs a status.' });
  const response: PolicyCommandResponse = {
    policyId,
    action,
    path: msg.path,
    status: msg.status,
    headers: msg.headers,
  };
  if (msg.value !== undefined) response.value = msg.value;
  return response;
}

/** Like things (§4.7): the command's topic and path, `status`, and `value` only when present. */
export function fromPolicyCommandResponse(response: PolicyCommandResponse): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: policyTopic(response.policyId, 'commands', response.action),
    headers: response.headers,
    path: response.path,
    status: response.status,
  };
  if (response.value !== undefined) msg.value = response.value;
  return msg;
}

/** A policy event (§4.7 `…/policies/events/{created|modified|deleted}`) with `revision` and `timestamp`. */
export function fromPolicyEvent(event: PolicyEvent): ProtocolMessage {
  const msg: ProtocolMessage = {
    topic: policyTopic(event.policyId, 'events', event.action),
    headers: event.headers,
    path: event.path,
  };
  if (event.value !== undefined && event.action !== 'deleted') msg.value = event.value;
  msg.revision = event.revision;
  msg.timestamp = event.timestamp;
  return msg;
}

// ---- announcements ----

export function fromPolicyAnnouncement(a: PolicyAnnouncement): ProtocolMessage {
  return {
    topic: policyTopic(a.policyId, 'announcements', a.name),
    headers: a.headers,
    path: '/',
    value: { deleteAt: a.deleteAt, subjectIds: a.subjectIds },
  };
}

export function toPolicyAnnouncement(msg: ProtocolMessage): PolicyAnnouncement {
  const { topic } = msg;
  if (
    topic.group !== 'policies' ||
    topic.criterion !== 'announcements' ||
    topic.action !== 'subjectDeletion'
  ) {
    throw unknownTopicPath(
      { topic: formatTopic(topic) },
      { description: 'Expected a policy announcement topic.' },
    );
  }
  const v = msg.value;
  if (
    !isPlainObject(v) ||
    typeof v.deleteAt !== 'string' ||
    !Array.isArray(v.subjectIds) ||
    v.subjectIds.some((s) => typeof s !== 'string')
  ) {
    throw illegalAdaptable({ detail: "A subjectDeletion announcement needs 'deleteAt' and 'subjectIds'." });
  }
  return {
    policyId: policyIdOf(topic),
    name: 'subjectDeletion',
    deleteAt: v.deleteAt,
    subjectIds: v.subjectIds as string[],
    headers: msg.headers,
  };
}

const CONNECTION_TIME_FIELD = { opened: 'openedAt', closed: 'closedAt' } as const;

/** §4.7: `_/{connectionId}/connections/announcements/{opened|closed}` with `content-type: application/json`. */
export function fromConnectionAnnouncement(a: ConnectionAnnouncement): ProtocolMessage {
  return {
    topic: {
      namespace: WILDCARD,
      name: a.connectionId,
      group: 'connections',
      criterion: 'announcements',
      action: a.name,
    },
    headers: { ...a.headers, 'content-type': 'application/json' },
    path: '/',
    value: { [CONNECTION_TIME_FIELD[a.name]]: a.at },
  };
}

export function toConnectionAnnouncement(msg: ProtocolMessage): ConnectionAnnouncement {
  const { topic } = msg;
  const name = topic.action;
  if (
    topic.group !== 'connections' ||
    topic.criterion !== 'announcements' ||
    (name !== 'opened' && name !== 'closed')
  ) {
    throw unknownTopicPath(
      { topic: formatTopic(topic) },
      { description: 'Expected a connection announcement topic.' },
    );
  }
  const field = CONNECTION_TIME_FIELD[name];
  const v = msg.value;
  if (!isPlainObject(v) || typeof v[field] !== 'string') {
    throw illegalAdaptable({ detail: `A connection '${name}' announcement needs '${field}'.` });
  }
  return { connectionId: topic.name, name, at: v[field] as string, headers: msg.headers };
}
