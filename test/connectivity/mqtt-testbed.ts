/**
 * The set-up of the MQTT end-to-end test files: the local Mosquitto kept up for the file, a test driver on
 * it and an in-process Twinbridge. Call at the top of a file; the fields are set before its tests run.
 */
import { afterAll, beforeAll } from 'vitest';
import { getBroker, keepBrokersUp, type BrokerEndpoint } from '../brokers/index.js';
import { createMqttDriver, type MqttDriver } from '../drivers/mqtt.js';
import { startTestService, type TestService } from '../helpers/app.js';

export interface MqttTestbed {
  service: TestService;
  broker: BrokerEndpoint;
  driver: MqttDriver;
}

export function mqttTestbed(): MqttTestbed {
  const bed = {} as MqttTestbed;
  keepBrokersUp('mqtt');
  beforeAll(async () => {
    bed.broker = await getBroker('mqtt');
    bed.driver = createMqttDriver(bed.broker);
    bed.service = await startTestService();
  });
  afterAll(async () => {
    await bed.driver?.close();
    await bed.service?.close();
  });
  return bed;
}
