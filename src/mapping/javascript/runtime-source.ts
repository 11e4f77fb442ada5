/**
 * JavaScript source text evaluated INSIDE the mapper's isolate (never in Node's own realm).
 *
 * Load order per mapper, as Ditto's (ditto-interfaces.md §12.2):
 *   RUNNER (returns the entry points to the host, puts nothing on the global object)
 *   → [long.js] → [bytebuffer.js] → DITTO_SCOPE (global `Ditto`) → DEFAULT_INCOMING → DEFAULT_OUTGOING
 *   → user incomingScript → user outgoingScript, all in one global scope.
 *
 * These sources are written for Twinbridge from the documented API; they are not Ditto's files.
 */

/**
 * The `Ditto` helper scope (ditto: connectivity-mapping#helper-functions). Declared with `let` like Ditto's,
 * so a user script cannot redeclare it but can read it from every function.
 */
export const DITTO_SCOPE = String.raw`
let Ditto = (function () {
  'use strict';
  function buildTopic(namespace, name, group, channel, criterion, action) {
    var channelPart = channel === 'none' ? '' : '/' + channel;
    return namespace + '/' + name + '/' + group + channelPart + '/' + criterion + '/' + action;
  }
  function buildDittoProtocolMsg(namespace, name, group, channel, criterion, action, path, dittoHeaders, value, status, extra) {
    return {
      topic: buildTopic(namespace, name, group, channel, criterion, action),
      path: path,
      headers: dittoHeaders,
      value: value,
      status: status,
      extra: extra
    };
  }
  function buildExternalMsg(headers, textPayload, bytePayload, contentType) {
    return { headers: headers, textPayload: textPayload, bytePayload: bytePayload, contentType: contentType };
  }
  // Each byte becomes one UTF-16 code unit 0..255 (Latin-1), as Ditto's helper does; chunked so that
  // large buffers do not exceed the engine's argument limit.
  function arrayBufferToString(arrayBuffer) {
    var bytes = new Uint8Array(arrayBuffer);
    var out = '';
    for (var i = 0; i < bytes.length; i += 8192) {
      out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    }
    return out;
  }
  // Each UTF-16 code unit becomes one byte (charCode & 0xFF).
  function stringToArrayBuffer(string) {
    var buffer = new ArrayBuffer(string.length);
    var view = new Uint8Array(buffer);
    for (var i = 0; i < string.length; i++) view[i] = string.charCodeAt(i);
    return buffer;
  }
  // Needs bytebuffer.js (option loadBytebufferJS); wraps a copy so the caller's buffer stays untouched.
  function asByteBuffer(arrayBuffer) {
    var copy = new ArrayBuffer(arrayBuffer.byteLength);
    new Uint8Array(copy).set(new Uint8Array(arrayBuffer));
    return dcodeIO.ByteBuffer.wrap(copy);
  }
  return {
    buildDittoProtocolMsg: buildDittoProtocolMsg,
    buildExternalMsg: buildExternalMsg,
    arrayBufferToString: arrayBufferToString,
    stringToArrayBuffer: stringToArrayBuffer,
    asByteBuffer: asByteBuffer
  };
})();
`;

/**
 * Default inbound functions. A user incomingScript normally redefines `mapToDittoProtocolMsg`; it may also
 * redefine the wrapper. The default mapping accepts Ditto Protocol JSON as text (Ditto content type) or as
 * bytes (application/octet-stream) and drops everything else, like Ditto's default script.
 */
export const DEFAULT_INCOMING = String.raw`
function mapToDittoProtocolMsg(headers, textPayload, bytePayload, contentType) {
  if (contentType === 'application/vnd.eclipse.ditto+json') return JSON.parse(textPayload);
  if (contentType === 'application/octet-stream') {
    try {
      return JSON.parse(Ditto.arrayBufferToString(bytePayload));
    } catch (e) {
      return null;
    }
  }
  return null;
}
function mapToDittoProtocolMsgWrapper(externalMsg) {
  return mapToDittoProtocolMsg(externalMsg.headers, externalMsg.textPayload, externalMsg.bytePayload, externalMsg.contentType);
}
`;

