/**
 * The one place that reaches into amqplib below its public API (checked by
 * test/connectivity/library-internals.test.ts, which fails when an amqplib release changes it): the socket
 * under a connection, corked so that the frames of one turn (publishes, a coalesced ack) leave in one system
 * call. amqplib keeps it as `stream` of its Connection, which channels reach as `connection`.
 */
import type { Channel, ChannelModel } from 'amqplib';
import type { CorkableStream } from '../../src/connectivity/cork.js';

/** The socket under a connection model or a channel; undefined when amqplib does not expose it as expected. */
export function socketOf(owner: ChannelModel | Channel | undefined): CorkableStream | undefined {
  return (owner as unknown as { connection?: { stream?: CorkableStream } } | undefined)?.connection?.stream;
}
