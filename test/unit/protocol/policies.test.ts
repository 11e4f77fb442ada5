import { describe, expect, it } from 'vitest';
import { renderProtocolMessage } from '../../../src/protocol/message.js';
import {
  fromConnectionAnnouncement,
  fromPolicyAnnouncement,
  fromPolicyCommand,
  fromPolicyCommandResponse,
  policyResourceOf,
  toConnectionAnnouncement,
  toPolicyAnnouncement,
  toPolicyCommand,
  toPolicyCommandResponse,
} from '../../../src/protocol/policies.js';
import { expectDittoError, parse, render } from './helpers.js';
import { expectValid } from './schemas.js';

const msg = (action: string, path: string, extra: Record<string, unknown> = {}) =>
  parse(
    JSON.stringify({
      topic: `ns/p/policies/commands/${action}`,
      headers: { 'correlation-id': 'c' },
      path,
      ...extra,
    }),
  );

describe('policy commands', () => {
  it('round-trips a create of the whole policy', () => {
    const text =
      '{"topic":"ns/p/policies/commands/create","headers":{"correlation-id":"c"},"path":"/","value":{"entries":{"owner":{"subjects":{"nginx:ditto":{"type":"t"}},"resources":{"policy:/":{"grant":["READ","WRITE"],"revoke":[]}}}}}}';
    const command = toPolicyCommand(parse(text));
    expect(command).toMatchObject({ policyId: 'ns:p', action: 'create', path: '/' });
    expect(render(fromPolicyCommand(command))).toBe(text);
    expectValid('protocol-envelope.json', renderProtocolMessage(fromPolicyCommand(command)));
  });

  it('modifies a resource whose key contains slashes', () => {
    const command = toPolicyCommand(
      msg('modify', '/entries/owner/resources/thing:/features/x', { value: { grant: ['READ'], revoke: [] } }),
    );
    expect(command.path).toBe('/entries/owner/resources/thing:/features/x');
    expect(render(fromPolicyCommand(command))).toContain(
      '"path":"/entries/owner/resources/thing:/features/x"',
    );
  });

  it('keeps fields of a retrieve and drops the value of a delete', () => {
    expect(toPolicyCommand(msg('retrieve', '/entries', { fields: 'owner' })).fields).toBe('owner');
    expect('value' in toPolicyCommand(msg('delete', '/entries/owner', { value: 1 }))).toBe(false);
  });

  it.each([
    ['/', 'policy'],
    ['/entries', 'entries'],
    ['/entries/owner', 'entry'],
    ['/entries/owner/subjects', 'subjects'],
    ['/entries/owner/subjects/nginx:ditto', 'subject'],
    ['/entries/owner/resources', 'resources'],
    ['/entries/owner/resources/thing:/', 'resource'],
    ['/entries/owner/namespaces', 'entryNamespaces'],
    ['/entries/owner/references', 'entryReferences'],
    ['/entries/owner/importable', 'entryImportable'],
    ['/entries/owner/allowedAdditions', 'entryAllowedAdditions'],
    ['/imports', 'imports'],
    ['/imports/ns:other', 'import'],
    ['/imports/ns:other/entries', 'importEntries'],
    ['/imports/ns:other/transitiveImports', 'importTransitiveImports'],
  ])('classifies %s as %s', (path, kind) => {
    expect(policyResourceOf(path).kind).toBe(kind);
  });

  it('returns the full key of a resource', () => {
    expect(policyResourceOf('/entries/owner/resources/thing:/features/x/properties')).toEqual({
      kind: 'resource',
      key: 'thing:/features/x/properties',
    });
  });

  it.each([
    '/policyId',
    '/entries/owner/foo',
    '/imports/a/b',
    '/entries//subjects',
    '/entries/owner/namespaces/x',
    '/constructor',
  ])('rejects the path %s with protocoladapter:unknown.path', (path) => {
    expectDittoError(() => toPolicyCommand(msg('retrieve', path)), 'protocoladapter:unknown.path', 400);
  });

  it('rejects create below the root, modify without value, responses and invalid IDs', () => {
    expectDittoError(
      () => toPolicyCommand(msg('create', '/entries', { value: {} })),
      'protocoladapter:unknown.path',
    );
    expectDittoError(
      () => toPolicyCommand(msg('modify', '/entries')),
      'protocoladapter:illegal.adaptable',
      422,
    );
    expectDittoError(
      () => toPolicyCommand(msg('modify', '/entries', { value: {}, status: 204 })),
      'protocoladapter:unknown.command',
    );
    expectDittoError(
      () => toPolicyCommand(parse('{"topic":"1ns/p/policies/commands/retrieve","headers":{},"path":"/"}')),
      'protocoladapter:unknown.topicpath',
    );
  });
});

