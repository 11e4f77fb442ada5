/**
 * `JavaScript` (ditto-interfaces.md §12.1, §12.2, §14 item 14): wraps the engine of src/mapping/javascript/,
 * which compiles the scripts once into an isolate and batches concurrent calls. Options `incomingScript`,
 * `outgoingScript` (an empty or absent script is Ditto's pass-through), `loadBytebufferJS`, `loadLongJS`.
 *
 * validate() runs at save time without executing anything: types, the 50 000-byte size limit and a syntax
 * check of each script (node:vm `Script` only parses, it never runs the code). Exceptions the scripts throw
 * while loading surface when the registry is created (`connectivity:message.mapper.config.failed`).
 */
import { Script } from 'node:vm';
import {
  createJavaScriptMapper,
  DEFAULT_LIMITS,
  type DittoProtocolMessage,
  type JavaScriptLimits,
} from '../javascript/index.js';
import type { MappingEngine, ProtocolJson } from '../types.js';
import { configInvalid } from './shared.js';

const SCRIPTS = ['incomingScript', 'outgoingScript'] as const;
const FLAGS = ['loadBytebufferJS', 'loadLongJS'] as const;

/** Limits of every JavaScript mapper created by a registry; tests lower the time budget. */
export interface JavaScriptEngineOptions {
  limits?: Partial<JavaScriptLimits>;
}

function checkSyntax(name: string, script: string): void {
  try {
    new Script(script, { filename: name });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const line = new RegExp(`^${name}:(\\d+)`).exec(error.stack ?? '')?.[1];
    throw configInvalid(
      `the ${name} has a syntax error: ${error.message}${line ? ` (line ${line})` : ''}`,
      error,
    );
  }
}

export function validateJavaScriptOptions(
  options: Record<string, unknown>,
  limits: Partial<JavaScriptLimits> = {},
): void {
  const maxBytes = limits.maxScriptSizeBytes ?? DEFAULT_LIMITS.maxScriptSizeBytes;
  for (const name of SCRIPTS) {
    const script = options[name];
    if (script === undefined || script === null) continue;
    if (typeof script !== 'string') throw configInvalid(`the option '${name}' must be a string`);
    const bytes = Buffer.byteLength(script, 'utf8');
    if (bytes > maxBytes)
      throw configInvalid(`the ${name} has ${bytes} bytes, more than the allowed ${maxBytes} bytes`);
    if (script !== '') checkSyntax(name, script);
  }
  for (const flag of FLAGS) {
    const value = options[flag];
    if (value !== undefined && typeof value !== 'boolean' && typeof value !== 'string') {
      throw configInvalid(`the option '${flag}' must be a boolean or "true"/"false"`);
    }
  }
}

export function javascriptEngine(engineOptions: JavaScriptEngineOptions = {}): MappingEngine {
  return {
    alias: 'JavaScript',
    configurationMandatory: true,
    validate: (options) => validateJavaScriptOptions(options, engineOptions.limits),
    async create(options) {
      const mapper = await createJavaScriptMapper(
        {
          incomingScript: (options.incomingScript as string | undefined) ?? '',
          outgoingScript: (options.outgoingScript as string | undefined) ?? '',
          loadBytebufferJS: options.loadBytebufferJS as boolean | string | undefined,
          loadLongJS: options.loadLongJS as boolean | string | undefined,
        },
        engineOptions.limits,
      );
      return {
        mapIncoming: (message) => mapper.mapIncoming(message) as Promise<ProtocolJson[]>,
        mapOutgoing: (message) => mapper.mapOutgoing(message as unknown as DittoProtocolMessage),
        close: () => mapper.close(),
      };
    },
  };
}
