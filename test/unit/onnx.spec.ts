import fc from 'fast-check';
import { recommenderGraph, type FactorModel } from '../../src/ml/onnx/recommender';
import { DeviceError, ModelRuntime } from '../../src/ml/runtime/runtime';

/** The recommender's ONNX graph, run by ONNX Runtime, against the same model computed in TypeScript. */

const EXCLUDED = -1e9;

function randomModel(rand: () => number, learners: number, items: number, factors: number): FactorModel {
  const fill = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
  return { learners, items, factors, learnerFactors: fill(learners * factors), itemFactors: fill(items * factors), itemBias: fill(items) };
}

/** Scores every item for one learner in float32 steps, as the graph does, and keeps the best `top` not excluded. */
function expected(model: FactorModel, learner: number, excluded: Set<number>, top: number) {
  const scored: { item: number; score: number }[] = [];
  for (let i = 0; i < model.items; i++) {
    let dot = 0;
    for (let f = 0; f < model.factors; f++) dot += model.learnerFactors[learner * model.factors + f] * model.itemFactors[i * model.factors + f];
    scored.push({ item: i, score: Math.fround(dot + model.itemBias[i]) });
  }
  return scored
    .filter((s) => !excluded.has(s.item))
    .sort((a, b) => b.score - a.score)
    .slice(0, top);
}

describe('the recommender graph', () => {
  let runtime: ModelRuntime;
  beforeAll(async () => {
    runtime = await ModelRuntime.open('cpu');
  });

  it('ranks what TypeScript ranks, with the same scores, skipping masked items, for random models and batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer(),
          learners: fc.integer({ min: 1, max: 40 }),
          items: fc.integer({ min: 1, max: 300 }),
          factors: fc.integer({ min: 1, max: 32 }),
          top: fc.integer({ min: 1, max: 50 }),
          batch: fc.integer({ min: 1, max: 16 }),
        }),
        async ({ seed, learners, items, factors, top, batch }) => {
          const rand = mulberry(seed);
          const model = randomModel(rand, learners, items, factors);
          const session = await runtime.load(recommenderGraph(model, top));
          try {
            const rows = Int32Array.from({ length: batch }, () => Math.floor(rand() * learners));
            const excluded = Array.from({ length: batch }, () => new Set(Array.from({ length: items }, (_, i) => i).filter(() => rand() < 0.3)));
            const mask = new Float32Array(batch * items);
            excluded.forEach((set, b) => set.forEach((i) => (mask[b * items + i] = EXCLUDED)));
            const out = await session.run({ learner: { data: rows, dims: [batch] }, mask: { data: mask, dims: [batch, items] } });
            const k = Math.min(top, items);
            expect(out.items.dims).toEqual([batch, k]);
            expect(out.items.data).toBeInstanceOf(Int32Array);
            for (let b = 0; b < batch; b++) {
              const want = expected(model, rows[b], excluded[b], k);
              const got = Array.from({ length: k }, (_, j) => ({ item: out.items.data[b * k + j], score: out.scores.data[b * k + j] }));
              // Excluded items only fill places the unmasked ones cannot.
              const kept = got.filter((g) => g.score > EXCLUDED / 2);
              expect(kept.length).toBe(want.length);
              kept.forEach((g, j) => {
                expect(g.score).toBeCloseTo(want[j].score, 4);
                // Equal scores may come in either order; otherwise the same item.
                if (Math.abs(want[j].score - (want[j + 1]?.score ?? -Infinity)) > 1e-4 && Math.abs(want[j].score - (want[j - 1]?.score ?? Infinity)) > 1e-4) {
                  expect(g.item).toBe(want[j].item);
                }
              });
            }
          } finally {
            await session.release();
          }
        },
      ),
      { numRuns: 60, seed: 20261201 },
    );
  });

  it('refuses an explicit device this machine cannot serve, naming the variable; auto falls back to one that can', async () => {
    await expect(ModelRuntime.open('cuda')).rejects.toThrow(DeviceError);
    await expect(ModelRuntime.open('cuda')).rejects.toThrow(/ALLIED_ML_DEVICE=cuda/);
    const auto = await ModelRuntime.open('auto');
    expect(['cuda', 'webgpu', 'cpu']).toContain(auto.provider);
    if (auto.provider !== 'cuda') expect(auto.skipped.map((s) => s.provider)).toContain('cuda');
  });
});

/** A small seeded generator (mulberry32), so each case's model is reproducible from its seed. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
