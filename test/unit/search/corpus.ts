// RQL search corpus (ditto-interfaces.md §2.7, §3). Pure data so that every search backend (the in-memory
// index, the evaluator in mode `search`, later PostgreSQL) can run it unchanged: load THINGS, run each
// query with CORPUS_NOW as the clock, and compare the thing IDs. `expectedIds` are in result order
// (the effective sort, default `+thingId`), written from the documented semantics, not from a run.

export interface CorpusQuery {
  filter?: string;
  /** The `option=` string, e.g. "sort(-_revision),size(3)". */
  options?: string;
  /** The `namespaces=` string. */
  namespaces?: string;
  expectedIds: string[];
  /** Why the expectation is what it is, where that is not obvious. */
  note?: string;
}

export interface InvalidQuery {
  filter: string;
  /** 0-based character offset named by the `rql.expression.invalid` error. */
  position: number;
}

/** The clock for `time:` placeholders in this corpus. */
export const CORPUS_NOW = '2026-08-15T00:00:00Z';

const ID = {
  noNs: ':no-namespace',
  car1: 'com.example:car-01',
  car2: 'com.example:car-02',
  empty1: 'com.example:empty-01',
  phone1: 'com.example:phone-01',
  phone2: 'com.example:phone-02',
  truck1: 'com.example:truck-01',
  door1: 'org.acme.sensors:door-01',
  door2: 'org.acme.sensors:door-02',
  hum1: 'org.acme.sensors:hum-01',
  hum2: 'org.acme.sensors:hum-02',
  gw1: 'org.acme:gateway-01',
  gw2: 'org.acme:gateway-02',
  lamp1: 'org.acme:lamp-01',
  lamp2: 'org.acme:lamp-02',
  thermo1: 'org.acme:thermo-01',
  thermo2: 'org.acme:thermo-02',
  thermo3: 'org.acme:thermo-03',
  wild: 'org.acme:wildcard*test',
  cjk: 'org.acme:中文-设备',
} as const;

/** Every thing ID in `+thingId` order (code point order: ':' < 'c' < 'o', '.' < ':', ASCII < CJK). */
export const ALL_IDS: string[] = [
  ID.noNs,
  ID.car1,
  ID.car2,
  ID.empty1,
  ID.phone1,
  ID.phone2,
  ID.truck1,
  ID.door1,
  ID.door2,
  ID.hum1,
  ID.hum2,
  ID.gw1,
  ID.gw2,
  ID.lamp1,
  ID.lamp2,
  ID.thermo1,
  ID.thermo2,
  ID.thermo3,
  ID.wild,
  ID.cjk,
];

const created2026 = '2026-01-01T00:00:00Z';

