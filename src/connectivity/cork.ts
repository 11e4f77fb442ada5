/**
 * Writes to a connector's socket made in one turn of the event loop leave in one system call: the stream is
 * corked now and uncorked on the next tick, or after the immediates scheduled in this turn (for libraries
 * that write from a setImmediate of their own, such as amqplib's frame multiplexer). The acknowledgements
 * released by one durable batch and the events of one batch are hundreds of small frames each.
 */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}

const corked = new WeakSet<CorkableStream>();

export function corkUntil(stream: CorkableStream | undefined, until: 'tick' | 'immediate'): void {
  if (!stream || stream.destroyed || corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  const uncork = () => {
    corked.delete(stream);
    stream.uncork();
  };
  if (until === 'tick') process.nextTick(uncork);
  // A library that writes from a setImmediate scheduled on a nextTick (amqplib: its frame multiplexer reads a
  // channel's buffer when it becomes readable) is let run first.
  else process.nextTick(() => setImmediate(uncork));
}
