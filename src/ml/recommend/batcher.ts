export interface MicroBatcherOptions {
  /** How long the first item of a batch waits for others, in ms (0: until the current turn of the event loop ends). */
  windowMs: number;
  /** Most items in one batch: a full batch runs at once. */
  maxBatch: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers items submitted by concurrent requests into one call of `run`:
 * the first item opens a window of `windowMs`; the batch runs when the window
 * closes or it reaches `maxBatch` items, whichever comes first. `run` returns
 * one output per item, in order; if it throws, every item of the batch fails
 * with that error.
 */
export class MicroBatcher<I, O> {
  private pending: Pending<I, O>[] = [];
  private cancel: (() => void) | null = null;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: MicroBatcherOptions,
  ) {
    if (!(options.maxBatch >= 1)) throw new RangeError('maxBatch must be at least 1');
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxBatch) this.flush();
      else if (!this.cancel) this.schedule();
    });
  }

  /** Submits several items of one request together (they share a batch unless it fills). */
  submitAll(items: I[]): Promise<O[]> {
    return Promise.all(items.map((item) => this.submit(item)));
  }

  /** A window of `windowMs`, or with 0 the rest of this turn of the event loop (what is submitted in it joins). */
  private schedule(): void {
    if (this.options.windowMs === 0) {
      const immediate = setImmediate(() => this.flush());
      this.cancel = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flush(), this.options.windowMs);
      this.cancel = () => clearTimeout(timer);
    }
  }

  private flush(): void {
    this.cancel?.();
    this.cancel = null;
    const batch = this.pending.splice(0, this.options.maxBatch);
    if (this.pending.length > 0) this.schedule();
    if (batch.length === 0) return;
    this.run(batch.map((p) => p.item)).then(
      (outputs) => {
        if (outputs.length !== batch.length) {
          const error = new Error(`a batch of ${batch.length} got ${outputs.length} results`);
          for (const p of batch) p.reject(error);
          return;
        }
        batch.forEach((p, i) => p.resolve(outputs[i]));
      },
      (error) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}
