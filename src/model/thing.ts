/**
 * The thing model (ditto-interfaces.md §1.2, §1.3, jsonschema/thing_v2.json): resource kinds addressed by
 * a path, and validation of the JSON written at each kind.
 */
import { jsonFormatInvalid, jsonKeyInvalid } from '../errors/general.js';
import {
  definitionIdentifierInvalid,
  featureDefinitionEmpty,
  featureDefinitionIdentifierInvalid,
  thingIdInvalid,
  thingPathInvalid,
} from '../errors/things.js';
import { formatPointer, isPlainObject, parsePointer } from '../util/json-pointer.js';
import { isValidNamespacedId } from './ids.js';

export type ThingJson = {
  thingId?: string;
  policyId?: string;
  definition?: string;
  attributes?: Record<string, unknown>;
  features?: Record<string, FeatureJson>;
};
export type FeatureJson = {
  definition?: string[];
  properties?: Record<string, unknown>;
  desiredProperties?: Record<string, unknown>;
};

/** What a path inside a thing addresses; the names key the per-level errors in errors/things.ts. */
export type ThingResourceKind =
  | 'thing'
  | 'thingId'
  | 'policyId'
  | 'definition'
  | 'attributes'
  | 'attribute'
  | 'features'
  | 'feature'
  | 'featureDefinition'
  | 'featureProperties'
  | 'featureProperty'
  | 'featureDesiredProperties'
  | 'featureDesiredProperty';

export interface ThingResource {
  readonly kind: ThingResourceKind;
  readonly segments: readonly string[];
  /** `segments` as a normalised JSON pointer (`/` for the thing). */
  readonly pointer: string;
  readonly featureId?: string;
  /** attribute / property path below attributes, properties or desiredProperties */
  readonly subPath?: readonly string[];
}

const resources = new Map<string, ThingResource>();
const MAX_CACHED_RESOURCES = 4096;

/**
 * The resource a JSON pointer addresses inside a thing (parsed and classified once per distinct path: the
 * same few paths come with every request and message); throws for paths that address nothing.
 */
export function thingResourceAt(path: string): ThingResource {
  let resource = resources.get(path);
  if (resource === undefined) {
    resource = resolveThingResource(parsePointer(path), path);
    if (resources.size >= MAX_CACHED_RESOURCES) resources.clear();
    resources.set(path, resource);
  }
  return resource;
}

/** Classifies a path (already split into segments) inside a thing; throws for paths that address nothing. */
function resolveThingResource(segments: readonly string[], pathForError: string): ThingResource {
  const kind = kindOf(segments);
  if (kind === undefined) throw thingPathInvalid({ path: pathForError });
  const [, featureId, , ...rest] = segments;
  return {
    kind,
    segments,
    pointer: formatPointer(segments),
    // One shape for every kind (the resource is read on every command).
    featureId: segments[0] === 'features' && segments.length > 1 ? featureId : undefined,
    subPath:
      kind === 'attribute'
        ? segments.slice(1)
        : kind === 'featureProperty' || kind === 'featureDesiredProperty'
          ? rest
          : undefined,
  };
}

function kindOf(segments: readonly string[]): ThingResourceKind | undefined {
  const [first, , third, ...rest] = segments;
  if (segments.length === 0) return 'thing';
  if (segments.length === 1 && (first === 'thingId' || first === 'policyId' || first === 'definition'))
    return first;
  if (first === 'attributes') return segments.length === 1 ? 'attributes' : 'attribute';
  if (first === 'features') {
    if (segments.length === 1) return 'features';
    if (segments.length === 2) return 'feature';
    if (third === 'definition' && rest.length === 0) return 'featureDefinition';
    if (third === 'properties') return rest.length === 0 ? 'featureProperties' : 'featureProperty';
    if (third === 'desiredProperties')
      return rest.length === 0 ? 'featureDesiredProperties' : 'featureDesiredProperty';
  }
  return undefined;
}

// ditto: §1.2 definition `ns:name:version` or an http(s) URL.
const DEFINITION = /^([_a-zA-Z0-9\-.]+):([_a-zA-Z0-9\-.]+):([_a-zA-Z0-9\-.]+)$/;
const isDefinition = (v: unknown): v is string =>
  typeof v === 'string' && (DEFINITION.test(v) || /^https?:\/\/\S+$/.test(v));

