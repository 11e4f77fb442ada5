/* global Ditto */
/* eslint-disable @typescript-eslint/no-unused-vars */
// Live messages -> device commands (outgoingScript). A live message sent to a thing's inbox
// (topic <ns>/<name>/things/live/messages/<subject>) becomes {"command":<subject>,"args":<value>} with the
// correlation id and the thing id in headers, so the device's reply can be mapped back (see incoming.js).
// Everything else (twin traffic, responses, outbox messages) is dropped.
function mapFromDittoProtocolMsg(
  namespace,
  name,
  group,
  channel,
  criterion,
  action,
  path,
  dittoHeaders,
  value,
  status,
  extra,
) {
  if (
    channel !== 'live' ||
    criterion !== 'messages' ||
    status !== undefined ||
    path.indexOf('/inbox/') !== 0
  ) {
    return null;
  }
  var headers = {
    'correlation-id': dittoHeaders['correlation-id'],
    'thing-id': namespace + ':' + name,
    subject: action,
  };
  return Ditto.buildExternalMsg(
    headers,
    JSON.stringify({ command: action, args: value === undefined ? null : value }),
    null,
    'application/json',
  );
}
