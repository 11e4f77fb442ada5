/**
 * The commit of a decided twin change (src/things/decide.ts): the record and the event of the new revision
 * are handed to the store synchronously, so the change is the thing's head at once and many changes share
 * one durable commit; once the store has made it durable, the event is published on the bus and the decided
 * response resolves (which is the `twin-persisted` acknowledgement, §9: a connection source acks its broker
 * message after it). A failed write drops the head it set, so the next write loads the durable state.
 */
import type { SignalBus } from '../bus/signal-bus.js';
import { thingTooLarge } from '../errors/things.js';
import { persistedHeaders, type History } from '../history/history.js';
import type { DittoHeaders, ThingCommand, ThingCommandResponse, ThingEvent } from '../model/signals.js';
import { recordAfter, type Change as StoreChange, type Store } from '../store/port.js';
import { isoTime } from '../util/iso-time.js';
import type { Change, ThingRecord } from './decide.js';
import type { ThingHeads } from './heads.js';
import type { PolicyDirectory } from './policy-directory.js';

export interface ThingCommitOptions {
  store: Store;
  bus: SignalBus;
  heads: ThingHeads;
  policies: PolicyDirectory;
  history: History;
  /** ditto: §1.2 LIMITS_THINGS_MAX_SIZE, in bytes of the thing's JSON. */
  maxThingBytes: number;
  now: () => Date;
}

export class ThingCommit {
  private readonly o: ThingCommitOptions;
  /** Scale-out: resolves when remote events committed before this instance's latest write are published. */
  private publishOrder: (() => Promise<void> | undefined) | undefined;

  constructor(options: ThingCommitOptions) {
    this.o = options;
  }

  /** See ThingsService.orderPublicationsBy. */
  orderPublicationsBy(order: () => Promise<void> | undefined): void {
    this.publishOrder = order;
  }

  /**
   * Commits `change` of the thing whose head was `previous` (undefined: never existed); `policyChange` is the
   * policy created with the thing, written in the same store write. Resolves with the change's response once
   * durable; rejects with 413 when the thing outgrows the limit, or with the store's error.
   */
  async commit(
    command: ThingCommand,
    previous: ThingRecord | undefined,
    change: Change,
    policyChange?: StoreChange,
  ): Promise<ThingCommandResponse> {
    const { thingId } = command;
    const { next } = change;
    // The value's text: its size is checked here, and the store writes it (the PostgreSQL store makes its own).
    const valueJson = next ? JSON.stringify(next) : undefined;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: most things need no byte count.
    if (valueJson !== undefined && valueJson.length * 3 > this.o.maxThingBytes) {
      const size = Buffer.byteLength(valueJson);
      if (size > this.o.maxThingBytes) throw thingTooLarge({ size, max: this.o.maxThingBytes });
    }
    const timestamp = isoTime(this.o.now());
    const record = recordAfter(previous, 'thing', thingId, next, timestamp);
    const { revision } = record;
    const headers: DittoHeaders = {};
    if (command.headers['correlation-id'] !== undefined)
      headers['correlation-id'] = command.headers['correlation-id'];
    if (command.headers['ditto-originator'] !== undefined)
      headers['ditto-originator'] = command.headers['ditto-originator'];
    if (change.event.action === 'merged') headers['content-type'] = 'application/merge-patch+json';
    // ditto: §9 subscribers see the requested (custom) acknowledgement labels to answer them.
    if (command.headers['requested-acks'] !== undefined)
      headers['requested-acks'] = command.headers['requested-acks'];
    const event: ThingEvent = {
      thingId,
      channel: 'twin',
      action: change.event.action,
      path: command.path === '' ? '/' : command.path,
      revision,
      timestamp,
      headers,
    };
    if (change.event.value !== undefined) event.value = change.event.value;
    const policyId = next?.policyId ?? previous?.value?.policyId;
    const thingChange: StoreChange = {
      record,
      expectedRevision: previous?.revision ?? 0,
      event: { event, policyId },
      valueJson,
    };
    const kept = persistedHeaders(this.o.history, command.headers);
    if (kept !== undefined) {
      thingChange.headers = kept;
      if (policyChange) policyChange.headers = kept;
    }
    const writing = this.o.store.write(policyChange ? [policyChange, thingChange] : [thingChange]);
    this.o.heads.accept(record);
    if (policyChange) this.o.policies.noteAccepted(policyChange.record);
    try {
      await writing;
    } catch (err) {
      this.o.heads.reject(record);
      if (policyChange) this.o.policies.forget(policyChange.record.id);
      throw err;
    }
    const order = this.publishOrder?.();
    if (order) await order;
    this.o.bus.publishThingEvent({ event, policyId, thing: next ?? undefined, session: command.session });
    return change.response;
  }
}
