/**
 * One MQTT connection client (MQTT 3.1.1 and 5) over MQTT.js, for the connectivity runtime.
 *
 * Acknowledgements (STYLE lesson 7, aedes/MQTT.js: "the PUBACK is sent only after the handler's callback"):
 * MQTT.js processes incoming packets one at a time and sends the PUBACK of a QoS 1 message when its
 * handler calls back. Waiting there for the durable twin write would serialise all messages. So the
 * handler (`customHandleAcks`) calls back at once and the PUBACK (QoS 2: PUBREC) packet MQTT.js then builds
 * is held back (internals.ts: MQTT.js has no public API for it) until the message was acked by the runtime; held
 * acknowledgements are released in the order the PUBLISH packets arrived ([MQTT-4.6.0-2]). A message that
 * is never acked (crash, lost connection) is never acknowledged to the broker, which redelivers it on the
 * next connection of the session (cleanSession=false, [MQTT-4.4.0-1]).
 * Back-pressure: while the runtime paused the source, the handler's callback is deferred, which stops
 * MQTT.js reading further packets (and TCP flow control stops the broker). MQTT 5 also announces the
 * in-flight window as Receive Maximum.
 * MQTT.js's own reconnection is off (`reconnectPeriod: 0`): the runtime's state machine reconnects.
 */
