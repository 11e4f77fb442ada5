/**
 * WebSocket consumer groups spanning instances (docs/scale-out.md): members of one group connected to
 * different instances share the events — each change goes to exactly one member of the group, whichever
 * instance made it — and when an instance dies its members leave the ring by heartbeat, so the survivors
 * get everything.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getBroker, keepBrokersUp } from '../brokers/index.js';
import { connectWs, type TestWs } from '../ws/client.js';
import { eventually, startClusterKit, type ClusterKit } from './cluster-kit.js';

let kit: ClusterKit;
keepBrokersUp('postgres');

beforeAll(async () => {
  const postgres = await getBroker('postgres');
  kit = await startClusterKit(postgres.url, 3, { TWINBRIDGE_CLUSTER_HEARTBEAT_MS: '300' });
});
afterAll(async () => {
  await kit?.stop();
});

const THINGS = 30;
const eventsOf = (ws: TestWs, prefix: string) =>
  ws.frames.filter((f) => typeof f !== 'string' && String(f.topic).startsWith(`cluster.group/${prefix}`))
    .length;

it('delivers each change to one member of a group whose members are on different instances', async () => {
  const members = [
    await connectWs(kit.instances[0].url),
    await connectWs(kit.instances[1].url),
    await connectWs(kit.instances[2].url),
  ];
  try {
    for (const m of members) await m.control('START-SEND-EVENTS?group=dashboards');
    const rows = async () =>
      (await kit.query(`select count(*)::int as n from group_members`))[0].n === 3 ? true : undefined;
    await eventually(rows, 10_000, 'three members recorded');
    // Every instance reloaded the ring (on the notification; at the latest on a heartbeat, which a loaded machine delays).
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < THINGS; i++) {
      expect(
        (
          await kit.request(i % 3, 'PUT', `/api/2/things/cluster.group:a-${i}`, {
            body: { attributes: { i } },
          })
        ).status,
      ).toBe(201);
    }
    const total = async () =>
      members.reduce((s, m) => s + eventsOf(m, 'a-'), 0) >= THINGS ? true : undefined;
    await eventually(total, 10_000, 'every event delivered');
    await new Promise((r) => setTimeout(r, 500));
    const counts = members.map((m) => eventsOf(m, 'a-'));
    expect(counts.reduce((a, b) => a + b)).toBe(THINGS); // exactly once across the group
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1); // shared, not all on one instance

    // Instance 3 dies: its member expires after three missed heartbeats; the others get every change.
    await kit.instances[2].stop('SIGKILL');
    const expired = async () =>
      (
        await kit.query(
          `select count(*)::int as n from group_members where heartbeat > now() - interval '0.9 seconds'`,
        )
      )[0].n === 2
        ? true
        : undefined;
    await eventually(expired, 10_000, 'dead member expired');
    // Every survivor dropped it from its ring (on its next heartbeats).
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < THINGS; i++) {
      expect(
        (
          await kit.request(i % 2, 'PUT', `/api/2/things/cluster.group:b-${i}`, {
            body: { attributes: { i } },
          })
        ).status,
      ).toBe(201);
    }
    const survivors = async () =>
      eventsOf(members[0], 'b-') + eventsOf(members[1], 'b-') >= THINGS ? true : undefined;
    await eventually(survivors, 10_000, 'every event delivered to the survivors');
    await new Promise((r) => setTimeout(r, 500));
    expect(eventsOf(members[0], 'b-') + eventsOf(members[1], 'b-')).toBe(THINGS);
  } finally {
    await Promise.all(members.slice(0, 2).map((m) => m.close()));
  }
}, 60_000);
