/**
 * The placeholder engine (ditto-interfaces.md §11.5): compile a template once, validate it where it is saved,
 * resolve it per message. See compile.ts (grammar), functions.ts (the fn: table), resolve.ts (semantics),
 * resolvers.ts (per-prefix resolvers from plain inputs), time.ts, validate.ts.
 */
export { compileTemplate, compileExpression } from './compile.js';
export {
  resolveTemplate,
  resolvePartially,
  resolveAll,
  resolveFirst,
  resolveOrThrow,
  evaluateExpression,
  type PartialOptions,
} from './resolve.js';
export {
  validateTemplate,
  PLACEHOLDER_CATALOG,
  PLACEHOLDER_SCOPES,
  type ValidateOptions,
} from './validate.js';
export { PIPELINE_FUNCTIONS, MAX_PIPELINE_FUNCTIONS } from './functions.js';
export {
  timeResolver,
  parseTimeName,
  evaluateTime,
  formatInstant,
  type TimeSpec,
  type TimeUnit,
} from './time.js';
export {
  entityResolver,
  thingResolver,
  policyResolver,
  namespacedIdResolver,
  featureResolver,
  connectionResolver,
  requestResolver,
  sourceResolver,
  policyEntryResolver,
  topicResolver,
  topicFull,
  resourceResolver,
  headerResolver,
  jwtResolver,
  thingJsonResolver,
  refResolver,
  parseRefName,
  type TopicPathParts,
  type ResourceType,
  type HeaderSource,
} from './resolvers.js';
export {
  DELETED,
  UNRESOLVED,
  type CompiledTemplate,
  type TemplateResult,
  type PlaceholderResolver,
  type PlaceholderResolvers,
  type PlaceholderValue,
  type PlaceholderRef,
  type PipelineFunction,
  type ExpressionPart,
} from './types.js';
