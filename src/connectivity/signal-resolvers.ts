/**
 * The placeholder resolvers of one signal on a connection (§11.5): of an outbound signal (target address
 * and header mapping) and of a reply (reply target). Each resolver is made when a template reads its
 * prefix: most templates read one or two, and this runs for every published message. A prefix the signal
 * has nothing for (a reply has no resource) resolves to nothing.
 */
import type { DittoHeaders } from '../model/signals.js';
import {
  connectionResolver,
  featureResolver,
  headerResolver,
  resourceResolver,
  thingJsonResolver,
  thingResolver,
  timeResolver,
  topicResolver,
  type PlaceholderResolvers,
  type ResourceType,
} from '../placeholders/index.js';
import type { TopicPath } from '../protocol/index.js';

export interface ResolvedSignal {
  thingId: string;
  headers: DittoHeaders;
  resource?: { type: ResourceType; path: string };
  /** The thing as the target's subjects may read it (`thing-json:`); pruned only when a template reads it. */
  readable?: () => Record<string, unknown>;
}

class SignalResolvers {
  constructor(
    private readonly signal: ResolvedSignal,
    private readonly connectionId: string,
    /** The signal's topic; a function so that a reply's message is made only when a template reads it. */
    private readonly topicOf: () => TopicPath,
  ) {}
  get header() {
    return headerResolver(this.signal.headers);
  }
  get thing() {
    return thingResolver(this.signal.thingId);
  }
  get entity() {
    return thingResolver(this.signal.thingId);
  }
  get feature() {
    const resource = this.signal.resource;
    return resource && featureResolver(/^\/features\/([^/]+)/.exec(resource.path)?.[1]);
  }
  get topic() {
    return topicResolver(this.topicOf());
  }
  get resource() {
    return this.signal.resource && resourceResolver(this.signal.resource);
  }
  get 'thing-json'() {
    return this.signal.readable && thingJsonResolver(this.signal.readable());
  }
  get connection() {
    return connectionResolver(this.connectionId);
  }
  get time() {
    return timeResolver();
  }
}

export function signalResolvers(
  signal: ResolvedSignal,
  connectionId: string,
  topicOf: () => TopicPath,
): PlaceholderResolvers {
  return new SignalResolvers(signal, connectionId, topicOf) as unknown as PlaceholderResolvers;
}
