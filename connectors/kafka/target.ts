/**
 * The publishing side of a Kafka client: writes are queued and sent in batches, one batch in flight at a
 * time, so records keep the order in which the runtime wrote them (events of one thing, keyed alike, stay
 * in order in their partition) while thousands of records share one produce request. Every batch is
 * produced with acks=all; a write resolves when the broker confirmed its record (ditto: §11.6 issued
 * ack 2xx) and rejects otherwise. The queue holds at most the runtime's outbound window of records
 * (src/connectivity/window.ts).
 */
import type { Message, Producer } from 'kafkajs';
import type { OutboundMessage } from '../../src/connectivity/connector.js';
import { notConnected } from '../../src/errors/connectivity.js';
import { parseRecordAddress } from './config.js';

const MAX_BATCH = 2_000;

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Headers that select the record's place rather than travel with it. */
const ADDRESS_HEADERS = new Set(['kafka.topic', 'kafka.key']);

/**
 * ditto: §11.6 — the record for an outbound message: topic, key and partition from the resolved address
 * (`kafka.topic`/`kafka.key` headers override), the external headers as record headers.
 */
export function toRecord(message: OutboundMessage): { topic: string; message: Message } {
  const address = parseRecordAddress(message.address, message.headers);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (!ADDRESS_HEADERS.has(k)) headers[k] = v;
  if (message.contentType !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = message.contentType;
  const record: Message = { value: message.payload, headers };
  if (address.key !== undefined) record.key = address.key;
  if (address.partition !== undefined) record.partition = address.partition;
  return { topic: address.topic, message: record };
}

export class RecordWriter {
  private queue: Pending[] = [];
  private flushing = false;
  private closed = false;

  constructor(
    private readonly producer: Producer,
    /** Called with errors that mean the connection to the cluster is gone. */
    private readonly onConnectionError: (error: Error) => void,
  ) {}

  write(message: OutboundMessage): Promise<void> {
    if (this.closed) return Promise.reject(notConnected({ detail: 'the Kafka client is not connected' }));
    let record: { topic: string; message: Message };
    try {
      record = toRecord(message);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic: record.topic, message: record.message, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const byTopic = new Map<string, Pending[]>();
      for (const p of batch) {
        const list = byTopic.get(p.topic);
        if (list) list.push(p);
        else byTopic.set(p.topic, [p]);
      }
      // One request per topic, so an unknown topic fails only its own records.
      await Promise.all(
        [...byTopic].map(async ([topic, pending]) => {
          try {
            await this.producer.send({ topic, acks: -1, messages: pending.map((p) => p.message) });
            for (const p of pending) p.resolve();
          } catch (err) {
            const error = err as Error;
            for (const p of pending) p.reject(error);
            if (isConnectionError(error)) this.onConnectionError(error);
          }
        }),
      );
    }
    this.flushing = false;
  }

  /** Rejects what is still queued. */
  close(): void {
    this.closed = true;
    const error = notConnected({ detail: 'the client was closed' });
    for (const p of this.queue.splice(0)) p.reject(error);
  }
}

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
]);

/** Whether an error (or one it wraps) says the cluster is unreachable. */
export function isConnectionError(error: unknown): boolean {
  for (
    let e = error as { name?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e.name !== undefined && CONNECTION_ERRORS.has(e.name)) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}
