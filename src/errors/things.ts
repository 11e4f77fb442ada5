import { defineError, type ErrorFactory } from './ditto-error.js';

// Things errors (ditto-interfaces.md §2.5, §2.11). Messages follow Ditto's wording: a missing
// resource and a resource the caller may not read are indistinguishable.

const notFound = (code: string, what: string) =>
  defineError<{ thingId: string; path?: string }>({
    code: `things:${code}.notfound`,
    status: 404,
    message: ({ thingId, path }) =>
      `The ${what}${path ? ` '${path}'` : ''} of the Thing with ID '${thingId}' could not be found or requester had insufficient permissions to access it.`,
    description: `Check if the ID of the Thing and the path were correct and you have sufficient permissions.`,
  });

const notModifiable = (code: string, what: string) =>
  defineError<{ thingId: string; path?: string }>({
    code: `things:${code}.notmodifiable`,
    status: 403,
    message: ({ thingId, path }) =>
      `The ${what}${path ? ` '${path}'` : ''} of the Thing with ID '${thingId}' could not be modified as the requester had insufficient permissions to modify it.`,
    description:
      'Check if the ID of the Thing and the path were correct and you have sufficient permissions.',
  });

/**
 * ditto: ThingHistoryNotAccessibleException (3.2+) — a revision or instant the history does not hold (in the
 * future, past retention, before the thing existed). `at` is `revision '<n>'` or `timestamp '<instant>'`.
 */
export const thingHistoryNotFound = defineError<{ thingId: string; at: string }>({
  code: 'things:thing.history.notfound',
  status: 404,
  message: ({ thingId, at }) =>
    `The Thing with ID '${thingId}' at ${at} could not be found or requester had insufficient permissions to access it.`,
  description:
    'Check if the ID of your requested Thing was correct, you have sufficient permissions and ensure that the asked for revision/timestamp does not exceed the history-retention-duration or is from the future.',
});

export const thingNotFound = defineError<{ thingId: string }>({
  code: 'things:thing.notfound',
  status: 404,
  message: ({ thingId }) =>
    `The Thing with ID '${thingId}' could not be found or requester had insufficient permissions to access it.`,
  description: 'Check if the ID of your requested Thing was correct and you have sufficient permissions.',
});

export const thingNotModifiable = defineError<{ thingId: string }>({
  code: 'things:thing.notmodifiable',
  status: 403,
  message: ({ thingId }) =>
    `The Thing with ID '${thingId}' could not be modified as the requester had insufficient permissions to modify it.`,
  description: 'Check if the ID of your requested Thing was correct and you have sufficient permissions.',
});

export const thingNotDeletable = defineError<{ thingId: string }>({
  code: 'things:thing.notdeletable',
  status: 403,
  message: ({ thingId }) =>
    `The Thing with ID '${thingId}' could not be deleted as the requester had insufficient permissions to delete it.`,
  description: 'Check if the ID of your requested Thing was correct and you have sufficient permissions.',
});

/** The per-level not-found and not-modifiable errors, keyed by resource kind. */
export const resourceErrors: Record<
  string,
  {
    notFound: ErrorFactory<{ thingId: string; path?: string }>;
    notModifiable: ErrorFactory<{ thingId: string; path?: string }>;
  }
> = Object.fromEntries(
  (
    [
      ['policyId', 'policyId', 'Policy ID'],
      ['definition', 'definition', 'definition'],
      ['attributes', 'attributes', 'attributes'],
      ['attribute', 'attribute', 'attribute'],
      ['features', 'features', 'features'],
      ['feature', 'feature', 'feature'],
      ['featureDefinition', 'feature.definition', 'feature definition'],
      ['featureProperties', 'feature.properties', 'properties'],
      ['featureProperty', 'feature.property', 'property'],
      ['featureDesiredProperties', 'feature.desiredProperties', 'desired properties'],
      ['featureDesiredProperty', 'feature.desiredProperty', 'desired property'],
    ] as const
  ).map(([kind, code, what]) => [
    kind,
    { notFound: notFound(code, what), notModifiable: notModifiable(code, what) },
  ]),
);

export const thingIdInvalid = defineError<{ id: string }>({
  code: 'things:id.invalid',
  status: 400,
  message: ({ id }) => `Thing ID '${id}' is not valid!`,
  description:
    'It must conform to the namespaced entity ID notation (see Ditto documentation): <namespace>:<name>, at most 256 characters.',
});

export const thingIdNotSettable = defineError<void>({
  code: 'things:id.notsettable',
  status: 400,
  message: () => 'The Thing ID in the request body is not equal to the Thing ID in the request URL.',
  description:
    'Either delete the Thing ID from the request body or use the same Thing ID as in the request URL.',
});

