/* global Ditto */
/* eslint-disable @typescript-eslint/no-unused-vars */
// Device replies -> live message responses (incomingScript). The device answers a command (see outgoing.js)
// with {"ok":true,"result":...} or {"ok":false,"error":"..."} and echoes the headers correlation-id, thing-id
// and subject. The response is a Ditto Protocol live message with a status: 200 with the result, or 500 with
// {"error": ...}; Ditto routes it to the waiting sender by correlation-id.
function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  var reply = JSON.parse(textPayload);
  var thingId = headers['thing-id'];
  var subject = headers['subject'];
  if (!thingId || !subject || !headers['correlation-id']) {
    throw new Error('a reply needs the headers thing-id, subject and correlation-id');
  }
  var separator = thingId.indexOf(':');
  var responseHeaders = {
    'correlation-id': headers['correlation-id'],
    'content-type': 'application/json',
  };
  return Ditto.buildDittoProtocolMsg(
    thingId.substring(0, separator),
    thingId.substring(separator + 1),
    'things',
    'live',
    'messages',
    subject,
    '/outbox/messages/' + subject,
    responseHeaders,
    reply.ok ? reply.result : { error: reply.error },
    reply.ok ? 200 : 500,
  );
}
