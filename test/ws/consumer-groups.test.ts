/**
 * Consumer groups for WebSocket sessions (ditto-interfaces.md §15, docs/consumer-groups.md):
 * `START-SEND-EVENTS?group=<name>` shares the events among the members by consistent hashing of the thing
 * ID; sessions outside the group still get every event; when a member leaves mid-stream, the group still
 * sees every change exactly once.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.close();
});

interface Counter {
  socket: WebSocket;
  /** `thingId:revision` of every event received, in order. */
  seen: string[];
  byThing: Map<string, number>;
}

async function member(control: string): Promise<Counter> {
  const socket = new WebSocket(svc.url.replace('http', 'ws') + '/ws/2', {
    headers: { authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}` },
  });
  const counter: Counter = { socket, seen: [], byThing: new Map() };
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
  const acked = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const text = data.toString();
      if (text.endsWith(':ACK')) return resolve();
      const event = JSON.parse(text) as { topic: string; revision: number };
      const [ns, name] = event.topic.split('/');
      const thingId = `${ns}:${name}`;
      counter.seen.push(`${thingId}:${event.revision}`);
      counter.byThing.set(thingId, (counter.byThing.get(thingId) ?? 0) + 1);
    });
  });
  socket.send(control);
  await acked;
  return counter;
}

const auth = { subjects: ['nginx:ditto'] };
const ids = Array.from({ length: 300 }, (_, i) => `org.eclipse.ditto:group-${Date.now()}-${i}`);

/** `perThing` sequential changes on each of the 300 things (all things in parallel); `onChange` after each. */
async function changes(
  perThing: number,
  first: number,
  onChange: (done: number) => void = () => {},
): Promise<void> {
  let done = 0;
  await Promise.all(
    ids.map(async (thingId) => {
      for (let k = 0; k < perThing; k++) {
        const command =
          first + k === 0
            ? {
                thingId,
                channel: 'twin' as const,
                action: 'modify' as const,
                path: '/',
                value: { attributes: { n: 0 } },
                headers: {},
              }
            : {
                thingId,
                channel: 'twin' as const,
                action: 'modify' as const,
                path: '/attributes/n',
                value: first + k,
                headers: {},
              };
        await svc.services.things.execute(command, auth);
        onChange(++done);
      }
    }),
  );
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for deliveries');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectEachOnce(members: Counter[], expected: number): void {
  const all = members.flatMap((m) => m.seen);
  expect(all.length).toBe(expected);
  expect(new Set(all).size).toBe(expected);
}

it('gives each event to exactly one member, the same member per thing, and every event to outsiders', async () => {
  const group = await Promise.all([
    member('START-SEND-EVENTS?group=g1'),
    member('START-SEND-EVENTS?group=g1'),
    member('START-SEND-EVENTS?group=g1'),
  ]);
  const outsider = await member('START-SEND-EVENTS');

  await changes(10, 0); // 300 creations + 2,700 modifications
  await until(() => outsider.seen.length >= 3000 && group.reduce((s, m) => s + m.seen.length, 0) >= 3000);
  await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive

  expect(outsider.seen.length).toBe(3000);
  expect(new Set(outsider.seen).size).toBe(3000);
  expectEachOnce(group, 3000);
  for (const m of group) {
    const share = m.seen.length / 3000;
    expect(share).toBeGreaterThanOrEqual(0.2);
    expect(share).toBeLessThanOrEqual(0.47);
  }
  // Stable membership: all changes of one thing went to one member.
  const owners = new Map<string, number>();
  group.forEach((m, index) => {
    for (const thingId of m.byThing.keys()) {
      expect(owners.has(thingId)).toBe(false);
      owners.set(thingId, index);
    }
  });
  expect(owners.size).toBe(300);

  // A member leaves mid-stream: its share moves to the others and nothing is lost or repeated.
  for (const m of [...group, outsider]) m.seen.length = 0;
  let closing: Promise<void> | undefined;
  await changes(10, 10, (done) => {
    if (done === 1000)
      closing = new Promise(
        (resolve) => (group[0].socket.once('close', () => resolve()), group[0].socket.close()),
      );
  });
  await closing;
  await until(() => outsider.seen.length >= 3000 && group.reduce((s, m) => s + m.seen.length, 0) >= 3000);
  await new Promise((r) => setTimeout(r, 200));
  expect(outsider.seen.length).toBe(3000);
  expectEachOnce(group, 3000);
  expect(group[1].seen.length + group[2].seen.length).toBeGreaterThan(2000);

  for (const m of [...group, outsider]) m.socket.close();
});
