// The policies domain (ditto-interfaces.md §7): model, validation, enforcement. Pure functions only.
export type * from './model.js';
export { PERMISSIONS, RESOURCE_TYPES } from './model.js';
export {
  validatePolicy,
  validateEntry,
  validateLabel,
  validateSubjectId,
  validateResourceKey,
  validateImports,
  MAX_POLICY_SIZE,
  MAX_IMPORTS,
} from './validate.js';
export {
  createEnforcer,
  leavesPolicyWriter,
  effectiveEntries,
  importedLabel,
  type Enforcer,
  type EnforcerOptions,
} from './enforcer.js';
export { defaultPolicy, DEFAULT_ENTRY_LABEL } from './defaults.js';
export { parseResource, splitPath, normaliseResourceKey } from './resource.js';
