/**
 * Subject expiry and `subjectDeletion` announcements (ditto-interfaces.md §7.1, §4.7).
 *
 * For every policy this instance knows, the announcer keeps one timer for the next thing to do:
 *   - `beforeExpiry`: at `expiry − beforeExpiry`, announce the coming deletion (`deleteAt` = the expiry);
 *   - the expiry itself: delete the expired subjects from the policy (a durable policy write).
 * And after every policy change written here (by a client or by an expiry), a subject that is gone and had
 * `announcement.whenDeleted` is announced as deleted now.
 *
 * Announcements go to the sessions subscribed to policy announcements that are authenticated as one of
 * the announced subjects (the streaming registry decides). Not implemented: `randomizationInterval` (the
 * announcement is sent at the earliest instant), `requestedAcks` redelivery, and the rounding of `expiry`
 * to a granularity. With several instances, the instance that wrote the change announces it. A policy
 * created together with a thing (inline or default policy) is planned at the next start or policy write.
 */
import { randomUUID } from 'node:crypto';
import type { PolicyAnnouncement } from '../model/signals.js';
import type { Policy } from './model.js';
import { durationOrUndefined as durationMs } from '../util/duration.js';

export interface AnnouncerOptions {
  /** Hands an announcement to the subscribers (the streaming registry). */
  publish(announcement: PolicyAnnouncement): void;
  /** Removes the given subjects from the policy with a durable write (which reports back through `changed`). */
  removeSubjects(
    policyId: string,
    subjects: ReadonlyArray<{ label: string; subjectId: string }>,
  ): Promise<void>;
  log(msg: string, err?: unknown): void;
  now?: () => number;
}

/** setTimeout's longest delay; later instants are re-checked when this one fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class SubjectAnnouncer {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The `beforeExpiry` announcements already sent, per policy: `subjectId@expiry`. */
  private readonly announced = new Map<string, Set<string>>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: AnnouncerOptions) {
    this.now = o.now ?? Date.now;
  }

  /** A policy was written (`next` null: deleted). Announces deleted subjects and plans the next action. */
  changed(policyId: string, previous: Policy | undefined, next: Policy | null): void {
    if (previous) {
      const remaining = next ? subjectIds(next) : new Set<string>();
      const gone = [...subjectsOf(previous)]
        .filter((s) => s.subject.announcement?.whenDeleted === true && !remaining.has(s.subjectId))
        .map((s) => s.subjectId);
      if (gone.length > 0) this.announce(policyId, new Date(this.now()).toISOString(), [...new Set(gone)]);
    }
    this.plan(policyId, next ?? undefined);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private announce(policyId: string, deleteAt: string, subjectIds: string[]): void {
    try {
      this.o.publish({
        policyId,
        name: 'subjectDeletion',
        deleteAt,
        subjectIds,
        headers: { 'correlation-id': randomUUID(), 'content-type': 'application/json' },
      });
    } catch (err) {
      this.o.log(`announcing the deletion of subjects of policy ${policyId} failed`, err);
    }
  }

  private plan(policyId: string, policy: Policy | undefined): void {
    clearTimeout(this.timers.get(policyId));
    this.timers.delete(policyId);
    if (!policy || this.closed) {
      this.announced.delete(policyId);
      return;
    }
    const at = this.nextAction(policyId, policy);
    if (at === undefined) return;
    const timer = setTimeout(
      () => this.act(policyId, policy),
      Math.min(Math.max(at - this.now(), 0), MAX_DELAY_MS),
    );
    timer.unref();
    this.timers.set(policyId, timer);
  }

  /** The earliest pending beforeExpiry announcement or expiry of the policy. */
  private nextAction(policyId: string, policy: Policy): number | undefined {
    const sent = this.announced.get(policyId);
    let next: number | undefined;
    for (const { key, expiry, announceAt } of expiringSubjects(policy)) {
      if (announceAt !== undefined && !sent?.has(key)) next = Math.min(next ?? Infinity, announceAt);
      next = Math.min(next ?? Infinity, expiry);
    }
    return next;
  }

  private act(policyId: string, policy: Policy): void {
    this.timers.delete(policyId);
    const now = this.now();
    const expired: Array<{ label: string; subjectId: string }> = [];
    const coming = new Map<number, string[]>();
    let sent = this.announced.get(policyId);
    for (const { label, subjectId, key, expiry, announceAt } of expiringSubjects(policy)) {
      if (expiry <= now) {
        expired.push({ label, subjectId });
        continue;
      }
      if (announceAt !== undefined && announceAt <= now && !sent?.has(key)) {
        if (!sent) this.announced.set(policyId, (sent = new Set()));
        sent.add(key);
        coming.set(expiry, [...(coming.get(expiry) ?? []), subjectId]);
      }
    }
    for (const [expiry, ids] of coming)
      this.announce(policyId, new Date(expiry).toISOString(), [...new Set(ids)]);
    if (expired.length === 0) {
      this.plan(policyId, policy);
      return;
    }
    // The write reports back through `changed`, which announces `whenDeleted` subjects and plans again.
    this.o.removeSubjects(policyId, expired).catch((err: unknown) => {
      this.o.log(`removing expired subjects of policy ${policyId} failed; retrying in 10 s`, err);
      if (this.closed) return;
      const retry = setTimeout(() => this.act(policyId, policy), 10_000);
      retry.unref();
      this.timers.set(policyId, retry);
    });
  }
}

function* subjectsOf(policy: Policy) {
  for (const [label, entry] of Object.entries(policy.entries)) {
    for (const [subjectId, subject] of Object.entries(entry.subjects)) yield { label, subjectId, subject };
  }
}

/** Subjects with a valid `expiry`: when it is, and when its `beforeExpiry` announcement is due (if asked). */
function* expiringSubjects(policy: Policy) {
  for (const { label, subjectId, subject } of subjectsOf(policy)) {
    const expiry = subject.expiry === undefined ? NaN : Date.parse(subject.expiry);
    if (Number.isNaN(expiry)) continue;
    const before = durationMs(subject.announcement?.beforeExpiry);
    yield {
      label,
      subjectId,
      key: `${subjectId}@${expiry}`,
      expiry,
      announceAt: before === undefined ? undefined : expiry - before,
    };
  }
}

function subjectIds(policy: Policy): Set<string> {
  return new Set([...subjectsOf(policy)].map((s) => s.subjectId));
}