/**
 * Default outbound functions: the wrapper splits the topic (only the group "things" has a channel, else
 * channel 'none'; the action is the topic segment after the criterion, as in Ditto) and the default mapping
 * sends the Ditto Protocol JSON as text.
 */
export const DEFAULT_OUTGOING = String.raw`
function mapFromDittoProtocolMsg(namespace, name, group, channel, criterion, action, path, dittoHeaders, value, status, extra) {
  var textPayload = JSON.stringify(Ditto.buildDittoProtocolMsg(namespace, name, group, channel, criterion, action, path, dittoHeaders, value, status, extra));
  return Ditto.buildExternalMsg(dittoHeaders, textPayload, null, 'application/vnd.eclipse.ditto+json');
}
function hasChannel(group) {
  return group === 'things';
}
function mapFromDittoProtocolMsgWrapper(dittoProtocolMsg) {
  var parts = dittoProtocolMsg.topic.split('/');
  var withChannel = hasChannel(parts[2]);
  return mapFromDittoProtocolMsg(
    parts[0], parts[1], parts[2],
    withChannel ? parts[3] : 'none',
    withChannel ? parts[4] : parts[3],
    withChannel ? parts[5] : parts[4],
    dittoProtocolMsg.path, dittoProtocolMsg.headers, dittoProtocolMsg.value, dittoProtocolMsg.status, dittoProtocolMsg.extra);
}
`;

/**
 * The batch runner. Evaluated first, as an expression whose value (an object with `run` and `progress`) is
 * handed to the host as a reference; nothing of it is reachable from user code except through the global
 * wrapper functions it calls. It removes the globals that could block the thread (Atomics.wait) or share
 * memory (SharedArrayBuffer, WebAssembly shared memories).
 *
 * Wire format (host ↔ isolate, all JSON strings plus copied ArrayBuffers):
 *   run('in', '[{"h":{..},"t":"text"|absent,"b":true|absent,"c":"type"|absent}, ...]', [ArrayBuffer|null, ...])
 *   run('out', '[<Ditto Protocol message>, ...]', null)
 *   → [count, '<piece>,<piece>,...', [ArrayBuffer, ...]] where each piece is
 *     {"r":[<result>, ...]} (inbound results are the script's objects, JSON.stringify-ed;
 *      outbound results are {"h":{k:"v"},"t":"text"|"b":<index into the returned buffers>,"c":"type"})
 *     or {"e":"reason","l":<line>|absent}.
 *   progress() → the same triple for the messages completed so far (read after a timeout).
 */
