/**
 * Policies as the things service needs them, over the store: the latest accepted policy per ID, its
 * compiled enforcer (cached per revision of the policy and of the policies it imports, and recompiled
 * when a subject expires), and the policy that comes with a new thing (§1.2).
 */
import type { AuthContext } from '../auth/context.js';
import { policyConflict, policyNotFound, policyNotModifiable } from '../errors/policies.js';
import { thingNotCreatable } from '../errors/things.js';
import type { PolicyEvent } from '../model/signals.js';
import { recordAfter, type Change, type EntityRecord, type Store } from '../store/port.js';
import type { PolicyDirectory, ThingEnforcer, ThingPolicyRequest } from '../things/policy-directory.js';
import { createEnforcer, defaultPolicy, type Enforcer } from './enforcer.js';
import type { Policy } from './model.js';

import { validatePolicy } from './validate.js';
import { setKey } from '../util/objects.js';

const READ = ['READ'] as const;
const WRITE = ['WRITE'] as const;
/** Distinct policy contents whose compiled enforcer is shared; the map starts over beyond it. */
const MAX_SHARED_ENFORCERS = 10_000;

export interface StorePolicyDirectoryOptions {
  store: Store;
  maxPolicyBytes?: number;
  now?: () => Date;
}

type PolicyRecord = EntityRecord<Policy>;

interface Compiled {
  revision: number;
  /** `<importedId>@<revision>,…` of the imported policies compiled in; '' without imports. */
  importsKey: string;
  enforcer: ThingEnforcer;
  /** ms since epoch when the next subject expires (recompile then); Infinity when none does. */
  validUntil: number;
}

export class StorePolicyDirectory implements PolicyDirectory {
  private readonly store: Store;
  private readonly maxPolicyBytes: number;
  private readonly now: () => Date;
  private readonly nowInjected: boolean;
  private readonly head = new Map<string, PolicyRecord | null>();
  private readonly compiled = new Map<string, Compiled>();
  /** Compiled enforcers by the JSON of their policy's entries (see compile). */
  private readonly shared = new Map<string, ThingEnforcer>();

  constructor(options: StorePolicyDirectoryOptions) {
    this.store = options.store;
    this.maxPolicyBytes = options.maxPolicyBytes ?? 100 * 1024;
    this.now = options.now ?? (() => new Date());
    this.nowInjected = options.now !== undefined;
  }

  /** Loads a policy and the policies it imports (imports may form cycles: each is loaded once). */
  async load(policyId: string, visiting: Set<string> = new Set()): Promise<PolicyRecord | undefined> {
    if (!this.head.has(policyId)) {
      const record = (await this.store.get('policy', policyId)) as PolicyRecord | undefined;
      if (!this.head.has(policyId)) this.head.set(policyId, record ?? null);
    }
    const record = this.head.get(policyId);
    if (record?.value && !visiting.has(policyId)) {
      visiting.add(policyId);
      await Promise.all(Object.keys(record.value.imports ?? {}).map((id) => this.load(id, visiting)));
    }
    return record?.value ? record : undefined;
  }

  isLoaded(policyId: string): boolean {
    if (!this.head.has(policyId)) return false;
    const imports = this.head.get(policyId)?.value?.imports;
    return imports === undefined || Object.keys(imports).every((id) => this.head.has(id));
  }

  enforcerOfHead(policyId: string | undefined): ThingEnforcer | undefined {
    if (policyId === undefined) return undefined;
    const record = this.head.get(policyId);
    return record?.value ? this.compile(record.value, record.revision) : undefined;
  }

  async enforcerFor(policyId: string | undefined): Promise<ThingEnforcer | undefined> {
    if (policyId === undefined) return undefined;
    // The cached latest policy when loaded (every policy write passes through it): it is newer than the
    // durable one only while a write is in flight, which applies a change (a revocation) a moment early.
    if (this.isLoaded(policyId)) return this.enforcerOfHead(policyId);
    const record = (await this.store.get('policy', policyId)) as PolicyRecord | undefined;
    if (!record?.value) return undefined;
    await Promise.all(Object.keys(record.value.imports ?? {}).map((id) => this.load(id)));
    return this.compile(record.value, record.revision);
  }

