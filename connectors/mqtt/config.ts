/**
 * `specificConfig` of MQTT connections (ditto-interfaces.md §11.6), as a JSON schema (STYLE lesson 3: one
 * schema drives API validation, lint messages and the generated README). All values are strings (§11.1).
 */
import { DURATION_PATTERN, parseDuration } from '../../src/util/duration.js';

export const mqttConfigSchema = {
  type: 'object',
  additionalProperties: false,
  // Header names an MQTT 3.1.1 message carries (§11.6); read by connection validation.
  'x-headers': ['mqtt.topic', 'mqtt.qos', 'mqtt.retain'],
  properties: {
    clientId: {
      type: 'string',
      minLength: 1,
      description:
        'MQTT client identifier; default: the connection ID. With clientCount > 1 the client index is appended.',
    },
    cleanSession: {
      enum: ['true', 'false'],
      description:
        'Clean session (MQTT 5: clean start); default false so the broker keeps the session and redelivers unacknowledged messages.',
    },
    reconnectForRedelivery: {
      enum: ['true', 'false'],
      description:
        'Reconnect when a message needs redelivery (a retriable failure) so the broker redelivers it; default false (the message is acknowledged).',
    },
    reconnectForRedeliveryDelay: {
      type: 'string',
      pattern: DURATION_PATTERN,
      description: 'Wait before such a reconnect (a duration); default 2s, at least 1s.',
    },
    separatePublisherClient: {
      enum: ['true', 'false'],
      description: 'Publish with a second client (`publisherId`); default false.',
    },
    publisherId: {
      type: 'string',
      minLength: 1,
      description: 'Client identifier of the publisher client; default clientId + "p".',
    },
    keepAlive: {
      type: 'string',
      pattern: DURATION_PATTERN,
      description: 'Keep-alive interval (a duration); default 60s, at most 65535s.',
    },
    lastWillTopic: {
      type: 'string',
      minLength: 1,
      description: 'Topic of the last will; setting it enables the last will.',
    },
    lastWillQos: { enum: ['0', '1', '2'], description: 'QoS of the last will; default 0.' },
    lastWillRetain: { enum: ['true', 'false'], description: 'Retain flag of the last will; default false.' },
    lastWillMessage: { type: 'string', description: 'Payload of the last will; default empty.' },
    sharedSubscriptionGroup: {
      type: 'string',
      pattern: '^[^/+#]+$',
      description:
        'Beyond Ditto (MQTT 5): the shared subscription group used when clientCount > 1 (`$share/<group>/<filter>`); default the connection ID.',
    },
  },
} as const;

export interface MqttConfig {
  clientId: string;
  cleanSession: boolean;
  reconnectForRedelivery: boolean;
  reconnectForRedeliveryDelayMs: number;
  separatePublisherClient: boolean;
  publisherId: string;
  keepAliveSeconds: number;
  lastWill?: { topic: string; qos: 0 | 1 | 2; retain: boolean; payload: string };
  sharedSubscriptionGroup: string;
}

/** [MQTT-3.1.2-10] the Keep Alive is a two-byte number of seconds. */
const MAX_KEEP_ALIVE_S = 65_535;

export function parseMqttConfig(connectionId: string, c: Record<string, string>): MqttConfig {
  const clientId = c.clientId ?? connectionId;
  return {
    clientId,
    cleanSession: c.cleanSession === 'true',
    reconnectForRedelivery: c.reconnectForRedelivery === 'true',
    reconnectForRedeliveryDelayMs: Math.max(
      1000,
      c.reconnectForRedeliveryDelay === undefined ? 2000 : parseDuration(c.reconnectForRedeliveryDelay),
    ),
    separatePublisherClient: c.separatePublisherClient === 'true',
    publisherId: c.publisherId ?? `${clientId}p`,
    keepAliveSeconds: Math.min(
      MAX_KEEP_ALIVE_S,
      Math.max(1, Math.round((c.keepAlive === undefined ? 60_000 : parseDuration(c.keepAlive)) / 1000)),
    ),
    lastWill:
      c.lastWillTopic === undefined
        ? undefined
        : {
            topic: c.lastWillTopic,
            qos: Number(c.lastWillQos ?? '0') as 0 | 1 | 2,
            retain: c.lastWillRetain === 'true',
            payload: c.lastWillMessage ?? '',
          },
    sharedSubscriptionGroup: c.sharedSubscriptionGroup ?? connectionId.replace(/[/+#]/g, '_'),
  };
}
