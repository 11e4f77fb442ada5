/* global Ditto */
/* eslint-disable @typescript-eslint/no-unused-vars */
// CSV lines -> one property update per line (incomingScript).
// Each line: <namespace>:<name>;<feature>;<property>;<value>   e.g. "org.acme:pump-1;motor;rpm;1450"
// A header line starting with "thing" and blank lines are skipped; numbers and true/false are typed.
// Ditto forwards at most 10 messages per mapped payload, so a payload may carry at most 10 data lines.
function typed(text) {
  if (text === 'true' || text === 'false') {
    return text === 'true';
  }
  var number = Number(text);
  return text !== '' && !isNaN(number) ? number : text;
}

function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  var lines = textPayload.split(/\r?\n/);
  var messages = [];
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i].trim();
    if (line === '' || line.indexOf('thing') === 0) {
      continue;
    }
    var cells = line.split(';');
    if (cells.length !== 4) {
      throw new Error('line ' + (i + 1) + ' has ' + cells.length + ' cells, expected 4');
    }
    var separator = cells[0].indexOf(':');
    messages.push(
      Ditto.buildDittoProtocolMsg(
        cells[0].substring(0, separator),
        cells[0].substring(separator + 1),
        'things',
        'twin',
        'commands',
        'modify',
        '/features/' + cells[1] + '/properties/' + cells[2],
        { 'response-required': false },
        typed(cells[3]),
      ),
    );
  }
  return messages.length === 0 ? null : messages;
}
