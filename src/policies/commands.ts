/**
 * Policy commands and their responses (ditto-interfaces.md §2.8): what the HTTP and WebSocket transports hand
 * to PoliciesService, addressed by the level of the policy they act on.
 */
import type { DittoHeaders } from '../model/signals.js';

/** The addressable levels of a policy (§2.8). */
export type PolicyPath =
  | { kind: 'policy' }
  | { kind: 'entries' }
  | { kind: 'entry'; label: string }
  | { kind: 'subjects'; label: string }
  | { kind: 'subject'; label: string; subjectId: string }
  | { kind: 'resources'; label: string }
  | { kind: 'resource'; label: string; resource: string }
  | { kind: 'importable'; label: string }
  | { kind: 'namespaces'; label: string }
  | { kind: 'imports' }
  | { kind: 'import'; importedPolicyId: string }
  | { kind: 'importEntries'; importedPolicyId: string };

/** `create` fails on an existing policy (409, protocol create); `modify` upserts (HTTP PUT). */
export type PolicyCommandAction = 'create' | 'retrieve' | 'modify' | 'delete';

export interface PolicyCommand {
  policyId: string;
  action: PolicyCommandAction;
  path: PolicyPath;
  value?: unknown;
  headers: DittoHeaders;
  /** A field selector for retrieve (§2.3). */
  fields?: string;
}

export interface PolicyCommandResponse {
  policyId: string;
  action: PolicyCommandAction;
  path: PolicyPath;
  /** 200 retrieved, 201 created (with value), 204 modified or deleted. */
  status: number;
  value?: unknown;
  headers: DittoHeaders;
}

/** The keys from the policy root to `path` (raw keys: resource keys contain `/`). */
export function segmentsOf(path: PolicyPath): string[] {
  switch (path.kind) {
    case 'policy':
      return [];
    case 'entries':
      return ['entries'];
    case 'entry':
      return ['entries', path.label];
    case 'subjects':
    case 'resources':
    case 'importable':
    case 'namespaces':
      return ['entries', path.label, path.kind];
    case 'subject':
      return ['entries', path.label, 'subjects', path.subjectId];
    case 'resource':
      return ['entries', path.label, 'resources', path.resource];
    case 'imports':
      return ['imports'];
    case 'import':
      return ['imports', path.importedPolicyId];
    case 'importEntries':
      return ['imports', path.importedPolicyId, 'entries'];
  }
}
