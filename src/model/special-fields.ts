/**
 * ditto: §1.2 the read-only fields of a thing or a policy that only a field selector brings out (`fields=_revision`):
 * its namespace, revision and timestamps, taken from its record.
 */
import { extended } from '../util/objects.js';
import { namespaceOf } from './ids.js';

/** What the special fields are made of (an entity record of the store has it). */
export interface RecordStamp {
  readonly id: string;
  readonly revision: number;
  readonly created: string;
  readonly modified: string;
}

/** `value` (the entity as the requester may see it) with `_namespace`, `_revision`, `_created` and `_modified`. */
export function withSpecialFields(
  value: Record<string, unknown>,
  record: RecordStamp,
): Record<string, unknown> {
  return extended(value, {
    _namespace: namespaceOf(record.id),
    _revision: record.revision,
    _created: record.created,
    _modified: record.modified,
  });
}
