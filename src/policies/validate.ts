/**
 * Validation of a policy body (PUT /policies/{id}, inline `_policy`, protocol create/modify):
 * ditto-interfaces.md §7.1 (schema), §2.8 (rules), §1.1 (IDs), §1.2 (size).
 *
 * Order of checks: size (413) → JSON schema (400 `json.*`) → policy ID (400 `policies:id.*`) → imports
 * (400) → entries: label, subject IDs, resource keys (400 `policies:*.invalid`).
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { jsonFieldMissing, jsonFormatInvalid } from '../errors/general.js';
import {
  entryInvalid,
  importInvalid,
  importsTooLarge,
  labelInvalid,
  policyIdInvalid,
  policyIdNotSettable,
  policyTooLarge,
  subjectIdInvalid,
} from '../errors/policies.js';
import { isValidNamespacedId } from '../model/ids.js';
import { setKey } from '../util/objects.js';
import type { Policy, PolicyEntry, PolicyImport } from './model.js';
import { resourceKeyProblem } from './resource.js';
import { policySchema } from './schema.js';

/** ditto: `limits.policies.max-size = 100k` (§1.2, §13), measured on the serialised JSON in bytes. */
export const MAX_POLICY_SIZE = 100 * 1024;
/** ditto: §2.8, §7.4. */
export const MAX_IMPORTS = 10;

export interface ValidatePolicyOptions {
  /** Byte limit of the serialised policy; default MAX_POLICY_SIZE. */
  maxSize?: number;
}

// ajv-formats is CommonJS; under NodeNext its default export arrives as `module.exports`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
  formats: string[],
) => Ajv;
const ajv = new Ajv({ allErrors: false, strict: false });
addFormats(ajv, ['date-time']);
/** Compiled once at module load. */
const validateSchema = ajv.compile(policySchema);

const READ_ONLY_FIELDS = ['_revision', '_created', '_modified', '_metadata'];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F]/;

/**
 * Validates a parsed JSON policy body and returns it as a typed Policy (read-only fields such as
 * `_revision` dropped). `expectedPolicyId` is the ID of the request path: a body without `policyId` gets
 * it; a body with a different one is rejected (400 `policies:id.notsettable`).
 * @throws DittoError as listed in the module comment.
 */
export function validatePolicy(
  json: unknown,
  expectedPolicyId?: string,
  options: ValidatePolicyOptions = {},
): Policy {
  const maxSize = options.maxSize ?? MAX_POLICY_SIZE;
  const size = Buffer.byteLength(JSON.stringify(json) ?? '', 'utf8');
  if (size > maxSize) throw policyTooLarge({ size, max: maxSize });

  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw jsonFormatInvalid({ detail: 'The policy must be a JSON object.' });
  }
  let body = json as Record<string, unknown>;
  if (expectedPolicyId !== undefined) {
    if (!isValidNamespacedId(expectedPolicyId)) throw policyIdInvalid({ id: expectedPolicyId });
    if (body.policyId === undefined) body = { ...body, policyId: expectedPolicyId };
    else if (body.policyId !== expectedPolicyId) throw policyIdNotSettable();
  }

  if (!validateSchema(body)) throw schemaError(validateSchema.errors ?? []);

  const policyId = body.policyId as string;
  if (!isValidNamespacedId(policyId)) throw policyIdInvalid({ id: policyId });

  const policy: Policy = { policyId, entries: {} };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'policyId' || key === 'entries' || READ_ONLY_FIELDS.includes(key)) continue;
    setKey(policy as unknown as Record<string, unknown>, key, value);
  }
  if (body.imports !== undefined)
    policy.imports = validateImports(body.imports as Record<string, PolicyImport>, policyId);
  for (const [label, entry] of Object.entries(body.entries as Record<string, PolicyEntry>)) {
    validateLabel(label);
    validateEntry(label, entry);
    policy.entries[label] = entry; // never `__proto__` (validateLabel)
  }
  return policy;
}

/**
 * ditto: §2.8 labels must not start with `imported` / `nsimported-` (reserved for resolved imports, §7.4).
 * `__proto__` is refused too: as a key of the entries object it would be the object's prototype, not an
 * entry (other names of Object.prototype, such as `constructor`, are ordinary own keys and allowed).
 */
export function validateLabel(label: string): void {
  if (label.length === 0) throw labelInvalid({ label, detail: 'it must not be empty' });
  if (label === '__proto__') throw labelInvalid({ label, detail: "'__proto__' is reserved" });
  if (CONTROL.test(label)) throw labelInvalid({ label, detail: 'it must not contain control characters' });
  if (label.startsWith('imported') || label.startsWith('nsimported-')) {
    throw labelInvalid({ label, detail: "it must not start with 'imported' or 'nsimported-'" });
  }
}

/** ditto: §7.1 subject IDs are `<issuer>:<subject>`, both parts non-empty. */
export function validateSubjectId(subjectId: string): void {
  const colon = subjectId.indexOf(':');
  if (colon <= 0 || colon === subjectId.length - 1 || CONTROL.test(subjectId))
    throw subjectIdInvalid({ subjectId });
}

/** Validates one resource key of an entry (§7.2). */
export function validateResourceKey(key: string, label?: string): void {
  const problem = resourceKeyProblem(key);
  if (problem !== undefined)
    throw entryInvalid({ label, detail: `The Policy Resource '${key}' is invalid: ${problem}.` });
}

/** Rules beyond the schema for one entry (also usable for PUT …/entries/{label}). */
export function validateEntry(label: string, entry: PolicyEntry): void {
  for (const subjectId of Object.keys(entry.subjects)) validateSubjectId(subjectId);
  for (const key of Object.keys(entry.resources)) validateResourceKey(key, label);
  for (const ref of entry.references ?? []) {
    if (ref.import !== undefined && !isValidNamespacedId(ref.import))
      throw policyIdInvalid({ id: ref.import });
  }
}

/** ditto: §7.4 at most 10 imports; keys are policy IDs; listed labels are labels. */
export function validateImports(
  imports: Record<string, PolicyImport>,
  policyId: string,
): Record<string, PolicyImport> {
  const ids = Object.keys(imports);
  if (ids.length > MAX_IMPORTS) throw importsTooLarge({ count: ids.length, max: MAX_IMPORTS });
  for (const id of ids) {
    if (!isValidNamespacedId(id)) throw policyIdInvalid({ id });
    if (id === policyId) throw importInvalid({ policyId });
    for (const label of imports[id].entries ?? []) validateLabel(label);
    for (const transitive of imports[id].transitiveImports ?? []) {
      if (!isValidNamespacedId(transitive)) throw policyIdInvalid({ id: transitive });
    }
  }
  return imports;
}

function schemaError(errors: ErrorObject[]) {
  const first = errors[0];
  if (first?.keyword === 'required') {
    const field = (first.params as { missingProperty: string }).missingProperty;
    return jsonFieldMissing({ field: `${first.instancePath}/${field}` });
  }
  const where = first?.instancePath || '/';
  return jsonFormatInvalid({
    detail: `The policy JSON is invalid at '${where}': ${first?.message ?? 'unknown error'}.`,
  });
}
