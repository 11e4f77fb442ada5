/**
 * The built-in mapping engines by alias, spelled exactly as in ditto-interfaces.md §12.1. Ditto has no
 * lower-case aliases; an ID such as `connectionStatus` in Ditto's examples is a mappingDefinitions key.
 * Adding an engine: its module here plus one entry in `builtinEngines`.
 */
import type { MappingEngine } from '../types.js';
import { cloudEventsEngine } from './cloud-events.js';
import { connectionStatusEngine } from './connection-status.js';
import { dittoEngine } from './ditto.js';
import { implicitThingCreationEngine } from './implicit-thing-creation.js';
import { javascriptEngine, type JavaScriptEngineOptions } from './javascript.js';
import { normalizedEngine } from './normalized.js';
import { rawMessageEngine } from './raw-message.js';
import { updateTwinWithLiveResponseEngine } from './update-twin-with-live-response.js';

export type { JavaScriptEngineOptions } from './javascript.js';
export { DITTO_CONTENT_TYPE_BLOCKLIST } from './ditto.js';

/** The default mapper of every source and target without `payloadMapping` (§11.2). */
export const DEFAULT_MAPPER = 'Ditto';

export function builtinEngines(
  options: { javascript?: JavaScriptEngineOptions } = {},
): ReadonlyMap<string, MappingEngine> {
  const engines = [
    dittoEngine,
    javascriptEngine(options.javascript),
    normalizedEngine,
    connectionStatusEngine,
    rawMessageEngine,
    implicitThingCreationEngine,
    updateTwinWithLiveResponseEngine,
    cloudEventsEngine,
  ];
  return new Map(engines.map((engine) => [engine.alias, engine]));
}
