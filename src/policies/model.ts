/**
 * The policy model (ditto-interfaces.md §7.1, jsonschema/policy.json).
 *
 * A Policy is plain JSON; these types describe the validated shape that `validatePolicy` returns and that
 * `createEnforcer` compiles. Fields of Ditto 3.9 (`namespaces`, `references`, `allowedAdditions`,
 * `transitiveImports`) are kept so that a stored policy round-trips, but only `namespaces` is evaluated.
 */

/** ditto: basic-policy#grant-and-revoke. EXECUTE is used by policy actions (§7.5). */
export type Permission = 'READ' | 'WRITE' | 'EXECUTE';
export const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'EXECUTE'];

/** The resource types a policy can control (§7.2). */
export type ResourceType = 'thing' | 'policy' | 'message';
export const RESOURCE_TYPES: readonly ResourceType[] = ['thing', 'policy', 'message'];

/** §7.4: `implicit` (default) entries are always imported, `explicit` only when listed, `never` never. */
export type Importable = 'implicit' | 'explicit' | 'never';

export interface SubjectAnnouncement {
  beforeExpiry?: string;
  whenDeleted?: boolean;
  randomizationInterval?: string;
  requestedAcks?: { labels?: string[]; timeout?: string };
}

/** One subject of an entry; the key in `subjects` is the subject ID `issuer:subject`. */
export interface Subject {
  /** Free text documenting the subject (required by the schema). */
  type: string;
  /** ISO-8601; the subject stops counting at this instant (§7.1). */
  expiry?: string;
  announcement?: SubjectAnnouncement;
}

export interface ResourcePermissions {
  grant: Permission[];
  revoke: Permission[];
}

export interface EntryReference {
  entry: string;
  import?: string;
}

export interface PolicyEntry {
  subjects: Record<string, Subject>;
  /** Keys are resource keys `thing:/…`, `policy:/…`, `message:/…`. */
  resources: Record<string, ResourcePermissions>;
  importable?: Importable;
  /** 3.9+: the entry applies only to entities whose namespace matches (`com.acme` or `com.acme.*`). */
  namespaces?: string[];
  /** 3.9+: stored, not evaluated. */
  references?: EntryReference[];
  /** 3.9+: stored, not evaluated. */
  allowedAdditions?: Array<'subjects' | 'resources' | 'namespaces'>;
}

export interface PolicyImport {
  /** Labels of `explicit` entries to import; `implicit` entries are imported regardless. */
  entries?: string[];
  /** 3.9+: stored, not evaluated. */
  transitiveImports?: string[];
}

export interface Policy {
  policyId: string;
  imports?: Record<string, PolicyImport>;
  entries: Record<string, PolicyEntry>;
}
