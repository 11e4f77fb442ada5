/**
 * Micro benchmark of the policy enforcer (src/policies). Bounded: each row runs ~300 ms after a short
 * warm-up, about 3 s in total. Run: node --import tsx bench/policy-enforcer.ts
 *
 * Rows: a single-path decision (unrestricted and partial READ, the per-event-per-subscriber check) and
 * `filterReadable` of a realistic thing (10 attributes, 5 features × 5 properties), for a 1-entry
 * policy (Ditto's default policy) and a 10-entry policy with nested grants and revokes.
 */
import type * as Enforcers from '../src/policies/enforcer.js';
import type { Enforcer } from '../src/policies/enforcer.js';
import type { Permission, Policy, PolicyEntry } from '../src/policies/model.js';
import { built } from './support/built.js';

const { createEnforcer, defaultPolicy } = await built<typeof Enforcers>('src/policies/enforcer.ts');

const THING_ID = 'com.acme:device-1';

function entry(subjects: string[], resources: Record<string, [Permission[], Permission[]]>): PolicyEntry {
  return {
    subjects: Object.fromEntries(subjects.map((s) => [s, { type: 'bench' }])),
    resources: Object.fromEntries(
      Object.entries(resources).map(([k, [grant, revoke]]) => [k, { grant, revoke }]),
    ),
  };
}

const onePolicy = defaultPolicy(THING_ID, 'nginx:ditto');

const tenPolicy: Policy = {
  policyId: THING_ID,
  entries: {
    owner: entry(['nginx:ditto'], {
      'thing:/': [['READ', 'WRITE'], []],
      'policy:/': [['READ', 'WRITE'], []],
      'message:/': [['READ', 'WRITE'], []],
    }),
    operators: entry(['nginx:op-1', 'nginx:op-2', 'nginx:op-3'], {
      'thing:/features': [['READ', 'WRITE'], []],
      'thing:/features/f0/properties/p0': [[], ['WRITE']],
    }),
    observers: entry(['nginx:observer', 'google:viewer'], {
      'thing:/': [['READ'], []],
      'thing:/attributes/a9': [[], ['READ']],
    }),
    installer: entry(['nginx:installer'], {
      'thing:/attributes': [['READ', 'WRITE'], []],
      'thing:/attributes/a0': [[], ['WRITE']],
    }),
    privacy: entry(['nginx:observer'], {
      'thing:/features/f1/properties': [[], ['READ']],
      'thing:/features/f1/properties/p1': [['READ'], []],
    }),
    telemetry: entry(['integration:telemetry:aud'], {
      'thing:/features/f2/properties': [['WRITE'], []],
      'message:/outbox': [['READ'], []],
    }),
    messaging: entry(['nginx:app'], {
      'message:/inbox': [['WRITE'], []],
      'message:/features/f3/inbox': [['WRITE'], []],
    }),
    support: entry(['nginx:support'], {
      'thing:/': [['READ'], []],
      'thing:/features/f4': [[], ['READ']],
      'thing:/features/f4/properties/p4': [['READ'], []],
    }),
    auditors: entry(['nginx:audit'], { 'policy:/': [['READ'], []], 'thing:/attributes': [['READ'], []] }),
    blocked: entry(['nginx:blocked', 'nginx:observer'], {
      'thing:/features/f0/desiredProperties': [[], ['READ', 'WRITE']],
    }),
  },
};

const thing = {
  thingId: THING_ID,
  policyId: THING_ID,
  attributes: Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [`a${i}`, i % 2 ? `value-${i}` : { nested: i, unit: 'm' }]),
  ),
  features: Object.fromEntries(
    Array.from({ length: 5 }, (_, f) => [
      `f${f}`,
      { properties: Object.fromEntries(Array.from({ length: 5 }, (_, p) => [`p${p}`, f * 10 + p])) },
    ]),
  ),
};

function measure(fn: () => unknown, budgetMs = 300): { ops: number; ns: number } {
  let sink = 0;
  for (let i = 0; i < 2000; i++) if (fn()) sink++;
  let iterations = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) if (fn()) sink++;
    iterations += 1000;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - start) / iterations;
  if (sink < 0) console.log(sink); // keeps the results alive
  return { ops: Math.round(1e9 / ns), ns };
}

const rows: Array<{ policy: string; operation: string; ops: number; ns: number }> = [];
function row(policyName: string, operation: string, fn: () => unknown) {
  rows.push({ policy: policyName, operation, ...measure(fn) });
}

for (let i = 0; i < 200; i++) createEnforcer(tenPolicy); // warm-up
const compileStart = process.hrtime.bigint();
for (let i = 0; i < 1000; i++) createEnforcer(tenPolicy);
const compileNs = Number(process.hrtime.bigint() - compileStart) / 1000;

for (const [name, policy, subjects] of [
  ['1 entry', onePolicy, ['nginx:ditto']],
  ['10 entries', tenPolicy, ['nginx:observer', 'google:viewer']],
] as const) {
  const enforcer: Enforcer = createEnforcer(policy);
  const READ: Permission[] = ['READ'];
  row(name, 'hasUnrestricted READ thing:/features/f1/properties/p2', () =>
    enforcer.hasUnrestricted('thing:/features/f1/properties/p2', subjects, READ),
  );
  row(name, 'hasPartial READ thing:/features/f1', () =>
    enforcer.hasPartial('thing:/features/f1', subjects, READ),
  );
  row(name, 'hasUnrestricted WRITE thing:/ (denied or allowed)', () =>
    enforcer.hasUnrestricted('thing:/', subjects, ['WRITE']),
  );
  row(name, 'filterReadable whole thing (10 attrs, 5x5 props)', () =>
    enforcer.filterReadable('thing', '/', thing, subjects),
  );
}

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`createEnforcer(10-entry policy): ${(compileNs / 1000).toFixed(1)} µs per compile\n`);
console.log(`${pad('policy', 11)} ${pad('operation', 55)} ${'ops/s'.padStart(12)} ${'ns/op'.padStart(9)}`);
for (const r of rows) {
  console.log(
    `${pad(r.policy, 11)} ${pad(r.operation, 55)} ${r.ops.toLocaleString('en-US').padStart(12)} ${r.ns.toFixed(0).padStart(9)}`,
  );
}