export const THINGS: Array<Record<string, unknown>> = [
  {
    thingId: ID.thermo1,
    policyId: 'org.acme:policy-a',
    definition: 'org.acme:thermostat:1.0.0',
    attributes: {
      manufacturer: 'ACME',
      model: 'T-1000',
      serial: 'SN-0001',
      location: { building: 'B1', floor: 1, room: '101' },
      tags: ['heating', 'indoor'],
      installed: true,
      rating: 4.5,
      firmware: '1.2.3',
    },
    features: {
      temperature: {
        definition: ['org.acme:temperature:1.0.0'],
        properties: { value: 21.5, unit: '°C' },
        desiredProperties: { value: 22 },
      },
      battery: { properties: { level: 80, charging: false } },
    },
    _revision: 3,
    _created: created2026,
    _modified: '2026-03-01T10:00:00Z',
  },
  {
    thingId: ID.thermo2,
    policyId: 'org.acme:policy-a',
    definition: 'org.acme:thermostat:1.0.0',
    attributes: {
      manufacturer: 'ACME',
      model: 'T-1000',
      serial: 'SN-0002',
      location: { building: 'B1', floor: 2, room: '201' },
      tags: ['heating'],
      installed: false,
      rating: 3,
      firmware: '1.2.4',
    },
    features: {
      temperature: {
        definition: ['org.acme:temperature:1.0.0'],
        properties: { value: 19, unit: '°C' },
        desiredProperties: { value: 21 },
      },
      battery: { properties: { level: 15, charging: true } },
    },
    _revision: 10,
    _created: created2026,
    _modified: '2026-05-10T08:30:00Z',
  },
  {
    thingId: ID.thermo3,
    policyId: 'org.acme:policy-a',
    attributes: {
      manufacturer: 'acme',
      model: 'T-900',
      location: { building: 'B2', floor: 2 },
      tags: [],
      rating: null,
    },
    features: { temperature: { properties: { value: '20.5' } }, battery: { properties: { level: 50 } } },
    _revision: 1,
    _created: created2026,
    _modified: '2026-02-14T12:00:00Z',
  },
  {
    thingId: ID.lamp1,
    policyId: 'org.acme:policy-a',
    attributes: {
      manufacturer: 'Lumen',
      model: 'L-200',
      location: { building: 'B2', floor: 0 },
      tags: ['lighting', 'indoor', 'smart'],
    },
    features: { light: { properties: { on: true, brightness: 75, color: { r: 255, g: 200, b: 0 } } } },
    _revision: 7,
    _created: created2026,
    _modified: '2026-04-01T00:00:00Z',
  },
  {
    thingId: ID.lamp2,
    policyId: 'org.acme:policy-a',
    attributes: {
      manufacturer: 'Lumen',
      model: 'L-300',
      location: { building: 'B2', floor: 0 },
      tags: ['lighting'],
    },
    features: { light: { properties: { on: false, brightness: 0, color: { r: 0, g: 0, b: 0 } } } },
    _revision: 2,
    _created: created2026,
    _modified: '2026-01-20T09:00:00Z',
  },
  {
    thingId: ID.car1,
    policyId: 'com.example:policy-b',
    definition: 'https://models.example.com/car-1.0.0.tm.jsonld',
    attributes: {
      manufacturer: 'Example Motors',
      model: 'EM-3',
      vin: 'WVW123',
      year: 2020,
      owner: { name: 'Alice', age: 34 },
      mileage: 15000.5,
    },
    features: {
      engine: { properties: { running: true, rpm: 2400, temperature: 90 } },
      fuel: { properties: { level: 0.45 } },
    },
    _revision: 42,
    _created: created2026,
    _modified: '2026-06-01T12:00:00.500Z',
  },
  {
    thingId: ID.car2,
    policyId: 'com.example:policy-b',
    attributes: {
      manufacturer: 'Example Motors',
      model: 'EM-5',
      vin: 'WVW456',
      year: 2023,
      owner: { name: 'Bob', age: 51 },
      mileage: 120,
    },
    features: {
      engine: { properties: { running: false, rpm: 0, temperature: 20 } },
      fuel: { properties: { level: 1.0 } },
    },
    _revision: 5,
    _created: created2026,
    _modified: '2026-06-01T12:00:00Z',
  },
  {
    thingId: ID.truck1,
    policyId: 'com.example:policy-b',
    attributes: {
      manufacturer: 'Heavy Co',
      model: 'HC-40',
      year: 2018,
      owner: null,
      tags: ['fleet', 'diesel'],
    },
    features: { engine: { properties: { running: true, rpm: 1800 } } },
    _revision: 100,
    _created: '2024-03-01T00:00:00Z',
    _modified: '2026-07-04T18:00:00Z',
  },
  {
    thingId: ID.hum1,
    policyId: 'org.acme.sensors:policy-s',
    attributes: {
      manufacturer: 'SenseIt',
      model: 'H-1',
      location: { building: 'B1', floor: 3 },
      tags: ['indoor'],
    },
    features: { humidity: { properties: { value: 45 } }, battery: { properties: { level: 100 } } },
    _revision: 4,
    _created: created2026,
    _modified: '2026-03-15T06:00:00Z',
  },
  {
    thingId: ID.hum2,
    policyId: 'org.acme.sensors:policy-s',
    attributes: { manufacturer: 'SenseIt', model: 'H-2', location: { building: 'B3' }, tags: ['outdoor'] },
    features: { humidity: { properties: { value: 88 } }, battery: { properties: { level: 5 } } },
    _revision: 6,
    _created: created2026,
    _modified: '2026-03-16T06:00:00Z',
  },
  {
    thingId: ID.door1,
    policyId: 'org.acme.sensors:policy-s',
    attributes: {
      manufacturer: 'SenseIt',
      model: 'D-1',
      note: '',
      tags: ['security'],
      sensors: [
        { type: 'contact', room: 'lobby' },
        { type: 'motion', room: 'hall' },
      ],
    },
    features: { contact: { properties: { open: false } } },
    _revision: 8,
    _created: created2026,
    _modified: '2026-02-01T00:00:00Z',
  },
  {
    thingId: ID.door2,
    policyId: 'org.acme.sensors:policy-s',
    attributes: {
      manufacturer: 'SenseIt',
      model: 'D-1',
      note: 'front door',
      sensors: [{ type: 'contact', room: 'entrance' }],
    },
    features: { contact: { properties: { open: true } } },
    _revision: 9,
    _created: created2026,
    _modified: '2026-02-02T00:00:00Z',
  },
  {
    thingId: ID.gw1,
    policyId: 'org.acme:policy-a',
    attributes: { manufacturer: 'ACME', model: 'GW-9', ip: '10.0.0.1', ports: [80, 443, 8080], config: {} },
    features: {},
    _revision: 1,
    _created: '2025-11-01T00:00:00Z',
    _modified: '2025-12-31T23:59:59Z',
  },
  {
    thingId: ID.gw2,
    policyId: 'org.acme:policy-a',
    attributes: {
      manufacturer: 'ACME',
      model: 'GW-9',
      ip: '10.0.0.2',
      ports: [22],
      config: { mode: 'bridge' },
    },
    _revision: 2,
    _created: created2026,
    _modified: '2026-01-01T00:00:00Z',
  },
  {
    thingId: ID.phone1,
    policyId: 'com.example:policy-b',
    attributes: { manufacturer: 'Example Phones', model: 'X1', 'display size': 6.1, 'name:with:colons': 'a' },
    features: { gps: { properties: { lat: 48.1, lon: 11.5 } } },
    _revision: 11,
    _created: created2026,
    _modified: '2026-08-01T10:00:00Z',
  },
  {
    thingId: ID.phone2,
    policyId: 'com.example:policy-b',
    attributes: { manufacturer: 'Example Phones', model: 'X2', tags: ['5G', 'dual-sim'] },
    features: { gps: { properties: { lat: -33.9, lon: 18.4 } } },
    _revision: 12,
    _created: created2026,
    _modified: '2026-08-02T10:00:00Z',
  },
  {
    thingId: ID.noNs,
    policyId: ':no-namespace',
    attributes: { manufacturer: 'Nobody', count: 0, enabled: false },
    _revision: 1,
    _created: '2025-05-01T00:00:00Z',
    _modified: '2025-06-01T00:00:00Z',
  },
  {
    thingId: ID.cjk,
    policyId: 'org.acme:policy-a',
    attributes: { manufacturer: 'ACME', label: '温度计', unicode: '😀 smile' },
    features: { temperature: { properties: { value: -5 } } },
    _revision: 3,
    _created: created2026,
    _modified: '2026-04-15T00:00:00Z',
  },
  {
    thingId: ID.wild,
    policyId: 'org.acme:policy-a',
    attributes: { manufacturer: 'ACME', pattern: 'a*b?c' },
    _revision: 2,
    _created: created2026,
    _modified: '2026-04-16T00:00:00Z',
  },
  {
    thingId: ID.empty1,
    policyId: 'com.example:policy-b',
    attributes: {},
    _revision: 1,
    _created: created2026,
    _modified: '2026-01-05T00:00:00Z',
  },
];

