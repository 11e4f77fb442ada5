/**
 * What the connectors use of broker libraries below their public API, each kept in one adapter module
 * (connectors/<type>/internals.ts). These tests fail when a library release changes it underneath.
 */
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import amqplib from 'amqplib';
import { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { socketOf } from '../../connectors/amqp-091/internals.js';
import { holdAckPackets } from '../../connectors/mqtt/internals.js';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import { waitFor } from './helpers.js';

/** An MQTT.js client on an in-memory wire: what it writes is collected, what the test pushes it reads. */
function wiredClient(): { client: MqttClient; wire: Duplex; written: () => Buffer } {
  const chunks: Buffer[] = [];
  const wire = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const client = new MqttClient(() => wire as never, {
    protocolVersion: 4,
    clientId: 'internals',
    reconnectPeriod: 0,
    keepalive: 0,
  });
  return { client, wire, written: () => Buffer.concat(chunks) };
}

/** A QoS 1 PUBLISH of `payload` to topic `t` with packet id `id` (MQTT 3.1.1 §3.3). */
function publishPacket(id: number, payload: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x00, 0x01]),
    Buffer.from('t'),
    Buffer.from([id >> 8, id & 0xff]),
    Buffer.from(payload),
  ]);
  return Buffer.concat([Buffer.from([0x32, body.length]), body]);
}

const pubackOf = (id: number) => Buffer.from([0x40, 0x02, id >> 8, id & 0xff]);

describe('MQTT.js: the packet writer (connectors/mqtt/internals.ts)', () => {
  it('holds the PUBACK of a QoS 1 message until it is released, and lets one through that is not held', async () => {
    const { client, wire, written } = wiredClient();
    const held: Array<{ id: number; send: () => void }> = [];
    holdAckPackets(client, (id, send, done) => {
      if (id === 9) return false;
      held.push({ id, send });
      done();
      return true;
    });
    client.options.customHandleAcks = (_topic, _payload, _packet, done) => done(0);
    wire.push(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNACK, accepted
    await new Promise((resolve) => client.once('connect', resolve));
    wire.push(publishPacket(7, 'held'));
    await waitFor(() => held.length === 1, 'the PUBACK offered to hold');
    expect(held[0].id).toBe(7);
    // MQTT.js goes on reading: the next message is processed while the first one's PUBACK is held.
    wire.push(publishPacket(9, 'not held'));
    await waitFor(() => written().includes(pubackOf(9)), 'the PUBACK that is not held');
    expect(written().includes(pubackOf(7))).toBe(false);
    held[0].send();
    await waitFor(() => written().includes(pubackOf(7)), 'the released PUBACK');
    client.end(true);
  });

  it('exposes the stream it writes to as `stream` (corked per tick, TCP_NODELAY)', () => {
    const { client, wire } = wiredClient();
    expect(client.stream).toBe(wire);
    client.end(true);
  });
});

describe('amqplib: the socket under a connection (connectors/amqp-091/internals.ts)', () => {
  keepBrokersUp('amqp091');

  it('is reached from the connection model and from a channel', async () => {
    const model = await amqplib.connect((await getBroker('amqp091')).url);
    try {
      const channel = await model.createChannel();
      const socket = socketOf(model);
      expect(socket).toBeInstanceOf(Socket);
      expect(socketOf(channel)).toBe(socket);
    } finally {
      await model.close();
    }
  });
});
