/**
 * WebSocket text control messages (ditto-interfaces.md §5, §14.8): plain text matched by prefix, with
 * `?k=v&…` parameters (split at the first `?`, then at `&` and the first `=`, URL-decoded as Ditto's
 * URLDecoder does, `+` being a space). START/STOP messages are answered `<MESSAGE>:ACK`.
 */
import type { StreamKind } from '../../streaming/subscription.js';

export type ControlMessage =
  | { type: 'start' | 'stop'; kind: StreamKind; name: string; params: Record<string, string> }
  | { type: 'jwt'; token: string };

const KINDS: Record<string, StreamKind> = {
  EVENTS: 'events',
  MESSAGES: 'messages',
  'LIVE-COMMANDS': 'live-commands',
  'LIVE-EVENTS': 'live-events',
  'POLICY-ANNOUNCEMENTS': 'policy-announcements',
};

/** The control message of a frame, or undefined when the frame is not one (then it is Ditto Protocol). */
export function parseControlMessage(text: string): ControlMessage | undefined {
  const q = text.indexOf('?');
  const name = (q < 0 ? text : text.slice(0, q)).trim();
  const params = q < 0 ? {} : parseParams(text.slice(q + 1));
  if (name === 'JWT-TOKEN') return { type: 'jwt', token: params.jwtToken ?? '' };
  const m = /^(START|STOP)-SEND-([A-Z-]+)$/.exec(name);
  if (!m) return undefined;
  const kind = KINDS[m[2]];
  if (kind === undefined) return undefined;
  return { type: m[1] === 'START' ? 'start' : 'stop', kind, name, params };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s; // not valid percent-encoding: taken literally
  }
}

function parseParams(query: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    params[key] = eq < 0 ? '' : decode(pair.slice(eq + 1));
  }
  return params;
}
