// Property paths of RQL filters and sort options (ditto-interfaces.md §3.1): a JSON pointer with an optional
// leading "/", e.g. `attributes/location/floor`, `features/*/properties/temperature` (any feature).
// Which roots exist follows Ditto's ThingsFieldExpressionFactory; change-notification filters may also
// name the placeholders `topic:…`, `resource:…`, `entity:…`, `time:…` (no curly braces).

export type FilterMode = 'search' | 'event';

const SCALAR_ROOTS = new Set([
  'thingId',
  'policyId',
  '_namespace',
  '_revision',
  '_created',
  '_modified',
  'definition',
]);
const FEATURE_PARTS = new Set(['properties', 'desiredProperties', 'definition']);
const EVENT_PLACEHOLDER = /^(topic|resource|entity|time):[^/]+$/;

/** Splits a property into JSON pointer segments (one leading "/" is optional). */
export function propertySegments(property: string): string[] {
  return (property.startsWith('/') ? property.slice(1) : property).split('/');
}

/** Returns why the property cannot be used, or undefined when it can. */
export function propertyProblem(property: string, mode: FilterMode): string | undefined {
  if (mode === 'event' && EVENT_PLACEHOLDER.test(property)) return undefined;
  const segments = propertySegments(property);
  if (segments.some((s) => s === '')) return `the property '${property}' contains an empty segment`;
  const [root, second, third] = segments;
  if (SCALAR_ROOTS.has(root)) {
    return segments.length === 1 ? undefined : `the property '${root}' has no sub-fields`;
  }
  if (root === 'attributes' || root === '_metadata') return undefined;
  if (root === 'features') {
    if (second === undefined || third === undefined) return undefined;
    return FEATURE_PARTS.has(third) ? undefined : `unknown feature field '${third}' in '${property}'`;
  }
  return `unknown property '${property}' (expected thingId, policyId, _namespace, _revision, _created, _modified, _metadata, definition, attributes/… or features/…)`;
}
