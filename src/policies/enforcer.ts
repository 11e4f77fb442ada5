/**
 * The policy enforcer (ditto-interfaces.md §7.3, §7.4, §2.4, §14 items 2–3): a policy compiled once into
 * a trie (see trie.ts) that answers permission questions for a caller's authorization subjects.
 *
 * Who calls it: thing and policy command handling (reads → partial READ or 404, writes → unrestricted
 * WRITE or 403, merge → `canWriteAll`), response/event filtering (`filterReadable`) and event delivery
 * per subscriber (`hasPartial`/`hasUnrestricted` on the event's resource, a few hundred nanoseconds).
 * An enforcer is immutable; cache it per policy revision (and recompile when an imported policy changes
 * or a subject's expiry passes).
 */
import { isPlainObject } from '../util/json-pointer.js';
import { regexDeletionPattern } from '../util/merge-patch.js';
import type { Permission, Policy, PolicyEntry } from './model.js';
import { parseResource, splitPath } from './resource.js';
import {
  buildTrie,
  hasPermissions,
  unrestrictedSubjects,
  type GrantRevoke,
  type TrieNode,
  type TrieStatement,
} from './trie.js';

export interface EnforcerOptions {
  /** The instant subjects' `expiry` is compared with (expired subjects count for nothing); default: now. */
  now?: Date | number | string;
  /** Resolves an imported policy by ID (§7.4); unresolved imports contribute nothing. */
  resolveImport?: (policyId: string) => Policy | undefined;
  /**
   * The namespace of the entity the policy is enforced for. When given, entries with a non-empty
   * `namespaces` list apply only if one pattern matches (3.9: `com.acme` exact, `com.acme.*` strictly below).
   * When absent, `namespaces` is not evaluated.
   */
  namespace?: string;
}

export interface Enforcer {
  /** Every permission granted on `resource` and nothing of them revoked at or below it (WRITE of a subtree, full READ). */
  hasUnrestricted(resource: string, subjects: readonly string[], permissions: readonly Permission[]): boolean;
  /** Every permission granted at or somewhere below `resource` (READ of a parent ⇒ a pruned view). */
  hasPartial(resource: string, subjects: readonly string[], permissions: readonly Permission[]): boolean;
  /**
   * `value` found at `path` of an entity of `type`, pruned to what `subjects` may READ; undefined when
   * nothing is readable. Readable subtrees are returned by reference (not copied). For a whole thing
   * (`path` `/`), `thingId` is kept whenever any part of the thing is readable.
   */
  filterReadable(
    type: 'thing' | 'policy',
    path: string,
    value: unknown,
    subjects: readonly string[],
  ): unknown;
  /** Whether a merge patch at `basePath` only touches paths with unrestricted WRITE (§2.4). */
  canWriteAll(
    type: 'thing' | 'policy',
    basePath: string,
    patch: unknown,
    subjects: readonly string[],
  ): boolean;
  /** The subjects with unrestricted `permissions` on `resource` (revoked anywhere below ⇒ excluded). */
  subjectsWithUnrestricted(resource: string, permissions: readonly Permission[]): Set<string>;
}

/** ditto: §7.4 resolved view labels of imported entries. */
export const importedLabel = (policyId: string, label: string) => `imported-${policyId}-${label}`;

/** The entries that take part in enforcement: the policy's own plus the importable entries of its imports. */
export function effectiveEntries(
  policy: Policy,
  resolveImport?: EnforcerOptions['resolveImport'],
): Array<[string, PolicyEntry]> {
  const result: Array<[string, PolicyEntry]> = Object.entries(policy.entries);
  if (policy.imports === undefined || resolveImport === undefined) return result;
  for (const [importedId, spec] of Object.entries(policy.imports)) {
    const imported = resolveImport(importedId);
    if (imported === undefined) continue;
    const listed = new Set(spec.entries ?? []);
    for (const [label, entry] of Object.entries(imported.entries)) {
      const importable = entry.importable ?? 'implicit';
      if (importable === 'implicit' || (importable === 'explicit' && listed.has(label))) {
        result.push([importedLabel(importedId, label), entry]);
      }
    }
  }
  return result;
}

function namespaceMatches(patterns: readonly string[] | undefined, namespace: string | undefined): boolean {
  if (namespace === undefined || patterns === undefined || patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith('.*') ? namespace.startsWith(p.slice(0, -1)) : namespace === p));
}

function toMillis(now: EnforcerOptions['now']): number {
  if (now === undefined) return Date.now();
  return typeof now === 'number' ? now : new Date(now).getTime();
}

/** Compiles `policy` (with its imports, at `options.now`) into an enforcer. */
export function createEnforcer(policy: Policy, options: EnforcerOptions = {}): Enforcer {
  const now = toMillis(options.now);
  const statements: TrieStatement[] = [];
  for (const [, entry] of effectiveEntries(policy, options.resolveImport)) {
    if (!namespaceMatches(entry.namespaces, options.namespace)) continue;
    const subjects = Object.entries(entry.subjects)
      .filter(([, s]) => s.expiry === undefined || new Date(s.expiry).getTime() > now)
      .map(([id]) => id);
    if (subjects.length === 0) continue;
    for (const [key, perms] of Object.entries(entry.resources)) {
      const { type, segments } = parseResource(key);
      statements.push({ subjects, path: [type, ...segments], grant: perms.grant, revoke: perms.revoke });
    }
  }
  return new TrieEnforcer(buildTrie(statements));
}

type Mode = 'partial' | 'unrestricted';

const READ: readonly Permission[] = ['READ'];
const WRITE: readonly Permission[] = ['WRITE'];

class TrieEnforcer implements Enforcer {
  constructor(private readonly root: TrieNode) {}

