/**
 * An async iterator that holds only the latest value: a consumer slower than
 * the producer skips to the newest value instead of queueing every one.
 */
export class Latest<T> implements AsyncIterableIterator<T> {
  private value: { v: T } | null = null;
  private failure: Error | null = null;
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private waitingReject: ((error: Error) => void) | null = null;
  private done = false;
  /** Ends once the value held now (if any) has been read. */
  private ending = false;

  constructor(private readonly onClose: () => void) {}

  get closed(): boolean {
    return this.done;
  }

  push(value: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.waitingReject = null;
      resolve({ value, done: false });
    } else {
      this.value = { v: value };
    }
  }

  /** Ends the stream with an error (sent to the client), after nothing else. */
  fail(error: Error): void {
    if (this.done) return;
    if (this.waitingReject) {
      const reject = this.waitingReject;
      this.waiting = this.waitingReject = null;
      this.finish();
      reject(error);
    } else {
      this.failure = error;
    }
  }

  /** Ends the stream normally once the latest value has been read: the last value is never lost. */
  end(): void {
    if (this.done) return;
    if (this.waiting) {
      void this.return();
      return;
    }
    this.ending = true;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.failure) {
      const error = this.failure;
      this.failure = null;
      this.finish();
      return Promise.reject(error);
    }
    if (this.value) {
      const { v } = this.value;
      this.value = null;
      return Promise.resolve({ value: v, done: false });
    }
    if (this.ending) this.finish();
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingReject = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    const waiting = this.waiting;
    this.waiting = this.waitingReject = null;
    this.finish();
    waiting?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.value = null;
    this.onClose();
  }
}
