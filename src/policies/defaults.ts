/**
 * Ditto's default policy for a thing created without `policyId`, `_policy` or `_copyPolicyFrom`
 * (ditto-interfaces.md §1.2; ditto: ThingEnforcerActor.getDefaultPolicy).
 */
import type { Policy } from './model.js';

/** The label of the single entry of a default policy. */
export const DEFAULT_ENTRY_LABEL = 'DEFAULT';

/**
 * policyId = thingId; one entry `DEFAULT` whose subject is the creator's first authorization subject
 * (type `generated`), granted READ and WRITE on `thing:/`, `policy:/` and `message:/`.
 */
export function defaultPolicy(thingId: string, subject: string): Policy {
  const all = () => ({ grant: ['READ' as const, 'WRITE' as const], revoke: [] });
  return {
    policyId: thingId,
    entries: {
      [DEFAULT_ENTRY_LABEL]: {
        subjects: { [subject]: { type: 'generated' } },
        resources: { 'thing:/': all(), 'policy:/': all(), 'message:/': all() },
      },
    },
  };
}