  /** ditto: TrieBasedPolicyEnforcer.seekWithFallback — the exact node's bottom-up index, else the
   * nearest ancestor's inherited index. */
  private indexFor(type: string, segments: readonly string[], mode: Mode): GrantRevoke | undefined {
    let node = this.root.children.get(type);
    if (node === undefined) return undefined;
    for (const key of segments) {
      const child: TrieNode | undefined = node.children.get(key);
      if (child === undefined) return node.inherited;
      node = child;
    }
    return mode === 'partial' ? node.bottomUpGrant : node.bottomUpRevoke;
  }

  private check(
    resource: string,
    subjects: readonly string[],
    permissions: readonly Permission[],
    mode: Mode,
  ): boolean {
    const { type, segments } = parseResource(resource);
    const index = this.indexFor(type, segments, mode);
    return index !== undefined && hasPermissions(index, subjects, permissions);
  }

  hasUnrestricted(
    resource: string,
    subjects: readonly string[],
    permissions: readonly Permission[],
  ): boolean {
    return this.check(resource, subjects, permissions, 'unrestricted');
  }

  hasPartial(resource: string, subjects: readonly string[], permissions: readonly Permission[]): boolean {
    return this.check(resource, subjects, permissions, 'partial');
  }

  subjectsWithUnrestricted(resource: string, permissions: readonly Permission[]): Set<string> {
    const { type, segments } = parseResource(resource);
    const index = this.indexFor(type, segments, 'unrestricted');
    return index === undefined ? new Set() : unrestrictedSubjects(index, permissions);
  }

  filterReadable(
    type: 'thing' | 'policy',
    path: string,
    value: unknown,
    subjects: readonly string[],
  ): unknown {
    const segments = splitPath(path);
    let node = this.root.children.get(type);
    if (node === undefined) return undefined;
    let exact = true;
    for (const key of segments) {
      const child: TrieNode | undefined = node.children.get(key);
      if (child === undefined) {
        exact = false;
        break;
      }
      node = child;
    }
    const result = view(value, exact ? node : undefined, node.inherited, subjects);
    // A fully readable thing is the stored object itself, so its cached JSON text is reused (util/json-text).
    if (
      type === 'thing' &&
      segments.length === 0 &&
      isPlainObject(value) &&
      value.thingId !== undefined &&
      result !== value
    ) {
      // ditto: §7.3 thingId is readable whenever any part of the thing is.
      if (result !== undefined || this.hasPartial('thing:/', subjects, READ)) {
        return { thingId: value.thingId, ...(result as Record<string, unknown> | undefined) };
      }
    }
    return result;
  }

  canWriteAll(
    type: 'thing' | 'policy',
    basePath: string,
    patch: unknown,
    subjects: readonly string[],
  ): boolean {
    return this.writable(type, splitPath(basePath), patch, subjects);
  }

  // ditto: §2.4 — the touched paths of a merge patch are its leaves (scalars, arrays, null, empty
  // objects). A regex-deletion key `{{ ~re~ }}` may delete any sibling, so it needs WRITE on its parent.
  private writable(type: string, segments: string[], patch: unknown, subjects: readonly string[]): boolean {
    if (isPlainObject(patch)) {
      const keys = Object.keys(patch);
      if (keys.length > 0) {
        for (const key of keys) {
          const ok =
            regexDeletionPattern(key) !== undefined
              ? hasPermissions(this.indexFor(type, segments, 'unrestricted') ?? EMPTY, subjects, WRITE)
              : this.writable(type, [...segments, key], patch[key], subjects);
          if (!ok) return false;
        }
        return true;
      }
    }
    const index = this.indexFor(type, segments, 'unrestricted');
    return index !== undefined && hasPermissions(index, subjects, WRITE);
  }
}

const EMPTY: GrantRevoke = { grant: new Map(), revoke: new Map() };

/** Sets an own property, also for the key `__proto__` (which plain assignment would treat as the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * ditto: PolicyTrie.buildJsonView — walks `value` along the trie. `node` is the trie node of the value's
 * path (undefined below the trie's leaves: then `index`, the nearest ancestor's, applies to everything).
 * Array elements are judged at the array's node. An object is kept when something in it is readable
 * or READ is granted on it; scalars when READ is granted.
 */
function view(
  value: unknown,
  node: TrieNode | undefined,
  index: GrantRevoke,
  subjects: readonly string[],
): unknown {
  if (node === undefined || node.children.size === 0) {
    // No statement below: the whole subtree shares one decision.
    return hasPermissions(index, subjects, READ) ? value : undefined;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const child = node.children.get(key);
      const v = view(value[key], child, child === undefined ? index : child.inherited, subjects);
      if (v !== undefined) setOwn((out ??= {}), key, v);
    }
    if (out !== undefined) return out;
    return hasPermissions(index, subjects, READ) ? {} : undefined;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const element of value) {
      const v = view(element, node, index, subjects);
      if (v !== undefined) out.push(v);
    }
    return out.length > 0 || hasPermissions(index, subjects, READ) ? out : undefined;
  }
  return hasPermissions(index, subjects, READ) ? value : undefined;
}

export { defaultPolicy } from './defaults.js';

/**
 * Lockout protection (§2.8, §7.3): whether some subject still has unrestricted WRITE on `policy:/` in
 * `policy` (with its imports and at `options.now`, as enforced). A policy write for which this is false
 * is refused with 403 `policies:policy.modificationinvalid` (or `policies:entry.modificationinvalid` for
 * an entry-level write), unless `allow-policy-lockout` is set on creation.
 */
export function leavesPolicyWriter(policy: Policy, options: EnforcerOptions = {}): boolean {
  return createEnforcer(policy, options).subjectsWithUnrestricted('policy:/', WRITE).size > 0;
}
