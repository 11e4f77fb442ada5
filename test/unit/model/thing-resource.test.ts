import { describe, expect, it } from 'vitest';
import { thingResourceAt } from '../../../src/model/thing.js';

describe('thingResourceAt', () => {
  it.each([
    ['', 'thing', '/', undefined, undefined],
    ['/', 'thing', '/', undefined, undefined],
    ['/policyId', 'policyId', '/policyId', undefined, undefined],
    ['/attributes', 'attributes', '/attributes', undefined, undefined],
    ['attributes/location/lat', 'attribute', '/attributes/location/lat', undefined, ['location', 'lat']],
    ['/features/env/', 'feature', '/features/env', 'env', undefined],
    ['/features/env/definition', 'featureDefinition', '/features/env/definition', 'env', undefined],
    ['/features/env/properties/t', 'featureProperty', '/features/env/properties/t', 'env', ['t']],
    [
      '/features/env/desiredProperties',
      'featureDesiredProperties',
      '/features/env/desiredProperties',
      'env',
      undefined,
    ],
    ['/attributes/a~1b~0c', 'attribute', '/attributes/a~1b~0c', undefined, ['a/b~c']],
  ])('classifies %j', (path, kind, pointer, featureId, subPath) => {
    const resource = thingResourceAt(path);
    expect(resource).toEqual({ kind, segments: expect.any(Array), pointer, featureId, subPath });
    // Parsed once per distinct path.
    expect(thingResourceAt(path)).toBe(resource);
  });

  it.each([
    ['/nothing', 'things:path.invalid'],
    ['/features/env/other', 'things:path.invalid'],
    ['/thingId/x', 'things:path.invalid'],
    ['/attributes//x', 'json.pointer.invalid'],
  ])('rejects %j with %s, every time (failures are not cached)', (path, error) => {
    expect(() => thingResourceAt(path)).toThrow(expect.objectContaining({ error }));
    expect(() => thingResourceAt(path)).toThrow(expect.objectContaining({ error }));
  });
});
