/**
 * What thing command handling needs from policies: loading a policy (latest accepted state), its
 * compiled enforcer, and the policy write that comes with creating a thing (§1.2: default policy,
 * inline `_policy`, `_copyPolicyFrom`). Implemented by src/policies/directory.ts.
 */
import type { AuthContext } from '../auth/context.js';
import type { DittoHeaders } from '../model/signals.js';
import type { Change, EntityRecord } from '../store/port.js';

export type Permission = 'READ' | 'WRITE' | 'EXECUTE';

/** The decisions thing handling asks of a compiled policy (ditto: §7.3). */
export interface ThingEnforcer {
  hasUnrestricted(resource: string, subjects: readonly string[], permissions: readonly Permission[]): boolean;
  hasPartial(resource: string, subjects: readonly string[], permissions: readonly Permission[]): boolean;
  /** `value` found at `path` of an entity of `type`, pruned to what may be read; undefined if nothing. */
  filterReadable(
    type: 'thing' | 'policy',
    path: string,
    value: unknown,
    subjects: readonly string[],
  ): unknown;
}

export interface ThingPolicyRequest {
  thingId: string;
  /** The policy the thing will have. */
  policyId: string;
  /** Whether the request named the policyId (it must then exist). */
  explicitPolicyId: boolean;
  inlinePolicy?: unknown;
  copyFrom?: string;
  auth: AuthContext;
  headers: DittoHeaders;
  now: Date;
}

export interface PolicyDirectory {
  /** Loads the latest accepted policy (cached); undefined when it does not exist. */
  load(policyId: string): Promise<EntityRecord | undefined>;
  /** Whether `load` already resolved for the policy and the policies it imports (no await needed). */
  isLoaded(policyId: string): boolean;
  /** The enforcer of the latest accepted policy, once `load` resolved; undefined if it does not exist. */
  enforcerOfHead(policyId: string | undefined): ThingEnforcer | undefined;
  /** The enforcer of the durable policy, for reads. */
  enforcerFor(policyId: string | undefined): Promise<ThingEnforcer | undefined>;
  /**
   * Decides the policy of a thing being created: an existing one, or a new one to write together with
   * the thing (returned as `change`). Throws the Ditto error when the policy cannot be used.
   */
  prepareForThing(request: ThingPolicyRequest): Promise<{
    enforcer: ThingEnforcer;
    change?: Change;
  }>;
  /**
   * A thing may be given an existing policy (created with its `policyId`, or moved to it) only by a
   * requester with unrestricted WRITE on that policy's `policy:/`: who cannot administer a policy must not
   * put things under it. Throws 404 `policies:policy.notfound` when the policy is missing or not readable
   * by the requester (alike: no existence oracle), 403 `policies:policy.notmodifiable` when it is readable
   * but not writable.
   */
  checkAdministrable(policyId: string, auth: AuthContext): Promise<void>;
  /** A policy write was accepted by the store (becomes the head). */
  noteAccepted(record: EntityRecord): void;
  /** Drops cached state of a policy (all when undefined) after a failed or conflicting write. */
  forget(policyId: string | undefined): void;
}