export const thingIdNotDeletable = defineError<void>({
  code: 'things:id.notdeletable',
  status: 400,
  message: () => 'The Thing ID must not be deleted.',
});

export const policyIdNotDeletable = defineError<void>({
  code: 'things:policyId.notdeletable',
  status: 400,
  message: () => 'The Policy ID of a Thing must not be deleted.',
  description: 'Modify the Policy ID instead.',
});

export const thingConflict = defineError<{ thingId: string }>({
  code: 'things:thing.conflict',
  status: 409,
  message: ({ thingId }) => `The Thing with ID '${thingId}' already exists.`,
  description: 'Choose another Thing ID or modify the existing Thing.',
});

export const thingNotCreatable = defineError<{ thingId: string; detail: string }>({
  code: 'things:thing.notcreatable',
  status: 400,
  message: ({ thingId, detail }) => `The Thing with ID '${thingId}' could not be created: ${detail}`,
});

export const thingTooManyModifyingRequests = defineError<{ thingId: string }>({
  code: 'things:thing.toomanymodifyingrequests',
  status: 429,
  message: ({ thingId }) =>
    `Too many modifying requests are already outstanding to the Thing with ID '${thingId}'.`,
  description:
    'Throttle your modifying requests to the Thing or re-structure your Thing in multiple Things if you really need so many concurrent modifications.',
  retriable: true,
});

export const thingTooLarge = defineError<{ size: number; max: number }>({
  code: 'things:thing.toolarge',
  status: 413,
  message: ({ size, max }) =>
    `The size of '${size}' bytes exceeds the maximal allowed Thing size of '${max}' bytes.`,
  description: 'Reduce the Thing size in the bounds of the specified limit.',
});

export const preconditionFailed = defineError<{ header: string; value: string }>({
  code: 'things:precondition.failed',
  status: 412,
  message: ({ header, value }) =>
    `The comparison of precondition header '${header}' for the requested Thing resource evaluated to false. Header value: '${value}'.`,
  description:
    'The comparison of the provided precondition header with the current ETag value of the requested Thing resource evaluated to false. Check the value of your conditional header value.',
});

export const preconditionNotModified = defineError<{ header: string; value: string }>({
  code: 'things:precondition.notmodified',
  status: 304,
  message: ({ value }) =>
    `The comparison of precondition header 'if-none-match' for the requested Thing resource evaluated to false. Expected: '${value}' not to match actual.`,
  description:
    'The comparison of the provided precondition header with the current ETag value of the requested Thing resource evaluated to false.',
});

export const conditionFailed = defineError<{ condition: string }>({
  code: 'things:condition.failed',
  status: 412,
  message: ({ condition }) =>
    `The specified condition '${condition}' does not match the state of the requested Thing.`,
  description: 'Check that the condition matches the current state of the Thing.',
});

export const conditionInvalid = defineError<{ condition: string; detail: string }>({
  code: 'things:condition.invalid',
  status: 400,
  message: ({ condition, detail }) => `The specified condition '${condition}' is invalid: ${detail}`,
});

export const featureDefinitionEmpty = defineError<void>({
  code: 'things:feature.definition.empty',
  status: 400,
  message: () => 'Feature Definition must not be empty!',
  description: 'Provide at least one definition identifier.',
});

export const featureDefinitionIdentifierInvalid = defineError<{ identifier: string }>({
  code: 'things:feature.definition.identifier.invalid',
  status: 400,
  message: ({ identifier }) => `Definition identifier <${identifier}> is invalid!`,
  description: "An identifier must be 'namespace:name:version' or an http(s) URL.",
});

export const definitionIdentifierInvalid = defineError<{ identifier: string }>({
  code: 'things:definition.identifier.invalid',
  status: 400,
  message: ({ identifier }) => `Thing Definition identifier <${identifier}> is invalid!`,
  description: "An identifier must be 'namespace:name:version' or an http(s) URL.",
});

export const thingIdsMissing = defineError<void>({
  code: 'things:things.ids.missing',
  status: 400,
  message: () => "The required 'ids' parameter is missing or empty.",
});

export const policyIdNotAllowed = defineError<void>({
  code: 'things:policy.id.notallowed',
  status: 400,
  message: () => "The fields '_policy' and 'policyId' or '_copyPolicyFrom' must not be used together.",
});

export const policyNotAllowed = defineError<void>({
  code: 'things:policy.notallowed',
  status: 400,
  message: () => "The field '_policy' is only allowed when creating a Thing.",
});

export const thingPathInvalid = defineError<{ path: string }>({
  code: 'things:path.invalid',
  status: 400,
  message: ({ path }) => `The path '${path}' does not address a resource of a Thing.`,
  description:
    'Valid paths are /, /policyId, /definition, /attributes[/...], /features[/<id>[/definition|/properties[/...]|/desiredProperties[/...]]].',
});
