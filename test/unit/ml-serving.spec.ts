import { MicroBatcher } from '../../src/ml/recommend/batcher';
import { SessionCache, type LoadedModel } from '../../src/ml/runtime/cache';
import type { ModelSession } from '../../src/ml/runtime/runtime';

/** The serving parts around ONNX Runtime: the bounded session cache and the cross-request micro-batcher. */

function fakeSession(released: string[], key: string): ModelSession {
  return { provider: 'cpu', run: async () => ({}), release: async () => void released.push(key) };
}

describe('the session cache', () => {
  const loaded = (released: string[], key: string, bytes: number) => async (): Promise<LoadedModel<string>> => ({
    session: fakeSession(released, key),
    meta: key,
    bytes,
  });

  it('loads a version once, shares a load between concurrent users, and evicts the least recently used', async () => {
    const released: string[] = [];
    const cache = new SessionCache<string>({ maxModels: 2, maxBytes: 1e9 });
    const use = (key: string) => cache.use(key, loaded(released, key, 10), async (m) => m.meta);
    expect(await Promise.all([use('a'), use('a'), use('a')])).toEqual(['a', 'a', 'a']);
    expect(cache.loads).toBe(1);
    await use('b');
    await use('a'); // a is now the most recently used
    await use('c'); // evicts b
    expect(released).toEqual(['b']);
    expect(cache.size).toBe(2);
    await use('b');
    expect(cache.loads).toBe(4);
  });

  it('is bounded by bytes as well as by count', async () => {
    const released: string[] = [];
    const cache = new SessionCache<string>({ maxModels: 100, maxBytes: 25 });
    for (const key of ['a', 'b', 'c', 'd']) await cache.use(key, loaded(released, key, 10), async () => undefined);
    expect(cache.bytes).toBeLessThanOrEqual(25);
    expect(released).toEqual(['a', 'b']);
  });

  it('never releases a session while a run is using it', async () => {
    const released: string[] = [];
    const cache = new SessionCache<string>({ maxModels: 1, maxBytes: 1e9 });
    let finish!: () => void;
    const running = cache.use('a', loaded(released, 'a', 1), () => new Promise<void>((resolve) => (finish = resolve)));
    await new Promise((r) => setImmediate(r));
    await cache.use('b', loaded(released, 'b', 1), async () => undefined); // a is evicted, but busy
    expect(released).toEqual([]);
    finish();
    await running;
    expect(released).toEqual(['a']);
  });

  it('forgets a failed load, so the next use tries again', async () => {
    const cache = new SessionCache<string>({ maxModels: 2, maxBytes: 1e9 });
    await expect(cache.use('a', async () => Promise.reject(new Error('damaged')), async () => 1)).rejects.toThrow('damaged');
    expect(cache.size).toBe(0);
    expect(await cache.use('a', loaded([], 'a', 1), async (m) => m.meta)).toBe('a');
  });
});

describe('the micro-batcher', () => {
  it('gathers items submitted within its window into one call, in order', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (items) => (calls.push(items), items.map((i) => i * 2)), { windowMs: 5, maxBatch: 100 });
    const out = await Promise.all([1, 2, 3].map((i) => batcher.submit(i)));
    expect(out).toEqual([2, 4, 6]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('with no window, batches what is submitted in the same turn of the event loop', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (items) => (calls.push(items), items), { windowMs: 0, maxBatch: 100 });
    await Promise.all([batcher.submit(1), batcher.submit(2)]);
    await batcher.submit(3);
    expect(calls).toEqual([[1, 2], [3]]);
  });

  it('runs a full batch at once and splits what is beyond it', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (items) => (calls.push(items), items), { windowMs: 10_000, maxBatch: 2 });
    const out = await Promise.race([
      batcher.submitAll([1, 2, 3, 4]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('a full batch waited for its window')), 1000)),
    ]);
    expect(out).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual([[1, 2], [3, 4]]);
  });

  it('fails every item of a batch whose call fails, and serves the next batch', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>(async (items) => {
      if (fail) throw new Error('model call failed');
      return items;
    }, { windowMs: 1, maxBatch: 10 });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.submit(3)).toBe(3);
  });
});
