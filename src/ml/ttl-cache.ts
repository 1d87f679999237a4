/**
 * Statistics of many events that one computation may serve for a while
 * (popularity, observed click counts): each key's value is computed once and
 * reused for `ttlMs`; concurrent first uses share the computation; a failed
 * computation is forgotten at once. At most `maxKeys` keys, oldest out.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  get(key: string, compute: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.value;
    const value = compute();
    this.entries.delete(key);
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}
