/* global Ditto */
/* eslint-disable @typescript-eslint/no-unused-vars */
// JSON telemetry -> one "modify" of a feature's properties (Twinbridge / Ditto JavaScript mapper, incomingScript).
// Payload: {"deviceId":"<namespace>:<name>","temperature":21.5,"humidity":40,"ts":1700000000000}
// Messages without a deviceId are dropped (null); unparsable payloads fail the message.
function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  var data = JSON.parse(textPayload);
  if (!data.deviceId) {
    return null;
  }
  var separator = data.deviceId.indexOf(':');
  var namespace = data.deviceId.substring(0, separator);
  var name = data.deviceId.substring(separator + 1);
  var dittoHeaders = {
    'correlation-id': headers['correlation-id'],
    'response-required': false,
  };
  var properties = {
    temperature: data.temperature,
    humidity: data.humidity,
    measuredAt: new Date(data.ts).toISOString(),
  };
  return Ditto.buildDittoProtocolMsg(
    namespace,
    name,
    'things',
    'twin',
    'commands',
    'modify',
    '/features/environment/properties',
    dittoHeaders,
    properties,
  );
}