describe('policy responses', () => {
  it('round-trips a retrieve response and validates it', () => {
    const response = {
      policyId: 'ns:p',
      action: 'retrieve' as const,
      path: '/entries/owner/subjects',
      status: 200,
      value: { 'nginx:ditto': { type: 't' } },
      headers: { 'correlation-id': 'c' },
    };
    const json = renderProtocolMessage(fromPolicyCommandResponse(response));
    expect(json).toEqual({
      topic: 'ns/p/policies/commands/retrieve',
      headers: { 'correlation-id': 'c' },
      path: '/entries/owner/subjects',
      value: { 'nginx:ditto': { type: 't' } },
      status: 200,
    });
    expectValid('protocol-response.json', json);
    expect(toPolicyCommandResponse(parse(JSON.stringify(json)))).toEqual(response);
  });

  it('renders a 204 without value', () => {
    const json = renderProtocolMessage(
      fromPolicyCommandResponse({
        policyId: 'ns:p',
        action: 'delete',
        path: '/',
        status: 204,
        headers: { 'correlation-id': 'c' },
      }),
    );
    expect('value' in json).toBe(false);
    expectValid('protocol-response.json', json);
  });
});

describe('announcements', () => {
  it('round-trips a policy subjectDeletion announcement', () => {
    const text =
      '{"topic":"ns/p/policies/announcements/subjectDeletion","headers":{"correlation-id":"c"},"path":"/","value":{"deleteAt":"2026-01-01T00:00:00Z","subjectIds":["nginx:a"]}}';
    const a = toPolicyAnnouncement(parse(text));
    expect(a).toEqual({
      policyId: 'ns:p',
      name: 'subjectDeletion',
      deleteAt: '2026-01-01T00:00:00Z',
      subjectIds: ['nginx:a'],
      headers: { 'correlation-id': 'c' },
    });
    expect(render(fromPolicyAnnouncement(a))).toBe(text);
    expectValid('protocol-announcement.json', renderProtocolMessage(fromPolicyAnnouncement(a)));
  });

  it('renders connection opened and closed announcements with content-type application/json', () => {
    for (const [name, field] of [
      ['opened', 'openedAt'],
      ['closed', 'closedAt'],
    ] as const) {
      const json = renderProtocolMessage(
        fromConnectionAnnouncement({ connectionId: 'conn-1', name, at: '2026-01-01T00:00:00Z', headers: {} }),
      );
      expect(json).toEqual({
        topic: `_/conn-1/connections/announcements/${name}`,
        headers: { 'content-type': 'application/json' },
        path: '/',
        value: { [field]: '2026-01-01T00:00:00Z' },
      });
      expectValid('protocol-announcement.json', json);
      expect(toConnectionAnnouncement(parse(JSON.stringify(json)))).toMatchObject({
        connectionId: 'conn-1',
        name,
        at: '2026-01-01T00:00:00Z',
      });
    }
  });

  it('rejects announcements without their payload fields', () => {
    expectDittoError(
      () =>
        toPolicyAnnouncement(
          parse(
            '{"topic":"ns/p/policies/announcements/subjectDeletion","headers":{},"path":"/","value":{"deleteAt":"x"}}',
          ),
        ),
      'protocoladapter:illegal.adaptable',
    );
    expectDittoError(
      () =>
        toConnectionAnnouncement(
          parse(
            '{"topic":"_/c/connections/announcements/opened","headers":{},"path":"/","value":{"closedAt":"x"}}',
          ),
        ),
      'protocoladapter:illegal.adaptable',
    );
  });
});
