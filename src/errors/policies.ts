import { defineError } from './ditto-error.js';

// Policies errors (ditto-interfaces.md §2.8, §2.11, §7). As for things, "not found" also covers
// "not readable": existence is never leaked to a caller without READ.

const CHECK_ID = 'Check if the ID of the Policy was correct and you have sufficient permissions.';

export const policyNotFound = defineError<{ policyId: string }>({
  code: 'policies:policy.notfound',
  status: 404,
  message: ({ policyId }) =>
    `The Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access it.`,
  description: CHECK_ID,
});

/** ditto: PolicyHistoryNotAccessibleException (3.2+); `at` as for things:thing.history.notfound. */
export const policyHistoryNotFound = defineError<{ policyId: string; at: string }>({
  code: 'policies:policy.history.notfound',
  status: 404,
  message: ({ policyId, at }) =>
    `The Policy with ID '${policyId}' at ${at} could not be found or requester had insufficient permissions to access it.`,
  description:
    'Check if the ID of your requested Policy was correct, you have sufficient permissions and ensure that the asked for revision/timestamp does not exceed the history-retention-duration or is from the future.',
});

export const policyNotModifiable = defineError<{ policyId: string }>({
  code: 'policies:policy.notmodifiable',
  status: 403,
  message: ({ policyId }) =>
    `The Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions to modify it.`,
  description: CHECK_ID,
});

export const policyConflict = defineError<{ policyId: string }>({
  code: 'policies:policy.conflict',
  status: 409,
  message: ({ policyId }) => `The Policy with ID '${policyId}' already exists`,
  description: 'Choose another Policy ID',
});

export const policyTooLarge = defineError<{ size: number; max: number }>({
  code: 'policies:policy.toolarge',
  status: 413,
  message: ({ size, max }) =>
    `The size of '${size}' bytes exceeds the maximal allowed Policy size of '${max}' bytes.`,
  description: 'Reduce the Policy size in the bounds of the specified limit.',
});

export const policyTooManyModifyingRequests = defineError<{ policyId: string }>({
  code: 'policies:policy.toomanymodifyingrequests',
  status: 429,
  message: ({ policyId }) =>
    `Too many modifying requests are already outstanding to the Policy with ID '${policyId}'.`,
  description:
    'Throttle your modifying requests to the Policy or re-structure your Policy in multiple Policies.',
});

/** ditto: §2.8 lockout protection: the resulting policy would leave nobody with WRITE on `policy:/`. */
export const policyModificationInvalid = defineError<{ policyId: string }>({
  code: 'policies:policy.modificationinvalid',
  status: 403,
  message: ({ policyId }) =>
    `The Policy with ID '${policyId}' could not be modified as the resulting Policy would be invalid.`,
  description:
    "There must always be at least one Policy Entry with 'WRITE' permissions on resource 'policy:/' (unless 'allow-policy-lockout' is set on creation).",
});

export const entryModificationInvalid = defineError<{ policyId: string; label: string }>({
  code: 'policies:entry.modificationinvalid',
  status: 403,
  message: ({ policyId, label }) =>
    `The PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be modified as the resulting Policy would be invalid.`,
  description:
    "There must always be at least one Policy Entry with 'WRITE' permissions on resource 'policy:/'.",
});

export const policyIdInvalid = defineError<{ id: string }>({
  code: 'policies:id.invalid',
  status: 400,
  message: ({ id }) => `Policy ID '${id}' is not valid!`,
  description:
    'It must conform to the namespaced entity ID notation (see Ditto documentation): <namespace>:<name>, at most 256 characters.',
});

export const policyIdNotSettable = defineError<void>({
  code: 'policies:id.notsettable',
  status: 400,
  message: () => 'The Policy ID in the request body is not equal to the Policy ID in the request URL.',
  description:
    'Either delete the Policy ID from the request body or use the same Policy ID as in the request URL.',
});

export const labelInvalid = defineError<{ label: string; detail?: string }>({
  code: 'policies:label.invalid',
  status: 400,
  message: ({ label, detail }) => `The Policy Label '${label}' is invalid${detail ? `: ${detail}` : ''}.`,
  description:
    "A label must not be empty, be '__proto__', contain control characters, or start with 'imported' or 'nsimported-'.",
});

export const subjectIdInvalid = defineError<{ subjectId: string }>({
  code: 'policies:subjectid.invalid',
  status: 400,
  message: ({ subjectId }) => `Subject ID '${subjectId}' is not valid!`,
  description: "It must contain an issuer as prefix separated by a colon ':' from the actual subject",
});

export const entryInvalid = defineError<{ detail: string; label?: string }>({
  code: 'policies:entry.invalid',
  status: 400,
  message: ({ label, detail }) => `The Policy Entry${label ? ` '${label}'` : ''} is invalid: ${detail}`,
  description: "Policy entry does not contain any known permission like 'READ' or 'WRITE'",
});

export const importsTooLarge = defineError<{ count: number; max: number }>({
  code: 'policies:imports.toolarge',
  status: 400,
  message: ({ count, max }) => `The number of policy imports '${count}' exceeds the maximum of '${max}'.`,
  description: 'Reduce the number of imported policies.',
});

export const preconditionFailed = defineError<{ header: string; value: string }>({
  code: 'policies:precondition.failed',
  status: 412,
  message: ({ header, value }) =>
    `The comparison of precondition header '${header}' for the requested Policy resource evaluated to false. Header value: '${value}'.`,
  description:
    'The comparison of the provided precondition header with the current ETag value of the requested Policy resource evaluated to false. Check the value of your conditional header value.',
});

