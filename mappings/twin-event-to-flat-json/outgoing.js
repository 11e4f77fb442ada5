/* global Ditto */
/* eslint-disable @typescript-eslint/no-unused-vars */
// Twin events -> flat JSON for a backend (outgoingScript).
// Only twin events (created/modified/merged/deleted) are published; commands, responses, live messages and
// other groups are dropped. One flat record per event:
//   {"thingId","path","action","value","revision","timestamp"}
function mapFromDittoProtocolMsgWrapper(dittoProtocolMsg) {
  var parts = dittoProtocolMsg.topic.split('/');
  if (parts[2] !== 'things' || parts[3] !== 'twin' || parts[4] !== 'events') {
    return null;
  }
  var record = {
    thingId: parts[0] + ':' + parts[1],
    path: dittoProtocolMsg.path,
    action: parts[5],
    value: dittoProtocolMsg.value === undefined ? null : dittoProtocolMsg.value,
    revision: dittoProtocolMsg.revision,
    timestamp: dittoProtocolMsg.timestamp,
  };
  var headers = {
    'correlation-id': dittoProtocolMsg.headers['correlation-id'],
    'thing-id': record.thingId,
    revision: record.revision,
  };
  return Ditto.buildExternalMsg(headers, JSON.stringify(record), null, 'application/json');
}