/** JSON keys must not contain '/' or control characters (§1.2). Checked recursively. */
export function checkKeys(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) checkKeys(v);
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      // eslint-disable-next-line no-control-regex
      if (key === '' || /[/\x00-\x1F\x7F]/.test(key)) throw jsonKeyInvalid({ key });
      checkKeys(value[key]);
    }
  }
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw jsonFormatInvalid({ detail: `The ${what} must be a JSON object.` });
  return value;
}

function validateFeatureDefinition(value: unknown): void {
  if (!Array.isArray(value))
    throw jsonFormatInvalid({ detail: 'The feature definition must be a JSON array.' });
  if (value.length === 0) throw featureDefinitionEmpty();
  for (const id of value) {
    if (!isDefinition(id)) throw featureDefinitionIdentifierInvalid({ identifier: String(id) });
  }
}

export function validateFeature(value: unknown): FeatureJson {
  const feature = requireObject(value, 'feature');
  for (const [key, v] of Object.entries(feature)) {
    if (key === 'definition') validateFeatureDefinition(v);
    else if (key === 'properties' || key === 'desiredProperties') checkKeys(requireObject(v, key));
    else throw jsonFormatInvalid({ detail: `The feature field '${key}' is unknown.` });
  }
  return feature as FeatureJson;
}

function validateFeatures(value: unknown): Record<string, FeatureJson> {
  const features = requireObject(value, 'features');
  for (const [id, feature] of Object.entries(features)) {
    // ditto: §1.2 feature IDs follow the JSON key rules and must not be the wildcard '*'
    checkKeys({ [id]: null });
    if (id === '*') throw jsonKeyInvalid({ key: id });
    validateFeature(feature);
  }
  return features as Record<string, FeatureJson>;
}

/**
 * Validates the thing JSON of a create or full modify (the write-only helpers `_policy` and
 * `_copyPolicyFrom` are removed by the caller before). Unknown top-level fields are rejected.
 */
export function validateThing(value: unknown): ThingJson {
  const thing = requireObject(value, 'thing');
  for (const [key, v] of Object.entries(thing)) {
    switch (key) {
      case 'thingId':
        if (typeof v !== 'string') throw thingIdInvalid({ id: String(v) });
        break;
      case 'policyId':
        if (typeof v !== 'string' || !isValidNamespacedId(v)) {
          throw jsonFormatInvalid({ detail: `The policyId '${String(v)}' is not a valid namespaced ID.` });
        }
        break;
      case 'definition':
        if (v !== null && !isDefinition(v)) throw definitionIdentifierInvalid({ identifier: String(v) });
        break;
      case 'attributes':
        checkKeys(requireObject(v, 'attributes'));
        break;
      case 'features':
        validateFeatures(v);
        break;
      default:
        throw jsonFormatInvalid({ detail: `The thing field '${key}' is unknown or not writable.` });
    }
  }
  return thing as ThingJson;
}

/** Validates a value written at a sub-resource of a thing. */
export function validateAt(resource: ThingResource, value: unknown): void {
  switch (resource.kind) {
    case 'thing':
      validateThing(value);
      return;
    case 'policyId':
      if (typeof value !== 'string' || !isValidNamespacedId(value)) {
        throw jsonFormatInvalid({
          detail: 'The policyId must be a JSON string holding a valid namespaced ID.',
        });
      }
      return;
    case 'definition':
      if (value !== null && !isDefinition(value))
        throw definitionIdentifierInvalid({ identifier: String(value) });
      return;
    case 'attributes':
    case 'featureProperties':
    case 'featureDesiredProperties':
      checkKeys(requireObject(value, resource.kind));
      return;
    case 'attribute':
    case 'featureProperty':
    case 'featureDesiredProperty':
      checkKeys(value);
      return;
    case 'features':
      validateFeatures(value);
      return;
    case 'feature':
      if (resource.featureId === '*') throw jsonKeyInvalid({ key: '*' });
      validateFeature(value);
      return;
    case 'featureDefinition':
      validateFeatureDefinition(value);
      return;
    case 'thingId':
      return;
  }
}