  async prepareForThing(request: ThingPolicyRequest): Promise<{ enforcer: ThingEnforcer; change?: Change }> {
    const { thingId, policyId, auth } = request;
    const existing = await this.load(policyId);
    if (request.inlinePolicy !== undefined || request.copyFrom !== undefined) {
      if (existing) throw policyConflict({ policyId });
      let json: unknown;
      if (request.copyFrom !== undefined) {
        const source = await this.load(request.copyFrom);
        const sourceEnforcer = this.enforcerOfHead(request.copyFrom);
        if (!source || !sourceEnforcer?.hasPartial('policy:/', auth.subjects, ['READ'])) {
          throw thingNotCreatable({
            thingId,
            detail: `The Policy with ID '${request.copyFrom}' to copy could not be found or the requester had insufficient permissions to read it.`,
          });
        }
        json = { ...source.value, policyId };
      } else {
        json = substituteRequestSubject(request.inlinePolicy, auth);
        if (typeof json === 'object' && json !== null && !Array.isArray(json)) json = { ...json, policyId };
      }
      const policy = validatePolicy(json, policyId, { maxSize: this.maxPolicyBytes });
      const importedIds = Object.keys(policy.imports ?? {});
      await Promise.all(importedIds.map((id) => this.load(id)));
      this.checkImportsReadable(policy, importedIds, auth);
      return this.newPolicy(policy, request);
    }
    if (request.explicitPolicyId) await this.checkAdministrable(policyId, auth);
    if (existing) return { enforcer: this.enforcerOfHead(policyId)! };
    const subject = auth.subjects[0];
    if (subject === undefined)
      throw thingNotCreatable({
        thingId,
        detail: 'There is no authorization subject to create a default policy for.',
      });
    return this.newPolicy(defaultPolicy(policyId, subject), request);
  }

  async checkAdministrable(policyId: string, auth: AuthContext): Promise<void> {
    const enforcer = (await this.load(policyId)) ? this.enforcerOfHead(policyId) : undefined;
    if (!enforcer?.hasPartial('policy:/', auth.subjects, READ)) throw policyNotFound({ policyId });
    if (!enforcer.hasUnrestricted('policy:/', auth.subjects, WRITE)) throw policyNotModifiable({ policyId });
  }

  private newPolicy(policy: Policy, request: ThingPolicyRequest) {
    const previous = this.head.get(policy.policyId);
    const at = request.now.toISOString();
    const record = recordAfter(previous ?? undefined, 'policy', policy.policyId, policy, at);
    // Journaled for history, as a policy command's event is (policies/service.ts).
    const event: PolicyEvent = {
      policyId: policy.policyId,
      action: 'created',
      path: '/',
      value: policy,
      revision: record.revision,
      timestamp: at,
      headers: {},
    };
    return {
      enforcer: this.compile(policy, record.revision),
      change: { record, expectedRevision: previous?.revision ?? 0, event: { event } },
    };
  }

  /**
   * ditto: §7.4 (PolicyImportsPreEnforcer) a policy may import only entries its writer can READ: for each of
   * `importedIds`, unrestricted READ on `policy:/entries/<label>` of every entry it imports (the `implicit`
   * ones and the ones listed). Throws 404 `policies:policy.notfound` for the first imported policy that is
   * missing or not readable so. The imported policies must be loaded (`load`).
   */
  checkImportsReadable(policy: Policy, importedIds: readonly string[], auth: AuthContext): void {
    for (const importedId of importedIds) {
      const imported = this.head.get(importedId)?.value;
      const enforcer = imported ? this.enforcerOfHead(importedId) : undefined;
      const listed = new Set(policy.imports?.[importedId]?.entries ?? []);
      const implicit = Object.entries(imported?.entries ?? {}).filter(
        ([, entry]) => (entry.importable ?? 'implicit') === 'implicit',
      );
      const labels = new Set([...implicit.map(([label]) => label), ...listed]);
      const readable =
        enforcer !== undefined &&
        [...labels].every((label) =>
          enforcer.hasUnrestricted(`policy:/entries/${label}`, auth.subjects, READ),
        );
      if (!readable) {
        throw policyNotFound(
          { policyId: importedId },
          {
            description:
              'Check if the ID of the imported Policy was correct and you have sufficient permissions on all imported policy entries.',
          },
        );
      }
    }
  }