const without = (...ids: string[]) => ALL_IDS.filter((id) => !ids.includes(id));
const ACME = [ID.gw1, ID.gw2, ID.thermo1, ID.thermo2, ID.wild, ID.cjk];

export const QUERIES: CorpusQuery[] = [
  // eq / ne on simple fields
  { filter: 'eq(thingId,"org.acme:thermo-01")', expectedIds: [ID.thermo1] },
  { filter: 'eq(attributes/manufacturer,"ACME")', expectedIds: ACME, note: '"acme" differs in case' },
  { filter: "eq(attributes/manufacturer,'ACME')", expectedIds: ACME, note: 'single-quoted string' },
  {
    filter: 'eq(/attributes/manufacturer,"Lumen")',
    expectedIds: [ID.lamp1, ID.lamp2],
    note: 'leading slash is optional',
  },
  {
    filter: 'eq(attributes/manufacturer ,"ACME")',
    expectedIds: [],
    note: 'property names are not trimmed: "manufacturer " does not exist',
  },
  {
    filter: 'eq(attributes/manufacturer,"Example\\u0020Motors")',
    expectedIds: [ID.car1, ID.car2],
    note: '\\u escape',
  },
  {
    filter: 'eq(attributes/display size,6.1)',
    expectedIds: [ID.phone1],
    note: 'spaces belong to the property',
  },
  { filter: 'eq(attributes/name:with:colons,"a")', expectedIds: [ID.phone1] },
  { filter: 'eq(attributes/label,"温度计")', expectedIds: [ID.cjk] },
  {
    filter: 'eq(attributes/unicode,"\\ud83d\\ude00 smile")',
    expectedIds: [ID.cjk],
    note: 'surrogate pair via escapes',
  },
  { filter: 'eq(attributes/year,"2020")', expectedIds: [], note: 'search compares same types only' },
  { filter: 'eq(features/temperature/properties/value,21.5)', expectedIds: [ID.thermo1] },
  { filter: 'eq(features/temperature/properties/value,"20.5")', expectedIds: [ID.thermo3] },
  {
    filter: 'eq(features/fuel/properties/level,1)',
    expectedIds: [ID.car2],
    note: 'JSON 1.0 equals the long 1',
  },
  { filter: 'eq(features/fuel/properties/level,1.0)', expectedIds: [ID.car2] },
  { filter: 'eq(attributes/installed,true)', expectedIds: [ID.thermo1] },
  { filter: 'eq(attributes/installed,false)', expectedIds: [ID.thermo2] },
  { filter: 'eq(attributes/enabled,false)', expectedIds: [ID.noNs] },
  { filter: 'eq(attributes/count,0)', expectedIds: [ID.noNs] },
  { filter: 'eq(attributes/owner,null)', expectedIds: [ID.truck1] },
  { filter: 'eq(attributes/rating,null)', expectedIds: [ID.thermo3] },
  { filter: 'eq(attributes/location/room,"101")', expectedIds: [ID.thermo1] },
  {
    filter: 'eq(policyId,"com.example:policy-b")',
    expectedIds: [ID.car1, ID.car2, ID.empty1, ID.phone1, ID.phone2, ID.truck1],
  },
  { filter: 'eq(definition,"org.acme:thermostat:1.0.0")', expectedIds: [ID.thermo1, ID.thermo2] },
  {
    filter: 'eq(features/temperature/definition,"org.acme:temperature:1.0.0")',
    expectedIds: [ID.thermo1, ID.thermo2],
    note: 'feature definition is an array',
  },
  {
    filter: 'eq(_namespace,"com.example")',
    expectedIds: [ID.car1, ID.car2, ID.empty1, ID.phone1, ID.phone2, ID.truck1],
  },
  { filter: 'eq(_namespace,"")', expectedIds: [ID.noNs], note: 'the empty namespace' },
  {
    filter: 'ne(attributes/manufacturer,"ACME")',
    expectedIds: without(...ACME, ID.empty1),
    note: 'search ne requires the field to exist: empty-01 has no manufacturer',
  },
  { filter: 'ne(attributes/location/floor,0)', expectedIds: [ID.hum1, ID.thermo1, ID.thermo2, ID.thermo3] },
  { filter: 'ne(attributes/owner,null)', expectedIds: [ID.car1, ID.car2] },
  {
    filter: 'ne(attributes/tags,"indoor")',
    expectedIds: [ID.phone2, ID.truck1, ID.door1, ID.hum2, ID.lamp2, ID.thermo2, ID.thermo3],
    note: 'ne on arrays: no element equals; [] exists and has no equal element',
  },
  // ordering comparisons
  { filter: 'gt(attributes/location/floor,1)', expectedIds: [ID.hum1, ID.thermo2, ID.thermo3] },
  { filter: 'ge(attributes/location/floor,1)', expectedIds: [ID.hum1, ID.thermo1, ID.thermo2, ID.thermo3] },
  { filter: 'lt(attributes/location/floor,1)', expectedIds: [ID.lamp1, ID.lamp2] },
  { filter: 'le(attributes/year,2020)', expectedIds: [ID.car1, ID.truck1] },
  { filter: 'gt(attributes/rating,3.5)', expectedIds: [ID.thermo1] },
  {
    filter: 'ge(attributes/rating,3)',
    expectedIds: [ID.thermo1, ID.thermo2],
    note: 'null is not ordered against numbers',
  },
  { filter: 'gt(attributes/mileage,1000)', expectedIds: [ID.car1] },
  {
    filter: 'gt(attributes/manufacturer,"M")',
    expectedIds: [ID.noNs, ID.door1, ID.door2, ID.hum1, ID.hum2, ID.thermo3],
    note: 'code point order: "acme" > "M" (lower case after upper case), "Nobody" and "SenseIt" > "M"',
  },
  { filter: 'lt(attributes/manufacturer,"B")', expectedIds: ACME },
  {
    filter: 'gt(attributes/location/floor,"1")',
    expectedIds: [],
    note: 'string literal never compares with numbers',
  },
  { filter: 'gt(attributes/ports,1000)', expectedIds: [ID.gw1], note: 'any array element' },
  { filter: 'eq(attributes/ports,443)', expectedIds: [ID.gw1] },
  { filter: 'gt(_revision,9)', expectedIds: [ID.car1, ID.phone1, ID.phone2, ID.truck1, ID.thermo2] },
  {
    filter: 'ge(_modified,"2026-04-01T00:00:00Z")',
    expectedIds: [ID.car1, ID.car2, ID.phone1, ID.phone2, ID.truck1, ID.lamp1, ID.thermo2, ID.wild, ID.cjk],
  },
  {
    filter: 'gt(_modified,time:now-30d)',
    expectedIds: [ID.phone1, ID.phone2],
    note: 'now-30d = 2026-07-16T00:00:00Z',
  },
  {
    filter: 'eq(_created,time:now[y])',
    expectedIds: without(ID.noNs, ID.truck1, ID.gw1),
    note: 'now truncated to the year renders like Java Instant: 2026-01-01T00:00:00Z',
  },
  { filter: 'lt(_created,time:now-1y[y])', expectedIds: [ID.truck1], note: '2025-01-01T00:00:00Z' },
  { filter: 'gt(features/*/properties/value,40)', expectedIds: [ID.hum1, ID.hum2], note: 'any feature' },
  { filter: 'ge(features/*/properties/lat,0)', expectedIds: [ID.phone1] },
  { filter: 'lt(features/battery/properties/level,20)', expectedIds: [ID.hum2, ID.thermo2] },
  { filter: 'gt(features/light/properties/color/g,100)', expectedIds: [ID.lamp1] },
  // in
  { filter: 'in(attributes/tags,"outdoor","security")', expectedIds: [ID.door1, ID.hum2] },
  { filter: 'in(attributes/year,2018,2023,"2020")', expectedIds: [ID.car2, ID.truck1] },
  {
    filter: 'in(_namespace,"org.acme.sensors","")',
    expectedIds: [ID.noNs, ID.door1, ID.door2, ID.hum1, ID.hum2],
  },
  // arrays
  { filter: 'eq(attributes/tags,"indoor")', expectedIds: [ID.hum1, ID.lamp1, ID.thermo1] },
  { filter: 'eq(attributes/sensors/room,"hall")', expectedIds: [ID.door1], note: 'objects inside arrays' },
  { filter: 'eq(attributes/sensors/type,"contact")', expectedIds: [ID.door1, ID.door2] },
  { filter: 'eq(features/*/properties/running,true)', expectedIds: [ID.car1, ID.truck1] },
  { filter: 'eq(features/engine/properties/running,false)', expectedIds: [ID.car2] },
  // like / ilike
  {
    filter: 'ilike(attributes/manufacturer,"acme")',
    expectedIds: [ID.gw1, ID.gw2, ID.thermo1, ID.thermo2, ID.thermo3, ID.wild, ID.cjk],
  },
  {
    filter: 'like(attributes/manufacturer,"acme")',
    expectedIds: [ID.thermo3],
    note: 'like is case-sensitive',
  },
  { filter: 'like(attributes/manufacturer,"AC")', expectedIds: [], note: 'full match' },
  {
    filter: 'like(attributes/manufacturer,"Example*")',
    expectedIds: [ID.car1, ID.car2, ID.phone1, ID.phone2],
  },
  { filter: 'like(attributes/manufacturer,"*Co")', expectedIds: [ID.truck1] },
  { filter: 'ilike(attributes/manufacturer,"*PHONES")', expectedIds: [ID.phone1, ID.phone2] },
  { filter: 'like(attributes/model,"L-?00")', expectedIds: [ID.lamp1, ID.lamp2] },
  { filter: 'like(attributes/model,"EM-?")', expectedIds: [ID.car1, ID.car2] },
  { filter: 'like(attributes/pattern,"a*b?c")', expectedIds: [ID.wild] },
  { filter: 'like(attributes/ip,"10.0.0.?")', expectedIds: [ID.gw1, ID.gw2], note: '"." is literal' },
  { filter: 'like(attributes/ip,"10?0?0?1")', expectedIds: [ID.gw1] },
  { filter: 'like(attributes/note,"front*")', expectedIds: [ID.door2] },
  {
    filter: 'like(thingId,"org.acme:*")',
    expectedIds: [ID.gw1, ID.gw2, ID.lamp1, ID.lamp2, ID.thermo1, ID.thermo2, ID.thermo3, ID.wild, ID.cjk],
  },
  { filter: 'like(thingId,"*:*-0?")', expectedIds: without(ID.noNs, ID.wild, ID.cjk) },
  // exists / empty
  {
    filter: 'exists(attributes/location)',
    expectedIds: [ID.hum1, ID.hum2, ID.lamp1, ID.lamp2, ID.thermo1, ID.thermo2, ID.thermo3],
  },
  {
    filter: 'exists(attributes/location/floor)',
    expectedIds: [ID.hum1, ID.lamp1, ID.lamp2, ID.thermo1, ID.thermo2, ID.thermo3],
  },
  {
    filter: 'not(exists(attributes/location/floor))',
    expectedIds: without(ID.hum1, ID.lamp1, ID.lamp2, ID.thermo1, ID.thermo2, ID.thermo3),
  },
  { filter: 'exists(features/battery)', expectedIds: [ID.hum1, ID.hum2, ID.thermo1, ID.thermo2, ID.thermo3] },
  {
    filter: 'exists(features/*/properties/level)',
    expectedIds: [ID.car1, ID.car2, ID.hum1, ID.hum2, ID.thermo1, ID.thermo2, ID.thermo3],
  },
  { filter: 'exists(features/light/properties/color/r)', expectedIds: [ID.lamp1, ID.lamp2] },
  { filter: 'exists(definition)', expectedIds: [ID.car1, ID.thermo1, ID.thermo2] },
  {
    filter: 'empty(attributes/tags)',
    expectedIds: [
      ID.noNs,
      ID.car1,
      ID.car2,
      ID.empty1,
      ID.phone1,
      ID.door2,
      ID.gw1,
      ID.gw2,
      ID.thermo3,
      ID.wild,
      ID.cjk,
    ],
    note: 'absent or []',
  },
  { filter: 'empty(attributes/note)', expectedIds: without(ID.door2), note: '"" is empty, absent is empty' },
  { filter: 'empty(attributes/config)', expectedIds: without(ID.gw2), note: '{} is empty' },
  { filter: 'empty(attributes/owner)', expectedIds: without(ID.car1, ID.car2), note: 'null is empty' },
  { filter: 'empty(attributes/count)', expectedIds: without(ID.noNs), note: '0 is not empty' },
  { filter: 'empty(attributes/enabled)', expectedIds: without(ID.noNs), note: 'false is not empty' },
  { filter: 'empty(attributes)', expectedIds: [ID.empty1] },
  { filter: 'empty(features)', expectedIds: [ID.noNs, ID.empty1, ID.gw1, ID.gw2, ID.wild] },
  // logic
  {
    filter: 'not(eq(attributes/location/floor,0))',
    expectedIds: without(ID.lamp1, ID.lamp2),
    note: 'not also matches things without the field',
  },
  {
    filter: 'and(eq(attributes/manufacturer,"ACME"),gt(_revision,2))',
    expectedIds: [ID.thermo1, ID.thermo2, ID.cjk],
  },
  {
    filter: 'or(eq(attributes/model,"GW-9"),lt(features/battery/properties/level,10))',
    expectedIds: [ID.hum2, ID.gw1, ID.gw2],
  },
  {
    filter: 'and(exists(features/temperature),not(eq(features/temperature/properties/value,21.5)))',
    expectedIds: [ID.thermo2, ID.thermo3, ID.cjk],
  },
  {
    filter:
      'or(and(eq(_namespace,"com.example"),gt(attributes/year,2019)), eq(attributes/manufacturer,"SenseIt"))',
    expectedIds: [ID.car1, ID.car2, ID.door1, ID.door2, ID.hum1, ID.hum2],
    note: 'whitespace after the comma between sub-queries',
  },
  {
    filter: 'not(or(exists(features),exists(attributes/tags)))',
    expectedIds: [ID.noNs, ID.empty1, ID.gw2, ID.wild],
    note: 'features {} exists',
  },
  { filter: 'and(eq(attributes/manufacturer,"ACME"))', expectedIds: ACME, note: 'and with one sub-query' },
  {
    filter: '  eq(attributes/model,"GW-9" )',
    expectedIds: [ID.gw1, ID.gw2],
    note: 'whitespace at the start and after a literal',
  },
  // namespaces
  { filter: 'exists(features/gps)', namespaces: 'com.example', expectedIds: [ID.phone1, ID.phone2] },
  { namespaces: 'org.acme.sensors', expectedIds: [ID.door1, ID.door2, ID.hum1, ID.hum2] },
  {
    filter: 'eq(attributes/manufacturer,"ACME")',
    namespaces: 'org.acme.sensors,com.example',
    expectedIds: [],
  },
  { expectedIds: ALL_IDS, note: 'no filter: everything, sorted by +thingId' },
  // sort and paging options
  {
    filter: 'eq(attributes/manufacturer,"ACME")',
    options: 'sort(-_revision)',
    expectedIds: [ID.thermo2, ID.thermo1, ID.cjk, ID.gw2, ID.wild, ID.gw1],
    note: '+thingId breaks ties',
  },
  {
    filter: 'exists(attributes/location/floor)',
    options: 'sort(+attributes/location/floor,-thingId)',
    expectedIds: [ID.lamp2, ID.lamp1, ID.thermo1, ID.thermo3, ID.thermo2, ID.hum1],
  },
  {
    filter: 'eq(_namespace,"com.example")',
    options: 'sort(-_modified)',
    expectedIds: [ID.phone2, ID.phone1, ID.truck1, ID.car2, ID.car1, ID.empty1],
    note: '_modified sorts as a string: "…12:00:00Z" > "…12:00:00.500Z"',
  },
  {
    filter: 'exists(attributes/location)',
    options: 'sort(+attributes/location/floor)',
    expectedIds: [ID.hum2, ID.lamp1, ID.lamp2, ID.thermo1, ID.thermo2, ID.thermo3, ID.hum1],
    note: "a missing sort field sorts first ascending (MongoDB order, as Ditto's index)",
  },
  {
    filter: 'eq(attributes/manufacturer,"ACME")',
    options: 'size(3)',
    expectedIds: [ID.gw1, ID.gw2, ID.thermo1],
    note: 'first page',
  },
  {
    filter: 'eq(attributes/manufacturer,"ACME")',
    options: 'limit(1,2)',
    expectedIds: [ID.gw2, ID.thermo1],
    note: 'deprecated offset paging',
  },
  { options: 'sort(-thingId),size(2)', expectedIds: [ID.cjk, ID.wild] },
];

