import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  connectionResolver,
  entityResolver,
  featureResolver,
  headerResolver,
  jwtResolver,
  parseTimeName,
  policyEntryResolver,
  policyResolver,
  refResolver,
  requestResolver,
  resolveTemplate,
  resourceResolver,
  sourceResolver,
  thingJsonResolver,
  thingResolver,
  timeResolver,
  topicResolver,
  type PlaceholderResolvers,
  type TopicPathParts,
} from '../../../src/placeholders/index.js';

function resolve(template: string, r: PlaceholderResolvers): readonly string[] | 'unresolved' | 'deleted' {
  const result = resolveTemplate(compileTemplate(template), r);
  return result.kind === 'resolved' ? result.values : result.kind;
}

describe('topic placeholders (§11.5 examples)', () => {
  const create: TopicPathParts = {
    namespace: 'org.eclipse.ditto',
    name: 'device-123',
    group: 'things',
    channel: 'twin',
    criterion: 'commands',
    action: 'create',
  };
  const message: TopicPathParts = {
    namespace: 'org.eclipse.ditto',
    name: 'device-123',
    group: 'things',
    channel: 'live',
    criterion: 'messages',
    subject: 'hello.world',
  };

  it.each([
    ['full', ['org.eclipse.ditto/device-123/things/twin/commands/create']],
    ['namespace', ['org.eclipse.ditto']],
    ['entityName', ['device-123']],
    ['group', ['things']],
    ['channel', ['twin']],
    ['criterion', ['commands']],
    ['action', ['create']],
    ['subject', 'unresolved'],
    ['action-subject', ['create']],
  ])('resolves topic:%s for org.eclipse.ditto/device-123/things/twin/commands/create', (name, expected) => {
    expect(resolve(`{{ topic:${name} }}`, { topic: topicResolver(create) })).toEqual(expected);
  });

  it.each([
    ['full', ['org.eclipse.ditto/device-123/things/live/messages/hello.world']],
    ['namespace', ['org.eclipse.ditto']],
    ['entityName', ['device-123']],
    ['group', ['things']],
    ['channel', ['live']],
    ['criterion', ['messages']],
    ['action', 'unresolved'],
    ['subject', ['hello.world']],
    ['action-subject', ['hello.world']],
  ])(
    'resolves topic:%s for org.eclipse.ditto/device-123/things/live/messages/hello.world',
    (name, expected) => {
      expect(resolve(`{{ topic:${name} }}`, { topic: topicResolver(message) })).toEqual(expected);
    },
  );

  it('omits the channel of policy topics in topic:full and reports it as none', () => {
    const policy: TopicPathParts = {
      namespace: 'ns',
      name: 'p',
      group: 'policies',
      criterion: 'commands',
      action: 'modify',
    };
    expect(resolve('{{ topic:full }}|{{ topic:channel }}', { topic: topicResolver(policy) })).toEqual([
      'ns/p/policies/commands/modify|none',
    ]);
  });

  it('treats the label of an acknowledgement topic as its subject', () => {
    const ack: TopicPathParts = {
      namespace: 'ns',
      name: 't',
      group: 'things',
      channel: 'twin',
      criterion: 'acks',
      label: 'my-ack',
    };
    expect(
      resolve('{{ topic:full }}|{{ topic:subject }}|{{ topic:action-subject }}', {
        topic: topicResolver(ack),
      }),
    ).toEqual(['ns/t/things/twin/acks/my-ack|my-ack|my-ack']);
  });

  it('is unresolved for an unknown topic name', () => {
    expect(resolve('{{ topic:other }}', { topic: topicResolver(create) })).toBe('unresolved');
  });
});

describe('entity, thing, policy and feature placeholders', () => {
  it.each([
    ['entity', entityResolver],
    ['thing', thingResolver],
    ['policy', policyResolver],
  ] as const)('%s:id|namespace|name split the ID at the first colon', (prefix, build) => {
    const r = { [prefix]: build('org.eclipse:dev:1') };
    expect(resolve(`{{ ${prefix}:id }} {{ ${prefix}:namespace }} {{ ${prefix}:name }}`, r)).toEqual([
      'org.eclipse:dev:1 org.eclipse dev:1',
    ]);
  });

  it('resolves an empty namespace', () => {
    expect(resolve('[{{ thing:namespace }}]', { thing: thingResolver(':x') })).toEqual(['[]']);
  });

  it('is unresolved when the signal has no such entity', () => {
    expect(resolve('{{ thing:id }}', { thing: thingResolver(undefined) })).toBe('unresolved');
    expect(resolve('{{ feature:id }}', { feature: featureResolver(undefined) })).toBe('unresolved');
  });

  it('resolves feature:id', () => {
    expect(resolve('{{ feature:id }}', { feature: featureResolver('lamp') })).toEqual(['lamp']);
  });
});

