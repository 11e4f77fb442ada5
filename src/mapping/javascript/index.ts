// Public surface of the JavaScript payload mapper (ditto-interfaces.md §12.2). See mapper.ts for the contract.
export { createJavaScriptMapper, optionFlag, type JavaScriptMapper } from './mapper.js';
export {
  DEFAULT_LIMITS,
  type DittoProtocolMessage,
  type ExternalMessage,
  type JavaScriptLimits,
  type JavaScriptMapperOptions,
  type MappingOutcome,
} from './types.js';
