/**
 * The built-in connectors. Adding one = its folder under connectors/ + one line here; only src/main.ts (and
 * tests) hand this list to the runtime.
 */
import type { AnyConnector } from '../src/connectivity/index.js';
import { amqp091 } from './amqp-091/index.js';
import { amqp10 } from './amqp-10/index.js';
import { httpPush } from './http-push/index.js';
import { kafka } from './kafka/index.js';
import { mqtt, mqtt5 } from './mqtt/index.js';

export const connectors: readonly AnyConnector[] = [mqtt, mqtt5, amqp091, amqp10, kafka, httpPush];
