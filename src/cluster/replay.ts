/**
 * The state of a thing after an event, computed from its state before (the event semantics of
 * ditto-interfaces.md §4.3: `created`/`modified` set the value at the path, `merged` applies an RFC 7396
 * merge patch there, `deleted` removes it). Used for events of other instances, whose journal rows carry
 * the event but not the whole thing (storing it would multiply the journal's size).
 */
import type { ThingEvent } from '../model/signals.js';
import type { ThingJson } from '../model/thing.js';
import { deleteAt, getAt, parsePointer, setAt } from '../util/json-pointer.js';
import { applyMergePatch } from '../util/merge-patch.js';

/** The thing after `event` applied to `before` (the state at revision event.revision - 1); undefined once deleted. */
export function applyThingEvent(before: ThingJson | undefined, event: ThingEvent): ThingJson | undefined {
  const segments = parsePointer(event.path);
  switch (event.action) {
    case 'deleted':
      return segments.length === 0 ? undefined : (deleteAt(before, segments) as ThingJson);
    case 'merged': {
      const merged = applyMergePatch(getAt(before, segments), event.value);
      if (merged === undefined || merged === null) return deleteAt(before, segments) as ThingJson;
      return setAt(before, segments, merged) as ThingJson;
    }
    default:
      return setAt(before, segments, event.value) as ThingJson;
  }
}