describe('header placeholders', () => {
  it('looks headers up case-insensitively', () => {
    const r = { header: headerResolver({ 'Device-ID': 'd1', 'content-type': 'text/plain' }) };
    expect(resolve('{{ header:device-id }}/{{ header:Content-Type }}', r)).toEqual(['d1/text/plain']);
  });

  it('works with a Map of headers', () => {
    expect(resolve('{{ header:X-A }}', { header: headerResolver(new Map([['x-a', 'v']])) })).toEqual(['v']);
  });

  it('is unresolved for a missing header and does not see Object.prototype', () => {
    const r = { header: headerResolver({ a: '1' }) };
    expect(resolve('{{ header:b }}', r)).toBe('unresolved');
    expect(resolve('{{ header:constructor }}', r)).toBe('unresolved');
  });
});

describe('connection, request, source, resource and policy-entry placeholders', () => {
  it.each([
    ['{{ connection:id }}', { connection: connectionResolver('conn-1') }, ['conn-1']],
    ['{{ request:subjectId }}', { request: requestResolver('nginx:ditto') }, ['nginx:ditto']],
    [
      '{{ source:address }}',
      { source: sourceResolver('telemetry/org.eclipse:d1') },
      ['telemetry/org.eclipse:d1'],
    ],
    [
      '{{ resource:type }}',
      { resource: resourceResolver({ type: 'thing', path: '/features/lamp' }) },
      ['thing'],
    ],
    [
      '{{ resource:path }}',
      { resource: resourceResolver({ type: 'thing', path: '/features/lamp' }) },
      ['/features/lamp'],
    ],
    ['{{ policy-entry:label }}', { 'policy-entry': policyEntryResolver('owner') }, ['owner']],
  ])('resolves %s', (template, r, expected) => {
    expect(resolve(template, r as PlaceholderResolvers)).toEqual(expected);
  });

  it('is unresolved for unsupported names', () => {
    expect(resolve('{{ connection:name }}', { connection: connectionResolver('c') })).toBe('unresolved');
    expect(resolve('{{ request:subject }}', { request: requestResolver('s') })).toBe('unresolved');
  });
});

describe('jwt placeholders (§8)', () => {
  const jwt = jwtResolver({
    sub: 'user-1',
    aud: ['a1', 'a2'],
    email_verified: true,
    exp: 1700000000,
    realm_access: { roles: ['admin', 'user', 'admin'] },
    orgs: [{ id: 'o1' }, { id: 'o2' }, { name: 'no-id' }],
    address: { city: 'Berlin' },
    'a/b': 'slash',
  });

  it('resolves a string claim', () => {
    expect(resolve('{{ jwt:sub }}', { jwt })).toEqual(['user-1']);
  });
  it('expands an array claim into several values', () => {
    expect(resolve('{{ jwt:aud }}', { jwt })).toEqual(['a1', 'a2']);
  });
  it('follows a claim pointer and removes duplicates', () => {
    expect(resolve('{{ jwt:realm_access/roles }}', { jwt })).toEqual(['admin', 'user']);
    expect(resolve('{{ jwt:/realm_access/roles }}', { jwt })).toEqual(['admin', 'user']);
  });
  it('searches arrays on the way element-wise', () => {
    expect(resolve('{{ jwt:orgs/id }}', { jwt })).toEqual(['o1', 'o2']);
  });
  it('renders non-string values as JSON', () => {
    expect(resolve('{{ jwt:email_verified }}/{{ jwt:exp }}/{{ jwt:address }}', { jwt })).toEqual([
      'true/1700000000/{"city":"Berlin"}',
    ]);
  });
  it('unescapes ~1 in claim pointers', () => {
    expect(resolve('{{ jwt:a~1b }}', { jwt })).toEqual(['slash']);
  });
  it('is unresolved for a missing claim', () => {
    expect(resolve('{{ jwt:missing }}', { jwt })).toBe('unresolved');
    expect(resolve('{{ jwt:sub/deeper }}', { jwt })).toBe('unresolved');
  });
  it('builds several subjects from a template such as {{ jwt:sub }}@{{ jwt:aud }}', () => {
    expect(resolve('{{ jwt:sub }}@{{ jwt:aud }}', { jwt })).toEqual(['user-1@a1', 'user-1@a2']);
  });
});

