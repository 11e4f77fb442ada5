/**
 * The one place that reaches into MQTT.js below its public API (checked by test/connectivity/library-internals.test.ts,
 * which fails when an MQTT.js release changes what is used here).
 *
 * MQTT.js sends the PUBACK (QoS 1) or PUBREC (QoS 2) of a received PUBLISH as soon as the `customHandleAcks`
 * handler calls back, and reads the next packet only after that. There is no public way to call back at
 * once yet send the acknowledgement later, which is what acknowledging after the durable twin write
 * without serialising all messages needs (client.ts). Every packet MQTT.js writes goes through its private
 * `MqttClient._sendPacket(packet, callback, ...)`; holdAckPackets wraps it.
 */
import type { MqttClient } from 'mqtt';

type PacketWriter = (
  packet: { cmd: string; messageId?: number },
  cb?: (err?: Error) => void,
  ...rest: unknown[]
) => void;

/**
 * Offers every PUBACK and PUBREC packet MQTT.js is about to send to `hold` first. `hold` returns false to let
 * it go out now; true when it keeps the packet: it then calls `done` (MQTT.js goes on reading) and `send`
 * once the packet may leave (in the order the broker must see, [MQTT-4.6.0-2]). Throws when MQTT.js has no
 * such writer (another major version): better no client than acknowledgements sent too early.
 */
export function holdAckPackets(
  client: MqttClient,
  hold: (messageId: number, send: () => void, done: () => void) => boolean,
): void {
  const internals = client as unknown as { _sendPacket?: PacketWriter };
  if (typeof internals._sendPacket !== 'function')
    throw new Error('MQTT.js has no MqttClient._sendPacket: connectors/mqtt/internals.ts needs updating');
  const original = internals._sendPacket.bind(client) as PacketWriter;
  internals._sendPacket = (packet, cb, ...rest) => {
    if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.messageId !== undefined) {
      const held = hold(
        packet.messageId,
        () => original(packet, undefined, ...rest),
        () => cb?.(),
      );
      if (held) return;
    }
    original(packet, cb, ...rest);
  };
}
