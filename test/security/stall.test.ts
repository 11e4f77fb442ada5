/**
 * Stall probes (issue 19 items 4, 5, 7): while an attack runs, `/health` and another user's GET keep
 * answering. The attacks are the inputs that used to block the event loop for seconds to forever: a like
 * pattern with many stars against 3,000 `a`s (search, count, condition, live-channel-condition, an event
 * filter), a catastrophic merge-patch deletion regex, RQL nested 5,000 deep (HTTP, WebSocket, SSE).
 *
 * On a loaded machine absolute latencies vary, so the bounds are relative and generous: each attack
 * request must finish (answered or rejected) within 3 s where it used to take 15 s or hang, and probes
 * taken while the attacks run must have a median within max(100 ms, 3 x the idle median) and none above
 * 2 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';
import { connectWs, type TestWs } from '../ws/client.js';

const ns = `sec.stall${Date.now()}`;
const victim = `${ns}:victim`;
const bobs = `${ns}:bob`;
const MANY_STARS = `${'*a'.repeat(14)}*b`;
const enc = encodeURIComponent;

let svc: TestService;
let idleMedian: number;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function probeOnce(): Promise<number> {
  const started = performance.now();
  const [health, other] = await Promise.all([
    fetch(`${svc.url}/health`),
    svc.request('GET', `/api/2/things/${bobs}`, { auth: 'bob:bob' }),
  ]);
  await health.arrayBuffer();
  expect(health.status).toBe(200);
  expect(other.status).toBe(200);
  return performance.now() - started;
}

/**
 * Runs `attack` `times` times in a row (that is the attack window) while probing every 10 ms; returns
 * the attack durations and the probe latencies.
 */
