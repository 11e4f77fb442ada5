/**
 * The Ditto Protocol adapter (ditto-interfaces.md §4): topic paths, the envelope, and conversions between
 * protocol messages and the internal signals of src/model/signals.ts. Pure functions; no I/O.
 */
export * from './topic.js';
export * from './headers.js';
export * from './message.js';
export * from './things.js';
export * from './errors.js';
export * from './messages.js';
export * from './acks.js';
export * from './policies.js';
export * from './search.js';
export * from './streaming.js';
export * from './adapt.js';