export const INVALID: InvalidQuery[] = [
  { filter: '', position: 0 },
  { filter: 'foo(attributes/a,1)', position: 0 },
  { filter: 'eq(attributes/a,)', position: 16 },
  { filter: 'eq(attributes/a,1', position: 17 },
  { filter: 'eq(attributes/a,-0)', position: 16 },
  { filter: 'eq(attributes/a,01)', position: 17 },
  { filter: 'eq(attributes/a,1e5)', position: 17 },
  { filter: 'eq(attributes/a,"abc)', position: 16 },
  { filter: 'eq(attributes/a,"a\\qb")', position: 18 },
  { filter: 'eq(attributes/a,"\\u12G4")', position: 17 },
  { filter: 'eq(attributes/a, 1)', position: 16 },
  { filter: 'eq(attributes/a,1) ', position: 18 },
  { filter: 'eq(attributes/a,tru)', position: 16 },
  { filter: 'eq(attributes/a,"x"', position: 19 },
  { filter: 'eq(attributes/a,time:later)', position: 16 },
  { filter: 'eq(attributes/a,time:now-1x)', position: 16 },
  { filter: 'eq(attributes/a,9223372036854775808)', position: 16 },
  { filter: 'eq( attributes/a,1)', position: 3 },
  { filter: 'eq(foo/bar,1)', position: 3 },
  { filter: 'eq(attributes//a,1)', position: 3 },
  { filter: 'eq(thingId/x,1)', position: 3 },
  { filter: 'eq(features/f/props/x,1)', position: 3 },
  { filter: 'ne(attributes/a\\,b,1)', position: 15 },
  { filter: 'exists()', position: 7 },
  { filter: 'in(attributes/a)', position: 15 },
  { filter: 'and()', position: 4 },
  { filter: 'and(eq(attributes/a,1) ,eq(attributes/b,2))', position: 22 },
  { filter: 'not(eq(attributes/a,1),eq(attributes/b,2))', position: 22 },
  { filter: 'eq(attributes/a,1)eq(attributes/b,2)', position: 18 },
  { filter: 'EQ(attributes/a,1)', position: 0 },
];