async function underAttack(
  attack: () => Promise<void>,
  times = 8,
): Promise<{ attacks: number[]; probes: number[] }> {
  const attacks: number[] = [];
  const probes: number[] = [];
  let running = true;
  const probing = (async () => {
    while (running) {
      probes.push(await probeOnce());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    for (let i = 0; i < times; i++) {
      const started = performance.now();
      await attack();
      attacks.push(performance.now() - started);
    }
  } finally {
    running = false;
    await probing;
  }
  return { attacks, probes };
}

function expectNoStall({ attacks, probes }: { attacks: number[]; probes: number[] }): void {
  expect(Math.max(...attacks), `attack durations ${attacks.map((a) => a.toFixed(0))}`).toBeLessThan(3000);
  expect(probes.length).toBeGreaterThan(0);
  expect(median(probes), `probe latencies ${probes.map((p) => p.toFixed(0))}`).toBeLessThanOrEqual(
    Math.max(100, 3 * idleMedian),
  );
  expect(Math.max(...probes)).toBeLessThan(2000);
}

beforeAll(async () => {
  svc = await startTestService();
  const aaa = 'a'.repeat(3000);
  expect(
    (
      await svc.request('PUT', `/api/2/things/${victim}`, {
        auth: 'alice:alice',
        body: { attributes: { x: aaa, ['a'.repeat(27) + '!']: 1 } },
      })
    ).status,
  ).toBe(201);
  for (let i = 0; i < 20; i++) {
    expect(
      (
        await svc.request('PUT', `/api/2/things/${ns}:filler${i}`, {
          auth: 'alice:alice',
          body: { attributes: { x: aaa } },
        })
      ).status,
    ).toBe(201);
  }
  expect(
    (
      await svc.request('PUT', `/api/2/things/${bobs}`, {
        auth: 'bob:bob',
        body: { attributes: { mine: true } },
      })
    ).status,
  ).toBe(201);
  const idle: number[] = [];
  for (let i = 0; i < 15; i++) idle.push(await probeOnce());
  idleMedian = median(idle);
});

afterAll(async () => {
  await svc?.close();
});

describe('stall probes', () => {
  it('like with many stars against 3,000 characters: search and count', async () => {
    expectNoStall(
      await underAttack(async () => {
        const search = await svc.request(
          'GET',
          `/api/2/search/things?namespaces=${ns}&filter=${enc(`like(attributes/x,"${MANY_STARS}")`)}`,
          { auth: 'alice:alice' },
        );
        expect(search.status).toBe(200);
        expect(search.json.items).toEqual([]);
        const count = await svc.request(
          'GET',
          `/api/2/search/things/count?namespaces=${ns}&filter=${enc(`not(ilike(attributes/x,"${'*A?'.repeat(300)}*b"))`)}`,
          { auth: 'alice:alice' },
        );
        expect(count.json).toBe(21);
      }),
    );
  });

  it('like with many stars as a condition and a live-channel-condition', async () => {
    expectNoStall(
      await underAttack(async () => {
        const conditional = await svc.request(
          'GET',
          `/api/2/things/${victim}/attributes/x?condition=${enc(`like(attributes/x,"${MANY_STARS}")`)}`,
          { auth: 'alice:alice' },
        );
        expect(conditional.status).toBe(412);
        const live = await svc.request(
          'GET',
          `/api/2/things/${victim}/attributes/x?live-channel-condition=${enc(`like(attributes/x,"${MANY_STARS}")`)}`,
          { auth: 'alice:alice' },
        );
        expect(live.status).toBe(200);
      }),
    );
  });

  it('like with many stars as a WebSocket event filter while the thing changes', async () => {
    const ws: TestWs = await connectWs(svc.url, 'alice');
    try {
      await ws.control(`START-SEND-EVENTS?filter=${enc(`like(attributes/x,"${MANY_STARS}")`)}`);
      let n = 0;
      expectNoStall(
        await underAttack(async () => {
          const res = await svc.request('PUT', `/api/2/things/${victim}/attributes/x`, {
            auth: 'alice:alice',
            body: `${'a'.repeat(3000)}${n++ % 2}`,
          });
          expect(res.status).toBe(204);
        }),
      );
      await ws.expectNone((f) => typeof f !== 'string' && String(f.topic).endsWith('/events/modified'), 100);
    } finally {
      await ws.close();
    }
  });

  it('a catastrophic merge-patch deletion regex', async () => {
    expectNoStall(
      await underAttack(async () => {
        const res = await svc.request('PATCH', `/api/2/things/${victim}/attributes`, {
          auth: 'alice:alice',
          body: { '{{ ~^(a+)+$~ }}': null, '{{ ~(a|aa)*c~ }}': null },
        });
        expect(res.status).toBe(204);
      }),
    );
    const kept = await svc.request('GET', `/api/2/things/${victim}/attributes/${'a'.repeat(27)}!`, {
      auth: 'alice:alice',
    });
    expect(kept.status).toBe(200); // the key does not match: nothing was deleted
  });

  it('RQL nested 5,000 deep over HTTP (POST search), SSE and WebSocket', async () => {
    const deep = (op: string, n: number) => `${`${op}(`.repeat(n)}exists(thingId)${')'.repeat(n)}`;
    const ws: TestWs = await connectWs(svc.url, 'alice');
    try {
      expectNoStall(
        await underAttack(async () => {
          const post = await svc.request('POST', '/api/2/search/things', {
            auth: 'alice:alice',
            raw: new URLSearchParams({ filter: deep('not', 5000) }).toString(),
            contentType: 'application/x-www-form-urlencoded',
          });
          expect(post.status).toBe(400);
          const sse = await fetch(`${svc.url}/api/2/things?filter=${enc(deep('and', 1500))}`, {
            headers: {
              accept: 'text/event-stream',
              authorization: `Basic ${Buffer.from('alice:alice').toString('base64')}`,
            },
          });
          expect(sse.status).toBe(400);
          await sse.arrayBuffer();
          ws.send(`START-SEND-EVENTS?filter=${enc(deep('not', 5000))}`);
          const error = await ws.nextTopic('/errors');
          expect(error.value.error).toBe('rql.expression.invalid');
        }),
      );
    } finally {
      await ws.close();
    }
  });
});