export const RUNNER = String.raw`
(function (g, maxResults, maxOutputChars) {
  'use strict';
  delete g.SharedArrayBuffer;
  delete g.Atomics;
  delete g.WebAssembly;

  var parse = JSON.parse;
  var stringify = JSON.stringify;
  var isArray = Array.isArray;
  var isView = ArrayBuffer.isView;
  var keysOf = Object.keys;
  var toStr = String;
  var AB = ArrayBuffer;
  var U8 = Uint8Array;
  var lineRe = /(incomingScript|outgoingScript):(\d+)(?::\d+)?/;

  // Progress of the current call; one property store per completed message, so a call that is
  // terminated between two messages leaves a consistent record.
  var pieces = Object.create(null);
  var buffers = [];

  function LimitError(message) { this.message = message; }

  function describe(e) {
    var reason, line;
    try {
      if (e instanceof LimitError) return stringify({ e: e.message });
      if (e !== null && typeof e === 'object' && typeof e.message === 'string') {
        reason = (typeof e.name === 'string' ? e.name + ': ' : '') + e.message;
        var m = typeof e.stack === 'string' ? lineRe.exec(e.stack) : null;
        if (m) line = +m[2];
      } else {
        reason = 'the script threw ' + toStr(e);
      }
    } catch (inner) {
      reason = 'the script threw a value that cannot be described';
    }
    if (reason.length > 1000) reason = reason.slice(0, 1000) + '…';
    return stringify(line === undefined ? { e: reason } : { e: reason, l: line });
  }

  function checkCount(n) {
    if (n > maxResults) throw new LimitError('the script returned ' + n + ' messages, at most ' + maxResults + ' are allowed per message');
  }
  function checkSize(out) {
    if (out.length > maxOutputChars) throw new LimitError('the mapped output exceeds ' + maxOutputChars + ' characters');
  }

  function inboundResult(x) {
    var s = stringify(x);
    if (typeof s !== 'string') throw new LimitError('a mapped message must be an object, got ' + typeof x);
    return s;
  }

  function headerValue(v) {
    if (typeof v === 'string') return v;
    if (v === undefined || v === null) return 'null';
    var s = stringify(v);
    return typeof s === 'string' ? s : toStr(v);
  }

  function toBytes(b) {
    if (b instanceof AB) return b.slice(0);
    if (isView(b)) return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    if (isArray(b)) {
      var copy = new U8(b.length);
      for (var i = 0; i < b.length; i++) copy[i] = b[i] & 0xff;
      return copy.buffer;
    }
    return null;
  }

  function outboundResult(x) {
    if (x === null || typeof x !== 'object') throw new LimitError('a mapped external message must be an object, got ' + (x === null ? 'null' : typeof x));
    var headers = {};
    var hs = x.headers;
    if (hs !== null && typeof hs === 'object') {
      var ks = keysOf(hs);
      for (var i = 0; i < ks.length; i++) headers[ks[i]] = headerValue(hs[ks[i]]);
    }
    var out = { h: headers };
    var bytes = toBytes(x.bytePayload);
    if (bytes !== null) {
      out.b = buffers.length;
      buffers[buffers.length] = bytes;
    } else if (typeof x.textPayload === 'string') {
      out.t = x.textPayload;
    } else {
      throw new LimitError('neither <bytePayload> nor <textPayload> were defined in the outgoing script');
    }
    if (typeof x.contentType === 'string') out.c = x.contentType;
    return stringify(out);
  }

  function mapOne(direction, message, bytes) {
    var result;
    if (direction === 'in') {
      result = mapToDittoProtocolMsgWrapper({
        headers: message.h,
        textPayload: message.t === undefined ? null : message.t,
        bytePayload: message.b ? bytes : null,
        contentType: message.c
      });
    } else {
      result = mapFromDittoProtocolMsgWrapper(message);
    }
    var convert = direction === 'in' ? inboundResult : outboundResult;
    if (result === null || result === undefined) return '{"r":[]}';
    var out = '{"r":[';
    if (isArray(result)) {
      var n = result.length;
      checkCount(n);
      for (var i = 0; i < n; i++) {
        out += (i === 0 ? '' : ',') + convert(result[i]);
        checkSize(out);
      }
    } else {
      out += convert(result);
      checkSize(out);
    }
    return out + ']}';
  }

  function collect() {
    var joined = '';
    var n = 0;
    while (pieces[n] !== undefined) {
      joined += (n === 0 ? '' : ',') + pieces[n];
      n++;
    }
    return [n, joined, buffers];
  }

  function run(direction, batchJson, bytesList) {
    pieces = Object.create(null);
    buffers = [];
    var batch = parse(batchJson);
    for (var i = 0; i < batch.length; i++) {
      var piece;
      try {
        piece = mapOne(direction, batch[i], bytesList ? bytesList[i] : null);
      } catch (e) {
        piece = describe(e);
      }
      pieces[i] = piece;
    }
    return collect();
  }

  return { run: run, progress: collect };
})
`;
