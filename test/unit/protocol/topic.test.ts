import { describe, expect, it } from 'vitest';
import { formatTopic, parseTopic } from '../../../src/protocol/topic.js';
import { expectDittoError } from './helpers.js';

const UNKNOWN = 'protocoladapter:unknown.topicpath';

describe('parseTopic', () => {
  it('parses a twin command topic', () => {
    expect(parseTopic('org.eclipse.ditto/fancy-thing/things/twin/commands/modify')).toEqual({
      namespace: 'org.eclipse.ditto',
      name: 'fancy-thing',
      group: 'things',
      channel: 'twin',
      criterion: 'commands',
      action: 'modify',
    });
  });

  it('parses an empty namespace', () => {
    expect(parseTopic('/t1/things/live/events/created')).toMatchObject({
      namespace: '',
      name: 't1',
      channel: 'live',
    });
  });

  it('keeps slashes of a message subject', () => {
    const topic = parseTopic('org.eclipse.ditto/smartcoffee/things/live/messages/ask/question');
    expect(topic).toMatchObject({ criterion: 'messages', subject: 'ask/question' });
    expect(topic.action).toBeUndefined();
  });

  it('parses single and aggregated ack topics', () => {
    expect(parseTopic('ns/t/things/twin/acks/custom-ack')).toMatchObject({
      criterion: 'acks',
      label: 'custom-ack',
    });
    const aggregated = parseTopic('ns/t/things/live/acks');
    expect(aggregated.criterion).toBe('acks');
    expect(aggregated.label).toBeUndefined();
  });

  it('parses policy topics without channel', () => {
    const topic = parseTopic('ns/p/policies/commands/create');
    expect(topic).toEqual({
      namespace: 'ns',
      name: 'p',
      group: 'policies',
      criterion: 'commands',
      action: 'create',
    });
    expect(parseTopic('ns/p/policies/errors')).toEqual({
      namespace: 'ns',
      name: 'p',
      group: 'policies',
      criterion: 'errors',
    });
    expect(parseTopic('ns/p/policies/announcements/subjectDeletion').action).toBe('subjectDeletion');
  });

  it('parses connection announcements', () => {
    expect(parseTopic('_/my-connection/connections/announcements/opened')).toEqual({
      namespace: '_',
      name: 'my-connection',
      group: 'connections',
      criterion: 'announcements',
      action: 'opened',
    });
  });

  it('parses wildcard retrieve and search topics', () => {
    expect(parseTopic('ns/_/things/twin/commands/retrieve')).toMatchObject({ namespace: 'ns', name: '_' });
    expect(parseTopic('_/_/things/twin/search/subscribe')).toMatchObject({
      criterion: 'search',
      action: 'subscribe',
    });
    expect(parseTopic('ns/t/things/twin/streaming/subscribeForPersistedEvents').action).toBe(
      'subscribeForPersistedEvents',
    );
  });

  it.each([
    ['', 'empty'],
    ['ns/t/things', 'too short'],
    ['ns/t/thingz/twin/commands/modify', 'unknown group'],
    ['ns/t/things/commands/modify', 'things without channel'],
    ['ns/t/things/shadow/commands/modify', 'unknown channel'],
    ['ns/t/policies/twin/commands/modify', 'policies with channel'],
    ['ns/t/things/twin/orders/modify', 'unknown criterion'],
    ['ns/t/things/twin/commands', 'command without action'],
    ['ns/t/things/twin/commands/created', 'event action on commands'],
    ['ns/t/things/twin/events/modify', 'command action on events'],
    ['ns/t/things/twin/commands/modify/extra', 'trailing segment'],
    ['ns/p/policies/commands/merge', 'merge on policies'],
    ['ns/t/things/twin/messages/ask', 'messages on twin'],
    ['ns/t/things/live/messages', 'message without subject'],
    ['_/_/things/live/search/subscribe', 'search on live'],
    ['ns/_/things/twin/search/subscribe', 'search with namespace'],
    ['_/_/things/twin/search/frobnicate', 'unknown search action'],
    ['ns/t/things/twin/errors/x', 'errors with action'],
    ['ns/t/things/twin/acks/a/b', 'two ack labels'],
    ['ns/t/things/twin/announcements/subjectDeletion', 'things announcements'],
    ['ns/p/policies/announcements/opened', 'connection announcement on policies'],
    ['ns/c/connections/announcements/opened', 'connection without _ namespace'],
    ['_/c/connections/commands/modify', 'connection commands'],
    ['ns//things/twin/commands/modify', 'empty name'],
    ['ns/t/things/live/streaming/request', 'streaming on live'],
  ])('rejects %s (%s)', (topic) => {
    expectDittoError(() => parseTopic(topic), UNKNOWN, 400);
  });

  it('rejects an invalid ack label with acknowledgement:label.invalid', () => {
    expectDittoError(() => parseTopic('ns/t/things/twin/acks/ab'), 'acknowledgement:label.invalid', 400);
  });
});

describe('formatTopic', () => {
  it.each([
    'org.eclipse.ditto/fancy-thing/things/twin/commands/modify',
    'org.eclipse.ditto/fancy-thing/things/twin/events/merged',
    'org.eclipse.ditto/smartcoffee/things/live/messages/ask/question',
    'ns/t/things/twin/acks/custom-ack',
    'ns/t/things/twin/acks',
    'ns/t/things/live/errors',
    'ns/p/policies/commands/retrieve',
    'ns/p/policies/errors',
    'ns/p/policies/announcements/subjectDeletion',
    '_/conn-1/connections/announcements/closed',
    '_/_/things/twin/search/next',
    'ns/_/things/live/commands/retrieve',
    '/t1/things/twin/commands/create',
    'unknown/unknown/things/twin/errors',
  ])('round-trips %s', (topic) => {
    expect(formatTopic(parseTopic(topic))).toBe(topic);
  });
});
