/**
 * The policy trie (ditto-interfaces.md §7.3; the algorithm of Ditto's `PolicyTrie`, `GrantRevokeIndex`,
 * `PermissionSubjectsMap`, re-stated here).
 *
 * One node per resource path segment, below one child per resource type (`thing`, `policy`, `message`).
 * Each node holds weighted relations permission → subject → weight, one for grants and one for revokes:
 *
 * 1. raw: the statements of all entries at exactly this path (entries are unioned, weight 0);
 * 2. inherited: the ancestors' relations pushed down with weight −1 per level, each pair overridden by
 *    the node's own statements (an own grant removes the inherited revoke of the same pair and vice
 *    versa; an own revoke beats an own grant of the same pair). A pair is thus either granted or revoked.
 * 3. bottom-up grant (partial permissions): the inherited relation plus the grants of all descendants,
 *    +1 per level; revokes of pairs granted below are dropped.
 * 4. bottom-up revoke (unrestricted permissions): the inherited relation plus the revokes of all
 *    descendants, +1 per level.
 *
 * A check asks an index: is every permission granted to some of the subjects (grant weight = the maximum
 * over permissions and subjects), and is no permission revoked from any of the subjects with a weight ≥ the
 * grant weight? Deeper is heavier, so deeper statements win; equal weight means revoke wins.
 */

/** permission → subject → weight. */
export type Relation = Map<string, Map<string, number>>;

export interface GrantRevoke {
  grant: Relation;
  revoke: Relation;
}

export interface TrieNode {
  children: Map<string, TrieNode>;
  /** Relation 2: what applies exactly here (and, by fallback, to any path below that has no node). */
  inherited: GrantRevoke;
  /** Relation 3: used for partial permission checks on this exact path. */
  bottomUpGrant: GrantRevoke;
  /** Relation 4: used for unrestricted permission checks on this exact path. */
  bottomUpRevoke: GrantRevoke;
}

/** One compiled statement source: the subjects of an entry and its resources. */
export interface TrieStatement {
  subjects: readonly string[];
  /** Resource type + normalised path segments. */
  path: readonly string[];
  grant: readonly string[];
  revoke: readonly string[];
}

interface RawNode {
  children: Map<string, RawNode>;
  raw: GrantRevoke;
}

const emptyIndex = (): GrantRevoke => ({ grant: new Map(), revoke: new Map() });

/** Builds the trie (root above the resource types) from all statements of all entries. */
export function buildTrie(statements: Iterable<TrieStatement>): TrieNode {
  const root: RawNode = { children: new Map(), raw: emptyIndex() };
  for (const st of statements) {
    let node = root;
    for (const key of st.path) {
      let child = node.children.get(key);
      if (child === undefined) {
        child = { children: new Map(), raw: emptyIndex() };
        node.children.set(key, child);
      }
      node = child;
    }
    for (const p of st.grant) addAll(node.raw.grant, p, st.subjects, 0);
    for (const p of st.revoke) addAll(node.raw.revoke, p, st.subjects, 0);
  }
  return complete(root, emptyIndex());
}

function complete(raw: RawNode, parentInherited: GrantRevoke): TrieNode {
  // Relation 2: inherited, decremented, overridden by the node's own statements.
  const grant = copyRelation(parentInherited.grant, -1);
  const revoke = copyRelation(parentInherited.revoke, -1);
  mergeMax(grant, raw.raw.grant);
  removePairs(grant, raw.raw.revoke);
  removePairs(revoke, raw.raw.grant);
  mergeMax(revoke, raw.raw.revoke);
  const inherited = { grant, revoke };

  const children = new Map<string, TrieNode>();
  const upGrant = copyRelation(grant, 0);
  const upRevoke = copyRelation(revoke, 0);
  for (const [key, rawChild] of raw.children) {
    const child = complete(rawChild, inherited);
    children.set(key, child);
    mergeMax(upGrant, child.bottomUpGrant.grant, 1);
    mergeMax(upRevoke, child.bottomUpRevoke.revoke, 1);
  }
  const partialRevoke = copyRelation(revoke, 0);
  removePairs(partialRevoke, upGrant);
  return {
    children,
    inherited,
    bottomUpGrant: { grant: upGrant, revoke: partialRevoke },
    bottomUpRevoke: { grant, revoke: upRevoke },
  };
}

/** ditto: GrantRevokeIndex.hasPermissions. */
export function hasPermissions(
  index: GrantRevoke,
  subjects: readonly string[],
  permissions: readonly string[],
): boolean {
  if (permissions.length === 0) return false;
  let grantWeight = -Infinity;
  for (const p of permissions) {
    const bySubject = index.grant.get(p);
    if (bySubject === undefined) return false;
    let best = -Infinity;
    for (const s of subjects) {
      const w = bySubject.get(s);
      if (w !== undefined && w > best) best = w;
    }
    if (best === -Infinity) return false;
    if (best > grantWeight) grantWeight = best;
  }
  for (const p of permissions) {
    const bySubject = index.revoke.get(p);
    if (bySubject === undefined) continue;
    for (const s of subjects) {
      const w = bySubject.get(s);
      if (w !== undefined && w >= grantWeight) return false;
    }
  }
  return true;
}

/** Subjects granted all `permissions` minus subjects revoked any of them, at any weight
 * (ditto: getSubjectsWithUnrestrictedPermission). */
export function unrestrictedSubjects(index: GrantRevoke, permissions: readonly string[]): Set<string> {
  let granted: Set<string> | undefined;
  for (const p of permissions) {
    const subjects = new Set(index.grant.get(p)?.keys() ?? []);
    granted = granted === undefined ? subjects : new Set([...granted].filter((s) => subjects.has(s)));
  }
  const result = granted ?? new Set<string>();
  for (const p of permissions) for (const s of index.revoke.get(p)?.keys() ?? []) result.delete(s);
  return result;
}

function addAll(relation: Relation, permission: string, subjects: readonly string[], weight: number): void {
  let bySubject = relation.get(permission);
  if (bySubject === undefined) {
    bySubject = new Map();
    relation.set(permission, bySubject);
  }
  for (const s of subjects) {
    const current = bySubject.get(s);
    if (current === undefined || weight > current) bySubject.set(s, weight);
  }
}

function copyRelation(relation: Relation, adjustment: number): Relation {
  const copy: Relation = new Map();
  for (const [p, bySubject] of relation) {
    const m = new Map<string, number>();
    for (const [s, w] of bySubject) m.set(s, w + adjustment);
    copy.set(p, m);
  }
  return copy;
}

/** Adds all pairs of `other` (weights + `adjustment`), keeping the maximum weight per pair. */
function mergeMax(target: Relation, other: Relation, adjustment = 0): void {
  for (const [p, bySubject] of other) {
    let t = target.get(p);
    if (t === undefined) {
      t = new Map();
      target.set(p, t);
    }
    for (const [s, weight] of bySubject) {
      const w = weight + adjustment;
      const current = t.get(s);
      if (current === undefined || w > current) t.set(s, w);
    }
  }
}

/** Removes every pair present in `other` (weights ignored). */
function removePairs(target: Relation, other: Relation): void {
  for (const [p, bySubject] of other) {
    const t = target.get(p);
    if (t === undefined) continue;
    for (const s of bySubject.keys()) t.delete(s);
    if (t.size === 0) target.delete(p);
  }
}
