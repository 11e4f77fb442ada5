/**
 * The MQTT connectors (ditto-interfaces.md §11.6): `mqtt` (MQTT 3.1.1) and `mqtt-5`, over MQTT.js.
 * Source addresses are topic filters, target addresses topics (placeholders allowed, no wildcards).
 * MQTT 3.1.1 allows one client and one consumer and carries no application headers (§14.13); MQTT 5 maps
 * user properties, correlation data, response topic and content type to headers and, beyond Ditto, lets
 * clientCount > 1 split a filter's load with shared subscriptions.
 */
import { defineConnector, type ConnectorDefinition } from '../../src/connectivity/index.js';
import type { Connection } from '../../src/connectivity/model.js';
import { connectionConfigurationInvalid } from '../../src/errors/connectivity.js';
import { MqttConnectorClient } from './client.js';
import { mqttConfigSchema, parseMqttConfig, type MqttConfig } from './config.js';
import { hasWildcard } from './topic.js';

const SCHEMES = ['tcp:', 'ssl:', 'mqtt:', 'mqtts:', 'ws:', 'wss:'];
const MQTT3_HEADERS = new Set(['mqtt.topic', 'mqtt.qos', 'mqtt.retain']);
/** The in-flight window announced to MQTT 5 brokers (Receive Maximum). */
const RECEIVE_MAXIMUM = 1000;

const invalid = (detail: string) => connectionConfigurationInvalid({ detail });

function validate(version: 4 | 5, connection: Connection): void {
  if (!SCHEMES.includes(connection.uri.protocol)) {
    throw invalid(
      `the field '/uri' must use one of the schemes ${SCHEMES.map((s) => s.slice(0, -1)).join(', ')} for MQTT`,
    );
  }
  for (const source of connection.sources) {
    const raw = connection.json.sources?.[source.index] ?? {};
    if (raw.qos === undefined)
      throw invalid(`the field '/sources/${source.index}/qos' is required for MQTT sources`);
    for (const [i, address] of source.addresses.entries()) {
      const levels = address.split('/');
      if (
        levels.some(
          (l, k) =>
            (l.includes('#') && (l !== '#' || k !== levels.length - 1)) || (l.includes('+') && l !== '+'),
        )
      ) {
        throw invalid(`the field '/sources/${source.index}/addresses/${i}' is not a valid MQTT topic filter`);
      }
    }
  }
  for (const target of connection.targets) {
    const raw = connection.json.targets?.[target.index] ?? {};
    if (raw.qos === undefined)
      throw invalid(`the field '/targets/${target.index}/qos' is required for MQTT targets`);
    const literal = target.address.replace(/\{\{[^}]*\}\}/g, '');
    if (hasWildcard(literal))
      throw invalid(`the field '/targets/${target.index}/address' must not contain MQTT wildcards`);
    if (version === 4) {
      for (const { name } of target.headerMapping) {
        if (!MQTT3_HEADERS.has(name))
          throw invalid(
            `the field '/targets/${target.index}/headerMapping/${name}': MQTT 3.1.1 only supports mqtt.topic, mqtt.qos and mqtt.retain`,
          );
      }
    }
  }
}

function mqttConnector(type: 'mqtt' | 'mqtt-5', version: 4 | 5): ConnectorDefinition<MqttConfig> {
  return defineConnector<MqttConfig>({
    type,
    configSchema: mqttConfigSchema as unknown as Record<string, unknown>,
    capabilities: {
      sources: true,
      targets: true,
      // ditto: §14.13 MQTT 3.1.1 rejects clientCount > 1 (every client would receive every message).
      maxClientCount: version === 4 ? 1 : 9,
      maxConsumerCount: 1,
      consumerGroups: version === 5,
      applicationHeaders: version === 5,
      redeliveryOnNack: false,
      brokerRestart: true,
      binaryPayloadAsText: true,
    },
    inboundPayload: [
      'Mapping scripts get every payload in both forms: `bytePayload`, and `textPayload` decoded as UTF-8, with',
      'U+FFFD for what is not UTF-8. MQTT 3.1.1 has no content type, so a binary frame arrives as text too; the',
      'MQTT 5 content type (`content-type` header) changes neither form nor charset. This is what Ditto does',
      '(`MqttPublishToExternalMessageTransformer`: text as UTF-8 and bytes for every PUBLISH).',
    ].join('\n'),
    validate: (connection) => validate(version, connection),
    parseConfig: (connection) => parseMqttConfig(connection.id, connection.specificConfig),
    createClient: (context) => new MqttConnectorClient(context, version, RECEIVE_MAXIMUM),
  });
}

export const mqtt = mqttConnector('mqtt', 4);
export const mqtt5 = mqttConnector('mqtt-5', 5);
