/* global Ditto */
/* eslint-disable @typescript-eslint/no-unused-vars */
// Binary sensor frame -> feature property update (incomingScript; needs option loadBytebufferJS: "true").
// Frame layout, big endian, 14 bytes:
//   0  u8   version (must be 1)
//   1  u8   flags (bit 0: battery low)
//   2  i16  temperature in 1/100 °C
//   4  u16  relative humidity in 1/10 %
//   6  u32  uptime in seconds
//   10 f32  supply voltage in V
// The thing id comes from the header "device-id" (e.g. set by the broker or a header mapping).
function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  if (bytePayload === null) {
    return null;
  }
  var frame = Ditto.asByteBuffer(bytePayload);
  var version = frame.readUint8(0);
  if (version !== 1) {
    throw new Error('unsupported frame version ' + version);
  }
  var flags = frame.readUint8(1);
  var properties = {
    temperature: frame.readInt16(2) / 100,
    humidity: frame.readUint16(4) / 10,
    uptime: frame.readUint32(6),
    voltage: Math.round(frame.readFloat32(10) * 1000) / 1000,
    batteryLow: (flags & 1) === 1,
  };
  var thingId = headers['device-id'];
  var separator = thingId.indexOf(':');
  return Ditto.buildDittoProtocolMsg(
    thingId.substring(0, separator),
    thingId.substring(separator + 1),
    'things',
    'twin',
    'commands',
    'modify',
    '/features/sensor/properties',
    { 'correlation-id': headers['correlation-id'], 'response-required': false },
    properties,
  );
}
