// What every driver's subscribe/consume returns: received messages in arrival order, taken one at a
// time with next(), so a test can assert on exactly what came back.

export interface Subscription<M> {
  /**
   * The next message in arrival order. Rejects after `timeoutMs` (default 10 s) without one, or as
   * soon as the underlying connection failed.
   */
  next(timeoutMs?: number): Promise<M>;
  /** Received messages that next() has not returned yet. */
  readonly buffered: number;
  /** Closes the underlying consumer and connection; idempotent. */
  close(): Promise<void>;
}

export interface SubscriptionSink<M> {
  subscription: Subscription<M>;
  /** Called by the driver for each message received. */
  push(message: M): void;
  /** Called by the driver when the connection or consumer failed; pending and later next() reject. */
  fail(error: Error): void;
}

/** Builds a subscription whose messages the driver pushes in. `onClose` releases the client. */
export function createSubscription<M>(onClose: () => Promise<void>): SubscriptionSink<M> {
  const messages: M[] = [];
  const waiters: Array<{ resolve: (message: M) => void; reject: (error: Error) => void }> = [];
  let failure: Error | undefined;
  let closed: Promise<void> | undefined;

  const subscription: Subscription<M> = {
    next(timeoutMs = 10_000) {
      const message = messages.shift();
      if (message !== undefined) return Promise.resolve(message);
      if (failure) return Promise.reject(failure);
      return new Promise<M>((resolve, reject) => {
        const waiter = {
          resolve: (m: M) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    get buffered() {
      return messages.length;
    },
    close() {
      closed ??= onClose();
      return closed;
    },
  };

  return {
    subscription,
    push(message) {
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(message);
      else messages.push(message);
    },
    fail(error) {
      failure ??= error;
      for (const waiter of waiters.splice(0)) waiter.reject(error);
    },
  };
}
