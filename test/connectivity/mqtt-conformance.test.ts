/** The connector conformance suite against Mosquitto, for `mqtt` (3.1.1) and `mqtt-5`. */
import mqtt, { type MqttClient } from 'mqtt';
import { mqtt as mqtt3Connector, mqtt5 as mqtt5Connector } from '../../connectors/mqtt/index.js';
import {
  connectorSuite,
  type ConnectorSuiteDriver,
  type ReceivedMessage,
} from '../conformance/connector.suite.js';
import { mqttConnection } from './helpers.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';

function mqttDriver(version: 4 | 5): ConnectorSuiteDriver {
  let broker: Mosquitto;
  let device: MqttClient | undefined;
  const deviceClient = async () =>
    (device ??= await mqtt.connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 200 }));
  return {
    name: version === 4 ? 'mqtt (Mosquitto)' : 'mqtt-5 (Mosquitto)',
    connector: version === 4 ? mqtt3Connector : mqtt5Connector,
    async start() {
      broker = await startMosquitto();
      return { uri: broker.url };
    },
    async stop() {
      await device?.endAsync(true);
      await broker?.stop();
    },
    connection: (prefix, uri, overrides = {}) =>
      mqttConnection({
        uri,
        prefix,
        type: version === 4 ? 'mqtt' : 'mqtt-5',
        source: overrides.source,
        target: overrides.target,
        extra: overrides.extra,
        specificConfig: { cleanSession: 'false' },
      }),
    sourceAddress: (prefix) => `${prefix}/telemetry/device`,
    async publish(address, payload, headers = {}) {
      const client = await deviceClient();
      // MQTT 5: the content type is its own property, other headers user properties; MQTT 3.1.1 carries none.
      const { 'content-type': contentType, ...userProperties } = headers;
      const properties =
        version === 5
          ? {
              ...(Object.keys(userProperties).length > 0 ? { userProperties } : {}),
              ...(contentType ? { contentType } : {}),
            }
          : {};
      await client.publishAsync(address, payload, {
        qos: 1,
        ...(Object.keys(properties).length > 0 ? { properties } : {}),
      });
    },
    async consume(prefix) {
      const client = await mqtt.connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 0 });
      const buffer: ReceivedMessage[] = [];
      const waiters: Array<(m: ReceivedMessage) => void> = [];
      client.on('message', (topic, payload, packet) => {
        const headers: Record<string, string> = {};
        const p = packet.properties;
        for (const [k, v] of Object.entries(p?.userProperties ?? {})) headers[k] = String(v);
        if (p?.correlationData) headers['correlation-id'] = Buffer.from(p.correlationData).toString();
        if (p?.contentType) headers['content-type'] = p.contentType;
        const m = { address: topic, payload, headers };
        const w = waiters.shift();
        if (w) w(m);
        else buffer.push(m);
      });
      await client.subscribeAsync(`${prefix}/events/#`, { qos: 1 });
      return {
        next: (timeoutMs = 10_000) =>
          buffer.length > 0
            ? Promise.resolve(buffer.shift()!)
            : new Promise<ReceivedMessage>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error('no message on the target')), timeoutMs);
                waiters.push((m) => {
                  clearTimeout(timer);
                  resolve(m);
                });
              }),
        close: () => client.endAsync(),
      };
    },
    stopBroker: () => broker.stop(),
    startBroker: () => broker.start(),
  };
}

connectorSuite(mqttDriver(4));
connectorSuite(mqttDriver(5));
