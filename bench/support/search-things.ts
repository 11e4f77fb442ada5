/**
 * The things the search benchmarks index (bench/search.ts in memory, bench/search-http.ts through the
 * API): 10 attributes incl. nested ones and an array, 3 features with 5 properties each, spread over 10
 * namespaces and 50 manufacturers. Deterministic: one seeded generator per benchmark run.
 */
export const MANUFACTURERS = Array.from({ length: 50 }, (_, i) => `Manufacturer ${i}`);
export const NAMESPACES = 10;
const BASE = Date.parse('2026-01-01T00:00:00Z');

export interface ThingMaker {
  makeThing(i: number): Record<string, unknown>;
  /** A uniform integer in [0, n) from the same sequence. */
  int(n: number): number;
}

export function thingMaker(seed = 2026): ThingMaker {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const int = (n: number) => Math.floor(rnd() * n);
  const makeThing = (i: number): Record<string, unknown> => {
    const ns = `org.fleet${i % NAMESPACES}`;
    return {
      thingId: `${ns}:device-${i}`,
      policyId: `${ns}:policy`,
      definition: 'org.fleet:device:1.0.0',
      attributes: {
        manufacturer: MANUFACTURERS[int(MANUFACTURERS.length)],
        model: `M-${int(200)}`,
        serial: `SN-${i.toString(16).padStart(8, '0')}`,
        firmware: `${int(3)}.${int(10)}.${int(20)}`,
        installed: rnd() < 0.8,
        year: 2015 + int(11),
        tags: ['fleet', rnd() < 0.5 ? 'indoor' : 'outdoor'],
        location: {
          building: `B${int(40)}`,
          floor: int(12),
          geo: { lat: rnd() * 180 - 90, lon: rnd() * 360 - 180 },
        },
        owner: { name: `owner-${int(5000)}`, team: `team-${int(100)}` },
        rating: Math.round(rnd() * 50) / 10,
      },
      features: {
        temperature: {
          properties: {
            value: rnd() * 60 - 10,
            unit: '°C',
            min: -10,
            max: 50,
            status: rnd() < 0.9 ? 'ok' : 'alarm',
          },
        },
        battery: {
          properties: {
            level: int(101),
            charging: rnd() < 0.3,
            voltage: 3 + rnd(),
            cycles: int(1000),
            health: 'good',
          },
        },
        connectivity: {
          properties: {
            rssi: -int(100),
            online: rnd() < 0.95,
            ip: `10.${int(256)}.${int(256)}.${int(256)}`,
            lastSeen: BASE + int(1e9),
            protocol: 'mqtt',
          },
        },
      },
      _revision: 1 + int(1000),
      _created: new Date(BASE - int(1e10)).toISOString(),
      _modified: new Date(BASE + int(1e10)).toISOString(),
    };
  };
  return { makeThing, int };
}