export const preconditionNotModified = defineError<{ header: string; value: string }>({
  code: 'policies:precondition.notmodified',
  status: 304,
  message: ({ value }) =>
    `The comparison of precondition header 'if-none-match' for the requested Policy resource evaluated to false. Expected: '${value}' not to match actual.`,
  description:
    'The comparison of the provided precondition header with the current ETag value of the requested Policy resource evaluated to false.',
});

// Per-level errors for the sub-resources of a policy (§2.8 table): entries, subjects, resources, imports.

export const entriesNotFound = defineError<{ policyId: string }>({
  code: 'policies:entries.notfound',
  status: 404,
  message: ({ policyId }) =>
    `The PolicyEntries of the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access them.`,
  description: CHECK_ID,
});

export const entriesNotModifiable = defineError<{ policyId: string }>({
  code: 'policies:entries.notmodifiable',
  status: 403,
  message: ({ policyId }) =>
    `The PolicyEntries of the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
  description: CHECK_ID,
});

export const entryNotFound = defineError<{ policyId: string; label: string }>({
  code: 'policies:entry.notfound',
  status: 404,
  message: ({ policyId, label }) =>
    `The PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access it.`,
  description:
    'Check if the ID of the Policy and the Label of your requested PolicyEntry was correct and you have sufficient permissions.',
});

export const entryNotModifiable = defineError<{ policyId: string; label: string }>({
  code: 'policies:entry.notmodifiable',
  status: 403,
  message: ({ policyId, label }) =>
    `The PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions to modify it.`,
  description:
    'Check if the ID of the Policy and the Label of your requested PolicyEntry was correct and you have sufficient permissions.',
});

export const subjectsNotFound = defineError<{ policyId: string; label: string }>({
  code: 'policies:subjects.notfound',
  status: 404,
  message: ({ policyId, label }) =>
    `The Subjects of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access them.`,
  description: CHECK_ID,
});

export const subjectsNotModifiable = defineError<{ policyId: string; label: string }>({
  code: 'policies:subjects.notmodifiable',
  status: 403,
  message: ({ policyId, label }) =>
    `The Subjects of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
  description: CHECK_ID,
});

export const subjectNotFound = defineError<{ policyId: string; label: string; subjectId: string }>({
  code: 'policies:subject.notfound',
  status: 404,
  message: ({ policyId, label, subjectId }) =>
    `The Subject with ID '${subjectId}' of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access it.`,
  description: CHECK_ID,
});

export const subjectNotModifiable = defineError<{ policyId: string; label: string; subjectId: string }>({
  code: 'policies:subject.notmodifiable',
  status: 403,
  message: ({ policyId, label, subjectId }) =>
    `The Subject with ID '${subjectId}' of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions to modify it.`,
  description: CHECK_ID,
});

export const resourcesNotFound = defineError<{ policyId: string; label: string }>({
  code: 'policies:resources.notfound',
  status: 404,
  message: ({ policyId, label }) =>
    `The Resources of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access them.`,
  description: CHECK_ID,
});

export const resourcesNotModifiable = defineError<{ policyId: string; label: string }>({
  code: 'policies:resources.notmodifiable',
  status: 403,
  message: ({ policyId, label }) =>
    `The Resources of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
  description: CHECK_ID,
});

export const resourceNotFound = defineError<{ policyId: string; label: string; resource: string }>({
  code: 'policies:resource.notfound',
  status: 404,
  message: ({ policyId, label, resource }) =>
    `The Resource '${resource}' of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access it.`,
  description: CHECK_ID,
});

export const resourceNotModifiable = defineError<{ policyId: string; label: string; resource: string }>({
  code: 'policies:resource.notmodifiable',
  status: 403,
  message: ({ policyId, label, resource }) =>
    `The Resource '${resource}' of the PolicyEntry with Label '${label}' on the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
  description: CHECK_ID,
});

export const importsNotFound = defineError<{ policyId: string }>({
  code: 'policies:imports.notfound',
  status: 404,
  message: ({ policyId }) =>
    `The Imports of the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access them.`,
  description: CHECK_ID,
});

export const importsNotModifiable = defineError<{ policyId: string }>({
  code: 'policies:imports.notmodifiable',
  status: 403,
  message: ({ policyId }) =>
    `The Imports of the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
  description: CHECK_ID,
});

/** ditto: PolicyImportInvalidException — a policy cannot import itself. */
export const importInvalid = defineError<{ policyId: string }>({
  code: 'policies:import.invalid',
  status: 400,
  message: ({ policyId }) => `The Policy with ID '${policyId}' cannot import itself.`,
  description: 'Import other policies only.',
});

export const importNotFound = defineError<{ policyId: string; importedPolicyId: string }>({
  code: 'policies:import.notfound',
  status: 404,
  message: ({ policyId, importedPolicyId }) =>
    `The Policy Import of the imported Policy with ID '${importedPolicyId}' on the Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access it.`,
  description: CHECK_ID,
});

export const importNotModifiable = defineError<{ policyId: string; importedPolicyId: string }>({
  code: 'policies:import.notmodifiable',
  status: 403,
  message: ({ policyId, importedPolicyId }) =>
    `The Policy Import of the imported Policy with ID '${importedPolicyId}' on the Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
  description: CHECK_ID,
});