describe('thing-json placeholders', () => {
  const thing = {
    thingId: 'org.eclipse:d1',
    attributes: { location: { city: 'Berlin' }, tags: ['a', 'b'], serial: 42 },
  };

  it('resolves a string value at a pointer', () => {
    expect(
      resolve('{{ thing-json:attributes/location/city }}', { 'thing-json': thingJsonResolver(thing) }),
    ).toEqual(['Berlin']);
  });
  it('renders numbers and objects as JSON and expands arrays', () => {
    const r = { 'thing-json': thingJsonResolver(thing) };
    expect(resolve('{{ thing-json:/attributes/serial }}', r)).toEqual(['42']);
    expect(resolve('{{ thing-json:attributes/location }}', r)).toEqual(['{"city":"Berlin"}']);
    expect(resolve('{{ thing-json:attributes/tags }}', r)).toEqual(['a', 'b']);
  });
  it('is unresolved for a missing path', () => {
    expect(resolve('{{ thing-json:attributes/nope }}', { 'thing-json': thingJsonResolver(thing) })).toBe(
      'unresolved',
    );
  });
});

describe('ref placeholders (§1.2 _copyPolicyFrom)', () => {
  it('resolves the policy ID of the referenced thing', () => {
    const policies: Record<string, string> = { 'org.eclipse:d1': 'org.eclipse:policy-1' };
    const r = { ref: refResolver((thingId) => policies[thingId]) };
    expect(resolve('{{ ref:things/org.eclipse:d1/policyId }}', r)).toEqual(['org.eclipse:policy-1']);
    expect(resolve('{{ ref:things/org.eclipse:d2/policyId }}', r)).toBe('unresolved');
    expect(resolve('{{ ref:things/org.eclipse:d1/attributes }}', r)).toBe('unresolved');
  });
});

describe('time placeholders', () => {
  // Wednesday 2024-05-15T10:37:21.123Z
  const now = Date.UTC(2024, 4, 15, 10, 37, 21, 123);
  const time = timeResolver(() => now);
  const at = (name: string) => resolve(`{{ time:${name} }}`, { time });

  it('resolves now as ISO-8601 UTC and now_epoch_millis', () => {
    expect(at('now')).toEqual(['2024-05-15T10:37:21.123Z']);
    expect(at('now_epoch_millis')).toEqual([String(now)]);
  });

  it.each([
    ['now+1h', '2024-05-15T11:37:21.123Z'],
    ['now-7d', '2024-05-08T10:37:21.123Z'],
    ['now+500ms', '2024-05-15T10:37:21.623Z'],
    ['now-30s', '2024-05-15T10:36:51.123Z'],
    ['now-30', '2024-05-15T10:36:51.123Z'],
    ['now+2w', '2024-05-29T10:37:21.123Z'],
    ['now-1mo', new Date(now - 2_629_746_000).toISOString()],
    ['now+1y', new Date(now + 31_556_952_000).toISOString()],
  ])('applies the offset of time:%s', (name, expected) => {
    expect(at(name)).toEqual([expected]);
  });

  it.each([
    ['now[ms]', '2024-05-15T10:37:21.123Z'],
    ['now[s]', '2024-05-15T10:37:21Z'],
    ['now[m]', '2024-05-15T10:37:00Z'],
    ['now[h]', '2024-05-15T10:00:00Z'],
    ['now[d]', '2024-05-15T00:00:00Z'],
    ['now[w]', '2024-05-13T00:00:00Z'],
    ['now[mo]', '2024-05-01T00:00:00Z'],
    ['now[y]', '2024-01-01T00:00:00Z'],
  ])('truncates time:%s', (name, expected) => {
    expect(at(name)).toEqual([expected]);
  });

  it('combines offset and truncation (offset first)', () => {
    expect(at('now-25m[m]')).toEqual(['2024-05-15T10:12:00Z']);
    expect(at('now-11h[d]')).toEqual(['2024-05-14T00:00:00Z']);
    expect(at('now_epoch_millis+1d[d]')).toEqual([String(Date.UTC(2024, 4, 16))]);
  });

  it('is unresolved for unsupported names', () => {
    expect(at('later')).toBe('unresolved');
    expect(at('now+1x')).toBe('unresolved');
    expect(at('now[]')).toBe('unresolved');
    expect(parseTimeName('now-1h[q]')).toBeUndefined();
  });

  it('uses the current time by default', () => {
    const before = Date.now();
    const value = Number((resolve('{{ time:now_epoch_millis }}', { time: timeResolver() }) as string[])[0]);
    expect(value).toBeGreaterThanOrEqual(before);
    expect(value).toBeLessThanOrEqual(Date.now());
  });
});
