import type { ModelSession } from './runtime';

/** A loaded model: its session and what serving needs beside it. */
export interface LoadedModel<M> {
  session: ModelSession;
  meta: M;
  /** What it holds in memory, counted as its artifact's size (weights dominate). */
  bytes: number;
}

export interface SessionCacheOptions {
  /** Most models held at once. */
  maxModels: number;
  /** Most bytes (the sum of their artifacts' sizes) held at once. */
  maxBytes: number;
}

interface Entry<M> {
  key: string;
  loading: Promise<LoadedModel<M>>;
  model: LoadedModel<M> | null;
  /** Runs using the session now: an evicted session is released once they end. */
  busy: number;
  evicted: boolean;
}

/**
 * Sessions of many brands' model versions, least recently used first out,
 * bounded by count and by bytes, so ten thousand brands do not mean ten
 * thousand sessions in memory. A version's session is created once and
 * reused; concurrent first uses share one load. Keys are version ids, which
 * never change meaning, so nothing cached is ever stale.
 */
export class SessionCache<M> {
  private readonly entries = new Map<string, Entry<M>>();
  private held = 0;
  loads = 0;
  evictions = 0;

  constructor(private readonly options: SessionCacheOptions) {
    if (!(options.maxModels >= 1) || !(options.maxBytes >= 1)) throw new RangeError('a session cache holds at least one model');
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.held;
  }

  /** Runs `work` with the model under `key`, loading it with `load` on first use. */
  async use<T>(key: string, load: () => Promise<LoadedModel<M>>, work: (model: LoadedModel<M>) => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry); // most recently used last
    } else {
      entry = this.start(key, load);
    }
    entry.busy++;
    try {
      const model = await entry.loading;
      return await work(model);
    } finally {
      entry.busy--;
      if (entry.evicted && entry.busy === 0) await this.release(entry);
    }
  }

  /** Drops one version (its model failed a check) or every version. */
  async clear(key?: string): Promise<void> {
    const victims = key === undefined ? [...this.entries.values()] : [this.entries.get(key)].filter((e): e is Entry<M> => !!e);
    for (const entry of victims) await this.evict(entry);
  }

  private start(key: string, load: () => Promise<LoadedModel<M>>): Entry<M> {
    const entry: Entry<M> = { key, loading: Promise.resolve(null as never), model: null, busy: 0, evicted: false };
    this.loads++;
    entry.loading = load().then(
      (model) => {
        entry.model = model;
        if (entry.evicted) {
          if (entry.busy === 0) void model.session.release();
          return model;
        }
        this.held += model.bytes;
        void this.shrink(entry);
        return model;
      },
      (error) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, entry);
    return entry;
  }

  /** Evicts the least recently used loaded models until the bounds hold (never `keep`, just loaded). */
  private async shrink(keep: Entry<M>): Promise<void> {
    for (const entry of [...this.entries.values()]) {
      if (this.entries.size <= this.options.maxModels && this.held <= this.options.maxBytes) return;
      if (entry === keep || !entry.model) continue;
      await this.evict(entry);
    }
  }

  private async evict(entry: Entry<M>): Promise<void> {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    entry.evicted = true;
    this.evictions++;
    if (entry.model) this.held -= entry.model.bytes;
    if (entry.busy === 0 && entry.model) await this.release(entry);
  }

  private async release(entry: Entry<M>): Promise<void> {
    const model = entry.model;
    entry.model = null;
    await model?.session.release().catch(() => undefined);
  }
}
