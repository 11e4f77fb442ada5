/**
 * Save-time validation of templates (STYLE lesson 9: validated when a connection is saved, not on the first
 * message). validateTemplate compiles the template (syntax, function names, signatures, complexity) and
 * checks every placeholder against the prefixes allowed where the template is used and, for prefixes with a
 * fixed set of names, against that set (ditto-interfaces.md §11.5 "Scopes").
 */
import { placeholderUnknown } from '../errors/placeholders.js';
import { compileTemplate } from './compile.js';
import { ID_NAMES, TOPIC_NAMES, parseRefName } from './resolvers.js';
import { parseTimeName } from './time.js';
import type { CompiledTemplate, PlaceholderRef } from './types.js';

interface PrefixSpec {
  /** The fixed set of names, if any. */
  readonly names?: readonly string[];
  /** A check for prefixes with open names (pointers, header names, time expressions). */
  readonly accepts?: (name: string) => boolean;
}

const anyName = (name: string) => name.length > 0;

/** The placeholders this engine knows (§11.5, §1.2, §8). */
export const PLACEHOLDER_CATALOG: Readonly<Record<string, PrefixSpec>> = {
  entity: { names: ID_NAMES },
  thing: { names: ID_NAMES },
  policy: { names: ID_NAMES },
  feature: { names: ['id'] },
  'policy-entry': { names: ['label'] },
  connection: { names: ['id'] },
  topic: { names: TOPIC_NAMES },
  resource: { names: ['type', 'path'] },
  request: { names: ['subjectId'] },
  source: { names: ['address'] },
  header: { accepts: anyName },
  jwt: { accepts: anyName },
  // ditto: ImmutableThingJsonPlaceholder does not support the names id, namespace and name.
  'thing-json': { accepts: (name) => !(ID_NAMES as readonly string[]).includes(name) },
  time: { accepts: (name) => parseTimeName(name) !== undefined },
  ref: { accepts: (name) => parseRefName(name) !== undefined },
};

/** Prefixes available per use (§11.5 "Scopes"); callers may narrow them further per field. */
export const PLACEHOLDER_SCOPES = {
  connection: [
    'entity',
    'thing',
    'thing-json',
    'feature',
    'policy',
    'connection',
    'header',
    'topic',
    'resource',
    'request',
    'time',
    'source',
  ],
  enrichment: ['entity', 'thing', 'policy', 'feature', 'header', 'request', 'resource', 'topic', 'time'],
  rqlFilter: ['topic', 'resource', 'time'],
  entityCreation: ['request', 'time'],
  copyPolicyFrom: ['ref'],
  oidc: ['jwt'],
  policyActions: ['header', 'jwt', 'policy-entry', 'time'],
} as const satisfies Record<string, readonly string[]>;

export interface ValidateOptions {
  /** Prefixes allowed in this template; any other prefix is `placeholder:placeholder.unknown`. */
  readonly allowedPrefixes: readonly string[];
  /** Narrows the names of some prefixes, e.g. `{ header: ['mqtt.topic', 'mqtt.qos', 'mqtt.retain'] }` for
   * MQTT 3.1.1 source header mappings (§11.6). Header names compare case-insensitively. */
  readonly allowedNames?: Readonly<Record<string, readonly string[]>>;
}

function describe(prefix: string, options: ValidateOptions): string[] {
  const restricted = options.allowedNames?.[prefix];
  if (restricted !== undefined) return restricted.map((n) => `${prefix}:${n}`);
  const names = PLACEHOLDER_CATALOG[prefix]?.names;
  return names === undefined ? [`${prefix}:<name>`] : names.map((n) => `${prefix}:${n}`);
}

function checkPlaceholder(template: string, ref: PlaceholderRef, options: ValidateOptions): void {
  const allowed = options.allowedPrefixes.includes(ref.prefix);
  let known = allowed;
  if (allowed) {
    const restricted = options.allowedNames?.[ref.prefix];
    const spec = PLACEHOLDER_CATALOG[ref.prefix];
    if (restricted !== undefined) {
      const name = ref.prefix === 'header' ? ref.name.toLowerCase() : ref.name;
      known = restricted.some((n) => (ref.prefix === 'header' ? n.toLowerCase() : n) === name);
    } else if (spec?.names !== undefined) {
      known = spec.names.includes(ref.name);
    } else if (spec?.accepts !== undefined) {
      known = spec.accepts(ref.name);
    }
  }
  if (known) return;
  const supported = allowed
    ? describe(ref.prefix, options)
    : options.allowedPrefixes.flatMap((p) => describe(p, options));
  throw placeholderUnknown(
    { placeholder: ref.source, template, position: ref.position, supported },
    {
      description:
        supported.length === 0
          ? 'No placeholders are supported here.'
          : `Please use one of the supported placeholders: ${supported.join(', ')}.`,
    },
  );
}

/** Compiles and validates a template for the place it is used; returns the compiled template to keep.
 * Throws the first problem as a `placeholder:*` DittoError (400) naming the placeholder or function and its
 * position. */
export function validateTemplate(text: string, options: ValidateOptions): CompiledTemplate {
  const compiled = compileTemplate(text);
  for (const ref of compiled.placeholders) checkPlaceholder(text, ref, options);
  return compiled;
}