import './quiet-debug.js';
import mqtt, {
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';
import {
  connectError,
  RefusedError,
  type ClientContext,
  type ConnectorClient,
  type InboundMessage,
  type OutboundMessage,
  type SourceHandle,
  type TargetHandle,
} from '../../src/connectivity/index.js';
import type { Source, Target } from '../../src/connectivity/model.js';
import { corkUntil, type CorkableStream } from '../../src/connectivity/cork.js';
import { notConnected } from '../../src/errors/connectivity.js';
import { parseMqttConfig, type MqttConfig } from './config.js';
import { holdAckPackets } from './internals.js';
import { topicMatches } from './topic.js';

const noLog = (): void => undefined;

interface Held {
  messageId: number;
  acked: boolean;
  send?: () => void;
}

interface Subscription {
  filter: string;
  qos: 0 | 1 | 2;
  deliver: (message: InboundMessage) => void;
  paused: boolean;
  /** The deferred handler callback while paused. */
  pending: Array<() => void>;
}

const CONNECT_TIMEOUT_MS = 10_000;
const EARLY_GRACE_MS = 10_000;
/** How long an MQTT 5 broker keeps the session of a disconnected client (7 days). */
const SESSION_EXPIRY_S = 7 * 24 * 3600;
// Not user properties: MQTT 5 properties mapped to headers (§11.6).
const PROPERTY_HEADERS = new Set([
  'correlation-id',
  'reply-to',
  'content-type',
  'mqtt.topic',
  'mqtt.qos',
  'mqtt.retain',
  'mqtt.message-expiry-interval',
]);

export class MqttConnectorClient implements ConnectorClient {
  private readonly config: MqttConfig;
  private readonly version: 4 | 5;
  private client: MqttClient | undefined;
  private publisher: MqttClient | undefined;
  private readonly subscriptions: Subscription[] = [];
  private held: Held[] = [];
  /** Held entries whose acknowledgement packet MQTT.js has not built yet, by packet id. */
  private readonly unsent = new Map<number, Held>();
  private closing = false;
  private lastError: Error | undefined;
  /** Messages that arrived before their source subscribed (resumed session). */
  private early: Array<{ topic: string; payload: Buffer; packet: IPublishPacket; entry: Held | undefined }> =
    [];
  private earlyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: ClientContext,
    version: 4 | 5,
    private readonly receiveMaximum: number,
  ) {
    this.version = version;
    this.config = parseMqttConfig(context.connection.id, context.connection.specificConfig);
  }

  private clientId(base: string): string {
    return this.context.connection.clientCount > 1 ? `${base}-${this.context.clientIndex}` : base;
  }

  private options(clientId: string, consumer: boolean): IClientOptions {
    const { connection } = this.context;
    const uri = connection.uri;
    const options: IClientOptions = {
      protocolVersion: this.version,
      clientId,
      clean: this.config.cleanSession,
      keepalive: this.config.keepAliveSeconds,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      resubscribe: false,
      // MQTT.js otherwise restarts its keepalive interval on every PUBACK it receives (a clearInterval and a
      // new setInterval per message published): pings then go out every keepalive, traffic or not.
      reschedulePings: false,
      rejectUnauthorized: connection.validateCertificates,
    };
    // mqtt.js logs through `debug` on every packet; without DEBUG set those calls only cost CPU (~2 %).
    if (!process.env.DEBUG) options.log = noLog;
    if (uri.username) options.username = decodeURIComponent(uri.username);
    if (uri.password) options.password = decodeURIComponent(uri.password);
    if (connection.ca) options.ca = connection.ca;
    const creds = connection.credentials;
    if (creds?.type === 'client-cert') {
      if (typeof creds.cert === 'string') options.cert = creds.cert;
      if (typeof creds.key === 'string') options.key = creds.key;
    }
    if (this.config.lastWill && consumer) {
      options.will = {
        topic: this.config.lastWill.topic,
        payload: Buffer.from(this.config.lastWill.payload),
        qos: this.config.lastWill.qos,
        retain: this.config.lastWill.retain,
      };
    }
    if (this.version === 5) {
      options.properties = {
        ...(consumer ? { receiveMaximum: this.receiveMaximum } : {}),
        // [MQTT-3.1.2-23] an MQTT 5 session outlives the connection only with a Session Expiry Interval:
        // without clean start the broker keeps it for SESSION_EXPIRY_S (Ditto's cleanSession=false semantics).
        ...(this.config.cleanSession ? {} : { sessionExpiryInterval: SESSION_EXPIRY_S }),
      };
    }
    return options;
  }

  private url(): string {
    const uri = this.context.connection.uri;
    const scheme =
      { 'tcp:': 'mqtt', 'ssl:': 'mqtts', 'mqtt:': 'mqtt', 'mqtts:': 'mqtts', 'ws:': 'ws', 'wss:': 'wss' }[
        uri.protocol
      ] ?? 'mqtt';
    const path = scheme.startsWith('ws') ? uri.pathname : '';
    return `${scheme}://${uri.hostname}:${uri.port || (scheme === 'mqtts' ? 8883 : 1883)}${path}`;
  }

  private async open(clientId: string, consumer: boolean): Promise<MqttClient> {
    const client = mqtt.connect(this.url(), this.options(clientId, consumer));
    // TCP_NODELAY: packets of one tick already leave in one write (corkUntil); Nagle's algorithm would only
    // hold a lone PUBACK or PUBLISH back until the broker's delayed ACK (up to 40 ms). The stream exists
    // from the constructor on (MQTT.js's own reconnection, which would replace it, is off).
    socketOf(client)?.setNoDelay?.(true);
    if (consumer) {
      this.holdAcks(client);
      // Set after construction: MQTT.js only takes customHandleAcks from the options for MQTT 5, but calls
      // it for QoS 1/2 publishes of both versions.
      client.options.customHandleAcks = (topic, payload, packet, done) =>
        this.onPublish(topic, payload, packet, done);
    }
    client.on('error', (err) => (this.lastError = err));
    await new Promise<void>((resolve, reject) => {
      const fail = (err?: Error) => {
        client.removeListener('connect', ok);
        reject(
          connectError(err ?? this.lastError ?? new Error('connection closed before CONNACK'), {
            refused: connackRefused,
          }),
        );
      };
      const ok = () => {
        client.removeListener('error', fail);
        client.removeListener('close', closedEarly);
        resolve();
      };
      const closedEarly = () => fail(undefined);
      client.once('connect', ok);
      client.once('error', fail);
      client.once('close', closedEarly);
    });
    client.on('close', () => {
      if (this.closing) return;
      this.closing = true;
      this.context.onDisconnect(this.lastError ?? new Error('the broker closed the connection'));
    });
    if (consumer) {
      // QoS 0 messages are not acknowledged; QoS 1/2 go through customHandleAcks.
      client.on('message', (topic, payload, packet) => {
        if (packet.qos === 0) this.onPublish(topic, payload, packet, () => undefined);
      });
    }
    return client;
  }

  async connect(): Promise<void> {
    this.closing = false;
    this.client = await this.open(this.clientId(this.config.clientId), true);
    // Early messages no source claims within a while are for subscriptions the connection no longer has:
    // acknowledged (dropped) so they do not block the acknowledgements behind them.
    this.earlyTimer = setTimeout(() => {
      for (const m of this.early.splice(0)) {
        if (m.entry) m.entry.acked = true;
      }
      this.flush();
    }, EARLY_GRACE_MS);
    this.earlyTimer.unref();
    if (this.config.separatePublisherClient && this.context.connection.targets.length > 0) {
      this.publisher = await this.open(this.clientId(this.config.publisherId), false);
    }
  }

  /** Holds PUBACK/PUBREC packets of messages not yet acked (see the module comment). */
  private holdAcks(client: MqttClient): void {
    holdAckPackets(client, (messageId, send, done) => {
      const entry = this.unsent.get(messageId);
      if (!entry) return false;
      this.unsent.delete(messageId);
      entry.send = send;
      done();
      this.flush();
      return true;
    });
  }

  private flush(): void {
    if (this.held.length === 0 || !this.held[0].acked || !this.held[0].send) return;
    if (this.client) corkUntil(socketOf(this.client), 'tick');
    while (this.held.length > 0 && this.held[0].acked && this.held[0].send) {
      this.held.shift()!.send!();
    }
  }

  private onPublish(
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    done: (error: Error | number, code?: number) => void,
  ): void {
    const qos = packet.qos;
    let entry: Held | undefined;
    if (qos > 0 && packet.messageId !== undefined) {
      entry = { messageId: packet.messageId, acked: false };
      this.held.push(entry);
      this.unsent.set(entry.messageId, entry);
    }
    const subscription = this.subscriptions.find((s) => topicMatches(s.filter, topic));
    if (!subscription) {
      // A resumed session delivers queued messages right after CONNACK, before the sources subscribed
      // again: keep them (unacknowledged) until their source is created.
      this.early.push({ topic, payload, packet, entry });
      done(0);
      return;
    }
    this.dispatch(subscription, topic, payload, packet, entry);
    if (qos === 0) return;
    if (subscription.paused) subscription.pending.push(() => done(0));
    else done(0);
  }

  private dispatch(
    subscription: Subscription,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    entry: Held | undefined,
  ): void {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (entry) {
        entry.acked = true;
        this.flush();
      }
    };
    subscription.deliver({
      headers: this.headersOf(topic, packet),
      payload,
      text: 'utf-8',
      address: topic,
      ack: settle,
      // §11.6: a failure that needs redelivery reconnects (after reconnectForRedeliveryDelay) when
      // reconnectForRedelivery is set, so the broker redelivers the unacknowledged message; else it is acked.
      nack: (redeliver) => {
        if (!redeliver || !this.config.reconnectForRedelivery) settle();
        else this.reconnectForRedelivery();
      },
    });
  }

  private redeliveryTimer: NodeJS.Timeout | undefined;

  /** Reports the connection as lost (once) so the runtime reconnects; the session redelivers. */
  private reconnectForRedelivery(): void {
    if (this.redeliveryTimer || this.closing) return;
    this.redeliveryTimer = setTimeout(() => {
      if (this.closing) return;
      this.closing = true;
      this.context.onDisconnect(
        new Error('reconnecting so that the broker redelivers unacknowledged messages'),
      );
    }, this.config.reconnectForRedeliveryDelayMs);
    this.redeliveryTimer.unref();
  }

  /** Delivers early messages that the new subscription matches, in arrival order. */
  private replayEarly(subscription: Subscription): void {
    const keep: typeof this.early = [];
    for (const m of this.early) {
      if (topicMatches(subscription.filter, m.topic))
        this.dispatch(subscription, m.topic, m.payload, m.packet, m.entry);
      else keep.push(m);
    }
    this.early = keep;
  }

  private headersOf(topic: string, packet: IPublishPacket): Record<string, string> {
    const headers: Record<string, string> = {};
    const p = packet.properties;
    if (p) {
      for (const [k, v] of Object.entries(p.userProperties ?? {}))
        headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
      if (p.correlationData) headers['correlation-id'] = Buffer.from(p.correlationData).toString('utf8');
      if (p.responseTopic) headers['reply-to'] = p.responseTopic;
      if (p.contentType) headers['content-type'] = p.contentType;
      if (p.messageExpiryInterval !== undefined)
        headers['mqtt.message-expiry-interval'] = String(p.messageExpiryInterval);
    }
    headers['mqtt.topic'] = topic;
    headers['mqtt.qos'] = String(packet.qos);
    headers['mqtt.retain'] = String(packet.retain);
    return headers;
  }

  async createSource(
    source: Source,
    address: string,
    _consumerIndex: number,
    deliver: (message: InboundMessage) => void,
  ): Promise<SourceHandle> {
    const client = this.client;
    if (!client) throw notConnected({ detail: 'the MQTT client is not connected' });
    const qos = Math.min(2, Math.max(0, source.qos)) as 0 | 1 | 2;
    const subscription: Subscription = { filter: address, qos, deliver, paused: false, pending: [] };
    this.subscriptions.push(subscription);
    this.replayEarly(subscription);
    // Beyond Ditto (MQTT 5): several clients share the load of a filter ([MQTT-4.8.2]).
    const filter =
      this.version === 5 && this.context.shared
        ? `$share/${this.config.sharedSubscriptionGroup}/${address}`
        : address;
    const granted = await client.subscribeAsync(filter, { qos });
    if (granted.some((g) => g.qos === 128 || g.qos > 2))
      throw new RefusedError(`the broker refused the subscription to '${address}'`);
    return {
      pause: () => {
        subscription.paused = true;
      },
      resume: () => {
        subscription.paused = false;
        const pending = subscription.pending.splice(0);
        for (const p of pending) p();
      },
    };
  }

  async createTarget(target: Target): Promise<TargetHandle> {
    return {
      write: async (message: OutboundMessage) => {
        const client = this.publisher ?? this.client;
        if (!client || !client.connected) throw notConnected({ detail: 'the MQTT client is not connected' });
        const h = message.headers;
        const topic = h['mqtt.topic'] ?? message.address;
        const qos = (h['mqtt.qos'] !== undefined ? Number(h['mqtt.qos']) : target.qos) as 0 | 1 | 2;
        const options: IClientPublishOptions = {
          qos: qos === 1 || qos === 2 ? qos : 0,
          retain: h['mqtt.retain'] === 'true',
        };
        if (this.version === 5) {
          const userProperties: Record<string, string> = {};
          for (const [k, v] of Object.entries(h)) if (!PROPERTY_HEADERS.has(k)) userProperties[k] = v;
          // An empty user property list breaks the PUBLISH with MQTT.js 5 / Mosquitto: only set when present.
          options.properties = Object.keys(userProperties).length > 0 ? { userProperties } : {};
          if (h['correlation-id'] !== undefined)
            options.properties.correlationData = Buffer.from(h['correlation-id']);
          if (h['reply-to'] !== undefined) options.properties.responseTopic = h['reply-to'];
          const contentType = h['content-type'] ?? message.contentType;
          if (contentType !== undefined) options.properties.contentType = contentType;
        }
        corkUntil(socketOf(client), 'tick');
        await client.publishAsync(topic, message.payload, options);
      },
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.held = [];
    this.unsent.clear();
    this.early = [];
    clearTimeout(this.earlyTimer);
    clearTimeout(this.redeliveryTimer);
    for (const s of this.subscriptions) s.pending.splice(0);
    const clients = [this.client, this.publisher].filter((c): c is MqttClient => c !== undefined);
    this.client = undefined;
    this.publisher = undefined;
    // Held acknowledgements are never sent (the broker redelivers those messages). A connected client ends
    // with DISCONNECT so the broker does not publish the last will [MQTT-3.14.4-3]; bounded by a timeout.
    await Promise.all(
      clients.map(async (c) => {
        if (!c.connected) return c.endAsync(true);
        const timer = setTimeout(() => c.end(true), 2000);
        try {
          await c.endAsync(false);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}

/** The socket under an MQTT.js client (public `stream`; packets written in one tick leave in one system call). */
function socketOf(
  client: MqttClient,
): (CorkableStream & { setNoDelay?: (noDelay: boolean) => void }) | undefined {
  return client.stream as unknown as
    (CorkableStream & { setNoDelay?: (noDelay: boolean) => void }) | undefined;
}

/**
 * CONNACK refusals do not heal by retrying, except "server unavailable" (MQTT 3.1.1: 3; MQTT 5: 136) and
 * "server busy" (137). MQTT.js gives the return / reason code as the error's numeric `code`.
 */
function connackRefused(err: Error): boolean {
  const code = (err as Error & { code?: number | string }).code;
  return typeof code === 'number' && code !== 3 && code !== 136 && code !== 137;
}
