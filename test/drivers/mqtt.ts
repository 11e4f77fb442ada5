// Test driver for an MQTT broker, through MQTT.js. MQTT has no topic creation: topics exist as soon
// as someone publishes or subscribes. Each publish uses a short-lived connection, so a publish after
// a broker restart needs no reconnect logic; each subscription owns one connection.
import mqtt, { type IClientOptions, type IClientPublishOptions } from 'mqtt';
import { randomUUID } from 'node:crypto';
import type { BrokerEndpoint } from '../brokers/index.js';
import { brokerControl, type BrokerControl } from './control.js';
import { createSubscription, type Subscription } from './subscription.js';

export type QoS = 0 | 1 | 2;

export interface MqttMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 user properties, when the connection speaks MQTT 5. */
  userProperties?: Record<string, string | string[]>;
}

export interface MqttDriverOptions {
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
}

export interface MqttSubscribeOptions {
  qos?: QoS;
  /** Fixed client id, e.g. to resume a persistent session (with clean: false). */
  clientId?: string;
  /** Clean session / clean start (default true). */
  clean?: boolean;
}

export interface MqttDriver extends BrokerControl {
  /** Publishes one message; with QoS 1 or 2 resolves after the broker acknowledged it. */
  publish(topic: string, payload: string | Buffer, options?: IClientPublishOptions): Promise<void>;
  /** Subscribes to a topic filter; resolves once the broker granted the subscription (SUBACK). */
  subscribe(filter: string, options?: MqttSubscribeOptions): Promise<Subscription<MqttMessage>>;
  /** Closes every subscription this driver opened. */
  close(): Promise<void>;
}

export function createMqttDriver(endpoint: BrokerEndpoint, options: MqttDriverOptions = {}): MqttDriver {
  const open = new Set<Subscription<MqttMessage>>();
  const clientOptions = (extra: IClientOptions = {}): IClientOptions => ({
    protocolVersion: options.protocolVersion ?? 4,
    clientId: `twinbridge-test-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0, // a lost connection fails the subscription instead of hiding the outage
    connectTimeout: 10_000,
    ...extra,
  });
  const connect = (extra: IClientOptions = {}) =>
    mqtt.connectAsync(endpoint.url, clientOptions(extra), false);

  return {
    ...brokerControl(endpoint),

    async publish(topic, payload, publishOptions = { qos: 1 }) {
      const client = await connect();
      try {
        await client.publishAsync(topic, payload, publishOptions);
      } finally {
        await client.endAsync();
      }
    },

    async subscribe(filter, subscribeOptions = {}) {
      // Listeners go on before CONNACK: a resumed session's queued messages may arrive in the same
      // read as the CONNACK.
      const client = mqtt.connect(
        endpoint.url,
        clientOptions({
          clean: subscribeOptions.clean ?? true,
          ...(subscribeOptions.clientId ? { clientId: subscribeOptions.clientId } : {}),
        }),
      );
      const sink = createSubscription<MqttMessage>(async () => {
        open.delete(sink.subscription);
        await client.endAsync();
      });
      client.on('message', (topic, payload, packet) => {
        sink.push({
          topic,
          payload,
          qos: packet.qos,
          retain: packet.retain,
          userProperties: packet.properties?.userProperties,
        });
      });
      client.on('error', (error) => sink.fail(error));
      client.on('close', () => sink.fail(new Error('MQTT connection closed')));
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () =>
          reject(new Error(`MQTT connection to ${endpoint.url} closed before CONNACK`)),
        );
      });
      const granted = await client.subscribeAsync(filter, { qos: subscribeOptions.qos ?? 1 });
      if (granted.some((grant) => grant.qos === 128)) {
        await client.endAsync();
        throw new Error(`subscription to ${filter} refused by the broker`);
      }
      open.add(sink.subscription);
      return sink.subscription;
    },

    async close() {
      await Promise.all([...open].map((subscription) => subscription.close()));
    },
  };
}
