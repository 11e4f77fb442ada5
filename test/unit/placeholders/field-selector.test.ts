import { describe, expect, it } from 'vitest';
import { isDittoError, type DittoError } from '../../../src/errors/ditto-error.js';
import { applyFieldSelector, parseFieldSelector } from '../../../src/util/field-selector.js';

function errorOf(selector: string): DittoError {
  try {
    parseFieldSelector(selector);
  } catch (error) {
    if (isDittoError(error)) return error;
    throw error;
  }
  throw new Error(`expected '${selector}' to be rejected`);
}

const thing = {
  thingId: 'org.eclipse.ditto:thing-1',
  policyId: 'org.eclipse.ditto:policy-1',
  attributes: {
    manufacturer: 'ACME',
    location: { latitude: 44.67, longitude: 8.47 },
    complex: { some: false, serialNo: 4711, other: 'x' },
    address: { postal: { city: 'Berlin', street: 'Main', zip: '10115' }, country: 'DE' },
  },
  features: {
    lamp: { properties: { on: true, color: 'red' }, definition: ['ns:lamp:1.0.0'] },
    sensor: { properties: { temperature: 21.5 } },
    switch: { properties: { on: false } },
  },
};

describe('parseFieldSelector', () => {
  it('rejects groups nested more than 100 levels before descending (no stack overflow)', () => {
    const nested = (depth: number) => `${'a('.repeat(depth)}b${')'.repeat(depth)}`;
    expect(parseFieldSelector(nested(99))).toEqual([[...Array(99).fill('a'), 'b']]);
    for (const depth of [100, 500_000])
      expect(() => parseFieldSelector(nested(depth))).toThrow(/nest more than 100 levels/);
  });

  it('parses a comma list of pointers with optional leading slash', () => {
    expect(parseFieldSelector('thingId,/attributes/location,features/lamp/properties/on')).toEqual([
      ['thingId'],
      ['attributes', 'location'],
      ['features', 'lamp', 'properties', 'on'],
    ]);
  });

  it('expands groups', () => {
    expect(parseFieldSelector('attributes/complex(some,serialNo)')).toEqual([
      ['attributes', 'complex', 'some'],
      ['attributes', 'complex', 'serialNo'],
    ]);
  });

  it('expands nested groups such as a/b(c,d(e,f))', () => {
    expect(parseFieldSelector('a/b(c,d(e,f)),g')).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'd', 'e'],
      ['a', 'b', 'd', 'f'],
      ['g'],
    ]);
  });

  it('accepts groups with pointers inside and a trailing slash before the group', () => {
    expect(parseFieldSelector('attributes/(address/postal(city,street),/manufacturer)')).toEqual([
      ['attributes', 'address', 'postal', 'city'],
      ['attributes', 'address', 'postal', 'street'],
      ['attributes', 'manufacturer'],
    ]);
  });

  it('accepts * as feature ID wildcard', () => {
    expect(parseFieldSelector('features/*/properties/on,features/*(definition)')).toEqual([
      ['features', '*', 'properties', 'on'],
      ['features', '*', 'definition'],
    ]);
  });

  it('ignores empty entries and duplicates', () => {
    expect(parseFieldSelector('thingId,,thingId,attributes,')).toEqual([['thingId'], ['attributes']]);
  });

  it('takes keys verbatim and unescapes ~1 and ~0', () => {
    expect(parseFieldSelector('attributes/a~1b, c~0')).toEqual([['attributes', 'a/b'], [' c~']]);
  });

  it.each([
    ['', 'no field selected'],
    [',', 'no field selected'],
    ['attributes(a', "missing ')'"],
    ['attributes)a', "unbalanced ')'"],
    ['a(b))', "unbalanced ')'"],
    ['(a,b)', "'(' at position 1 has no field before it"],
    ['a()', "empty group 'a()'"],
    ['a(b)c', "unexpected 'c' at position 5 after ')'"],
    ['a//b', "empty segment in 'a//b'"],
    ['attributes/*', "'*' is only allowed as feature ID wildcard"],
    ['*', "'*' is only allowed as feature ID wildcard"],
    ['features/lamp/*', "'*' is only allowed as feature ID wildcard"],
  ])('rejects %j with json.fieldselector.invalid', (selector, detail) => {
    const e = errorOf(selector);
    expect(e.error).toBe('json.fieldselector.invalid');
    expect(e.status).toBe(400);
    expect(e.message).toContain(detail);
  });
});

describe('applyFieldSelector', () => {
  it('keeps the JSON structure of the selected parts', () => {
    expect(
      applyFieldSelector(thing, 'thingId,attributes/location/latitude,features/lamp/properties/on'),
    ).toEqual({
      thingId: 'org.eclipse.ditto:thing-1',
      attributes: { location: { latitude: 44.67 } },
      features: { lamp: { properties: { on: true } } },
    });
  });

  it('applies groups and nested groups', () => {
    expect(
      applyFieldSelector(thing, 'attributes/complex(some,serialNo),attributes/address/postal(city,street)'),
    ).toEqual({
      attributes: {
        complex: { some: false, serialNo: 4711 },
        address: { postal: { city: 'Berlin', street: 'Main' } },
      },
    });
  });

  it('silently omits missing paths', () => {
    expect(
      applyFieldSelector(thing, 'thingId,attributes/missing,features/none/properties,_revision'),
    ).toEqual({
      thingId: 'org.eclipse.ditto:thing-1',
    });
    expect(applyFieldSelector(thing, 'nothing')).toEqual({});
  });

  it('does not descend into non-object values', () => {
    expect(applyFieldSelector(thing, 'thingId/x,attributes/manufacturer/0')).toEqual({});
  });

  it('expands features/* over the actual features', () => {
    expect(applyFieldSelector(thing, 'features/*/properties/on')).toEqual({
      features: { lamp: { properties: { on: true } }, switch: { properties: { on: false } } },
    });
    expect(applyFieldSelector(thing, 'features/*(definition)')).toEqual({
      features: { lamp: { definition: ['ns:lamp:1.0.0'] } },
    });
    expect(applyFieldSelector({ thingId: 'a:b' }, 'features/*/properties')).toEqual({});
  });

  it('merges overlapping selections without changing the input', () => {
    const before = JSON.stringify(thing);
    const r = applyFieldSelector(thing, 'attributes/location,attributes,attributes/location/latitude');
    expect(r).toEqual({ attributes: thing.attributes });
    const r2 = applyFieldSelector(thing, 'attributes/complex,attributes/address/country');
    expect(r2).toEqual({ attributes: { complex: thing.attributes.complex, address: { country: 'DE' } } });
    expect(JSON.stringify(thing)).toBe(before);
  });

  it('accepts a parsed selector', () => {
    expect(applyFieldSelector(thing, parseFieldSelector('policyId'))).toEqual({
      policyId: 'org.eclipse.ditto:policy-1',
    });
  });

  it('returns {} for a non-object input', () => {
    expect(applyFieldSelector([1, 2], 'a')).toEqual({});
  });
});