  /**
   * The latest accepted policy record once `load` resolved (deleted: value null); null when known not to
   * exist; undefined when not loaded.
   */
  headOf(policyId: string): PolicyRecord | null | undefined {
    return this.head.get(policyId);
  }

  /**
   * Compiles a policy that is not accepted yet (a policy write being checked: lockout protection, the
   * creator's permissions), with its imports as the head knows them (`load` them first).
   */
  enforcerOfCandidate(policy: Policy): Enforcer {
    return createEnforcer(policy, {
      now: this.now(),
      resolveImport: (id: string) => this.head.get(id)?.value ?? undefined,
    });
  }

  noteAccepted(record: EntityRecord): void {
    this.head.set(record.id, record as PolicyRecord);
  }

  /**
   * Another instance committed this policy record (src/cluster): it replaces an older cached head (a head
   * at or past its revision is newer or a local write in flight, which the store checks). Compiled
   * enforcers are keyed by revision, so the next enforcement compiles the new one.
   */
  noteRemote(policyId: string, record: EntityRecord | undefined): void {
    const head = this.head.get(policyId);
    if (head === undefined) return; // not cached: the next load reads the store
    if (!record) this.head.set(policyId, null);
    else if (head === null || head.revision < record.revision)
      this.head.set(policyId, record as PolicyRecord);
  }

  forget(policyId: string | undefined): void {
    if (policyId === undefined) this.head.clear();
    else this.head.delete(policyId);
  }

  private compile(policy: Policy, revision: number): ThingEnforcer {
    // Called on every read and write: compare revisions first, and build a key only for imports.
    const importsKey =
      policy.imports === undefined
        ? ''
        : Object.keys(policy.imports)
            .map((id) => `${id}@${this.head.get(id)?.revision ?? 0}`)
            .join(',');
    const cached = this.compiled.get(policy.policyId);
    // No Date made for a cache hit (the injected clock is a test's; the service's is Date.now).
    const nowMs = this.nowInjected ? this.now().getTime() : Date.now();
    if (
      cached &&
      cached.revision === revision &&
      cached.importsKey === importsKey &&
      nowMs < cached.validUntil
    )
      return cached.enforcer;
    const now = new Date(nowMs);
    const validUntil = nextExpiry(policy, now);
    // Policies with the same entries (every thing's default policy, for one) share one compiled trie: less
    // memory, and enforcement stays in the CPU cache. Imports and expiring subjects make a policy its own.
    const contentKey =
      importsKey === '' && validUntil === Infinity ? JSON.stringify(policy.entries) : undefined;
    let enforcer = contentKey === undefined ? undefined : this.shared.get(contentKey);
    if (!enforcer) {
      enforcer = createEnforcer(policy, {
        now,
        resolveImport: (id: string) => this.head.get(id)?.value ?? undefined,
      });
      if (contentKey !== undefined) {
        if (this.shared.size >= MAX_SHARED_ENFORCERS) this.shared.clear();
        this.shared.set(contentKey, enforcer);
      }
    }
    this.compiled.set(policy.policyId, { revision, importsKey, enforcer, validUntil });
    return enforcer;
  }
}

/**
 * ditto: §1.2 `{{ request:subjectId }}` in an inline policy stands for the creator's first subject, in keys
 * (subject IDs) and string values alike. Built as a new value, never by editing JSON text: a subject may
 * hold any character (`"`, `\\`, `$'` from a token's `sub`) and stays one string. The depth of `json` is
 * bounded by the body parser (maxJsonDepth), so the recursion is too.
 */
function substituteRequestSubject(json: unknown, auth: AuthContext): unknown {
  const subject = auth.subjects[0] ?? '';
  const substitute = (text: string) => text.replace(REQUEST_SUBJECT, () => subject);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return substitute(value);
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) setKey(out, substitute(key), walk(v));
    return out;
  };
  return walk(json ?? null);
}

const REQUEST_SUBJECT = /\{\{\s*request:subjectId\s*\}\}/g;

function nextExpiry(policy: Policy, now: Date): number {
  let next = Infinity;
  for (const entry of Object.values(policy.entries)) {
    for (const subject of Object.values(entry.subjects)) {
      const at = subject.expiry ? Date.parse(subject.expiry) : NaN;
      if (at > now.getTime() && at < next) next = at;
    }
  }
  return next;
}
