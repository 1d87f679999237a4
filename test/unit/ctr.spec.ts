import fc from 'fast-check';
import { threadId } from 'node:worker_threads';
import { ctrFeatureSpec, encodeImpressions, fnv1a32, hashFeature, headlineTokens, type CtrImpression } from '../../src/ml/ctr/features';
import { fmPredict, type FmWeights } from '../../src/ml/ctr/fm';
import { lrPredict, type LrWeights } from '../../src/ml/ctr/lr';
import { auc, calibration, logLoss } from '../../src/ml/ctr/metrics';
import { ctrPrior, splitCtrByTime, trainCtr, type CtrExamples } from '../../src/ml/ctr/train';
import { fmGraph, lrGraph } from '../../src/ml/onnx/ctr';
import { ModelRuntime } from '../../src/ml/runtime/runtime';
import { TrainerPool } from '../../src/ml/train/pool';
import type { TrainProgress } from '../../src/ml/train/progress';
import { Random } from '../../src/ml/train/random';

/** The CTR model: hashing, metrics, LR/FM training, their ONNX graphs against TypeScript, and the worker pool. */

/** Random weights with the padding row zero, and a random batch of indices that includes padding. */
function randomCase(seed: number, buckets: number, F: number, k: number, batch: number) {
  const random = new Random(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => random.normal() * 0.5);
  const w = fill(buckets);
  const v = fill(buckets * k);
  w[0] = 0;
  v.fill(0, 0, k);
  const indices = Int32Array.from({ length: batch * F }, () => (random.next() < 0.2 ? 0 : random.int(buckets)));
  return { w, v, bias: random.normal(), indices };
}

/** The models in plain TypeScript, written out from their definitions (not the trainers' code). */
function lrReference(m: LrWeights, indices: Int32Array, F: number): number[] {
  return Array.from({ length: indices.length / F }, (_, b) => {
    let z = m.bias;
    for (let f = 0; f < F; f++) z += m.w[indices[b * F + f]];
    return 1 / (1 + Math.exp(-z));
  });
}

function fmReference(m: FmWeights, indices: Int32Array, F: number): number[] {
  return Array.from({ length: indices.length / F }, (_, b) => {
    let z = m.bias;
    for (let f = 0; f < F; f++) z += m.w[indices[b * F + f]];
    // Σ_{f<g} ⟨v_f, v_g⟩ over the example's slots, pair by pair.
    for (let f = 0; f < F; f++) {
      for (let g = f + 1; g < F; g++) {
        for (let c = 0; c < m.k; c++) z += m.v[indices[b * F + f] * m.k + c] * m.v[indices[b * F + g] * m.k + c];
      }
    }
    return 1 / (1 + Math.exp(-z));
  });
}

describe('the CTR graphs', () => {
  let runtime: ModelRuntime;
  beforeAll(async () => {
    runtime = await ModelRuntime.open('cpu');
  });

  const shapes = fc.record({
    seed: fc.integer(),
    buckets: fc.integer({ min: 2, max: 400 }),
    F: fc.integer({ min: 1, max: 24 }),
    k: fc.integer({ min: 1, max: 12 }),
    batch: fc.integer({ min: 1, max: 16 }),
  });

  it('LR: the graph gives the probabilities TypeScript computes, for random weights and batches', async () => {
    await fc.assert(
      fc.asyncProperty(shapes, async ({ seed, buckets, F, batch }) => {
        const c = randomCase(seed, buckets, F, 1, batch);
        const model: LrWeights = { buckets, bias: c.bias, w: c.w };
        const session = await runtime.load(lrGraph(model, F));
        try {
          const out = await session.run({ indices: { data: c.indices, dims: [batch, F] } });
          expect(out.probability.dims).toEqual([batch]);
          const want = lrReference(model, c.indices, F);
          want.forEach((p, b) => expect(Math.abs(out.probability.data[b] - p)).toBeLessThan(1e-5));
          lrPredict(model, c.indices, F).forEach((p, b) => expect(Math.abs(p - want[b])).toBeLessThan(1e-5));
        } finally {
          await session.release();
        }
      }),
      { numRuns: 40, seed: 20261202 },
    );
  });

  it('FM: the graph gives the pairwise sum over slots TypeScript computes, for random weights and batches', async () => {
    await fc.assert(
      fc.asyncProperty(shapes, async ({ seed, buckets, F, k, batch }) => {
        const c = randomCase(seed, buckets, F, k, batch);
        const model: FmWeights = { buckets, k, bias: c.bias, w: c.w, v: c.v };
        const session = await runtime.load(fmGraph(model, F));
        try {
          const out = await session.run({ indices: { data: c.indices, dims: [batch, F] } });
          expect(out.probability.dims).toEqual([batch]);
          const want = fmReference(model, c.indices, F);
          want.forEach((p, b) => expect(Math.abs(out.probability.data[b] - p)).toBeLessThan(1e-5));
          fmPredict(model, c.indices, F).forEach((p, b) => expect(Math.abs(p - want[b])).toBeLessThan(1e-5));
        } finally {
          await session.release();
        }
      }),
      { numRuns: 40, seed: 20261203 },
    );
  });

  it('padding contributes nothing: a row of zeros scores σ(bias)', async () => {
    const c = randomCase(7, 50, 6, 4, 1);
    const session = await runtime.load(fmGraph({ buckets: 50, k: 4, bias: 0.3, w: c.w, v: c.v }, 6));
    try {
      const out = await session.run({ indices: { data: new Int32Array(6), dims: [1, 6] } });
      expect(out.probability.data[0]).toBeCloseTo(1 / (1 + Math.exp(-0.3)), 6);
    } finally {
      await session.release();
    }
  });
});

describe('CTR metrics', () => {
  it('AUC on hand cases, ties counting one half', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auc([0.2, 0.5, 0.5, 0.9], [0, 1, 0, 1])).toBeCloseTo(0.875, 12);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(auc([0.9, 0.8, 0.1], [0, 0, 1])).toBe(0);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('AUC equals the share of (click, non-click) pairs ranked right, ties one half, on generated cases', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 40 }), (rows) => {
        const scores = rows.map((r) => r[0] / 5);
        const labels = rows.map((r) => (r[1] ? 1 : 0));
        let right = 0;
        let pairs = 0;
        rows.forEach((p, i) => {
          if (!labels[i]) return;
          rows.forEach((_, j) => {
            if (labels[j]) return;
            pairs++;
            right += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
          });
        });
        if (pairs === 0) expect(auc(scores, labels)).toBeNaN();
        else expect(auc(scores, labels)).toBeCloseTo(right / pairs, 12);
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('log-loss and calibration bins on a hand case', () => {
    expect(logLoss([0.5, 0.5], [0, 1])).toBeCloseTo(Math.LN2, 12);
    const bins = calibration([0.05, 0.15, 0.12, 0.95, 1.0], [0, 1, 0, 1, 1], 10);
    expect(bins).toHaveLength(10);
    expect(bins[0]).toEqual({ lower: 0, upper: 0.1, count: 1, meanPredicted: 0.05, observedRate: 0 });
    expect(bins[1].count).toBe(2);
    expect(bins[1].meanPredicted).toBeCloseTo(0.135, 12);
    expect(bins[1].observedRate).toBe(0.5);
    expect(bins[9].count).toBe(2);
    expect(bins[9].meanPredicted).toBeCloseTo(0.975, 12);
    expect(bins[9].observedRate).toBe(1);
    expect(bins.slice(2, 9).every((b) => b.count === 0 && b.meanPredicted === null && b.observedRate === null)).toBe(true);
  });

  it('the prior is the Beta-binomial posterior mean', () => {
    expect(ctrPrior(0, 0, 2, 100)).toBeCloseTo(0.02, 12);
    expect(ctrPrior(30, 100, 2, 100)).toBeCloseTo(32 / 200, 12);
    expect(() => ctrPrior(5, 3, 2, 100)).toThrow(RangeError);
  });
});

describe('feature hashing', () => {
  const spec = ctrFeatureSpec(1 << 12);
  const impression: CtrImpression = {
    channel: 'SOCIAL',
    hourOfDay: 20,
    dayOfWeek: 5,
    campaignKind: 'AD_PLACEMENT',
    headline: 'Python 数据分析入门：零基础 课',
    topics: ['data science', 'python'],
    segment: 'career switchers',
    views30d: 5,
    purchases30d: 0,
  };

  it('is FNV-1a of the UTF-8 bytes, deterministic, into 1..buckets−1', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // The inline UTF-8 encoding agrees with TextEncoder's bytes, astral characters included.
    const bytes = (s: string) => {
      let h = 0x811c9dc5;
      for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193);
      return h >>> 0;
    };
    for (const s of ['数据分析', 'é', '𠀋课', 'channel=SOCIAL']) expect(fnv1a32(s)).toBe(bytes(s));
    const a = encodeImpressions([impression], spec);
    const b = encodeImpressions([{ ...impression, topics: [...impression.topics] }], spec);
    expect(a).toHaveLength(spec.F);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a).every((i) => i >= 0 && i < spec.buckets)).toBe(true);
    expect(a[0]).toBe(hashFeature('channel', 'SOCIAL', spec.buckets));
  });

  it('tokenises English as lower-cased words and Chinese as character bigrams (a lone character alone)', () => {
    expect(headlineTokens(impression.headline)).toEqual(['python', '数据', '据分', '分析', '析入', '入门', '零基', '基础', '课']);
    expect(headlineTokens('Learn SQL, learn fast')).toEqual(['learn', 'sql', 'fast']);
  });

  it('pads absent optional fields and unused slots with 0, and truncates long headlines', () => {
    const spec2 = ctrFeatureSpec(1 << 12);
    const bare = encodeImpressions([{ channel: 'EMAIL', hourOfDay: 9, dayOfWeek: 1, campaignKind: 'EMAIL', headline: '', topics: [] }], spec2);
    let at = 0;
    const slots: Record<string, number[]> = {};
    for (const f of spec2.fields) slots[f.name] = Array.from(bare.subarray(at, (at += f.slots)));
    for (const name of ['headline', 'topic', 'sponsorship', 'sport', 'segment']) expect(slots[name].every((i) => i === 0)).toBe(true);
    for (const name of ['channel', 'hour', 'day', 'channel_hour', 'kind', 'channel_kind', 'views30d']) expect(slots[name][0]).toBeGreaterThan(0);
    const long = encodeImpressions([{ ...impression, headline: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ') }], spec2);
    expect(long).toHaveLength(spec2.F);
  });
});

/**
 * Clicks with a planted pairwise interaction: fields A and B (20 values
 * each) whose click logit is −1 + 1.5·s_a·s_b, s = ±1 by a hidden sign per
 * value, plus a noise field. Each of A and B alone says nothing (their
 * marginal click rates are equal), so LR stays near 0.5 AUC; the
 * interaction is rank one, which an FM can represent.
 */
function interactionData(seed: number, n: number, buckets = 1 << 12): CtrExamples {
  const random = new Random(seed);
  const sign = (field: number, value: number) => (fnv1a32(`${seed}:${field}:${value}`) & 1 ? 1 : -1);
  const F = 3;
  const indices = new Int32Array(n * F);
  const labels = new Uint8Array(n);
  const time = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const a = random.int(20);
    const b = random.int(20);
    indices[r * F] = hashFeature('a', String(a), buckets);
    indices[r * F + 1] = hashFeature('b', String(b), buckets);
    indices[r * F + 2] = hashFeature('noise', String(random.int(50)), buckets);
    const z = -1 + 1.5 * sign(0, a) * sign(1, b);
    labels[r] = random.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    time[r] = Date.UTC(2026, 0, 1) + r * 60_000;
  }
  return { indices, labels, time, F, buckets };
}

describe('trainCtr', () => {
  it('the FM finds a planted pairwise interaction that LR cannot, on held-out impressions', () => {
    const progress: TrainProgress[] = [];
    const result = trainCtr(interactionData(11, 20_000), { fm: { epochs: 4 }, lr: { epochs: 4 } }, (p) => progress.push(p));
    const m = result.metrics;
    expect(m.examples).toBe(20_000);
    expect(m.testExamples).toBe(4_000);
    expect(m.lrAuc!).toBeLessThan(0.6);
    expect(m.auc!).toBeGreaterThan(0.75);
    expect(m.logloss!).toBeLessThan(m.lrLogloss!);
    expect(progress).toHaveLength(12);
    expect(progress.at(-1)!.fraction).toBeCloseTo(1, 12);
    expect(progress.every((p, i) => i === 0 || p.fraction > progress[i - 1].fraction)).toBe(true);
    expect(result.model.w[0]).toBe(0);
    expect(Array.from(result.model.v.subarray(0, result.model.k))).toEqual(new Array(result.model.k).fill(0));
    // The calibration bins hold every held-out impression.
    expect(m.calibration.reduce((n, b) => n + b.count, 0)).toBe(4_000);
  });

  it('splits by time with the later 20% held out', () => {
    const time = Float64Array.from([5, 1, 4, 2, 3, 9, 8, 7, 6, 10]);
    const split = splitCtrByTime(time);
    expect(split.cutoff).toBe(9);
    expect(Array.from(split.test)).toEqual([5, 9]);
    expect(split.train).toHaveLength(8);
  });

  it('is deterministic for the same data and seeds', () => {
    const a = trainCtr(interactionData(2, 2_000), { fm: { epochs: 1 }, lr: { epochs: 1 } });
    const b = trainCtr(interactionData(2, 2_000), { fm: { epochs: 1 }, lr: { epochs: 1 } });
    expect(a.metrics).toEqual(b.metrics);
    expect(Buffer.from(a.model.v.buffer).equals(Buffer.from(b.model.v.buffer))).toBe(true);
  });
});

describe('TrainerPool with a CTR task', () => {
  const pool = new TrainerPool({ concurrency: 1 });
  afterAll(() => pool.close());

  it('trains in a worker thread, moving the arrays both ways, with the same result as in-process', async () => {
    const options = { fm: { epochs: 2, k: 4 }, lr: { epochs: 2 } };
    const local = trainCtr(interactionData(5, 3_000), options);
    const examples = interactionData(5, 3_000);
    const started: number[] = [];
    const progress: TrainProgress[] = [];
    const result = await pool.run({ kind: 'ctr', examples, options }, { onStart: ({ threadId: id }) => started.push(id), onProgress: (p) => progress.push(p) });
    expect(started).toHaveLength(1);
    expect(started[0]).not.toBe(threadId);
    expect(progress).toHaveLength(6);
    expect(examples.indices.byteLength).toBe(0);
    expect(result.model.v).toBeInstanceOf(Float32Array);
    expect(Array.from(result.model.v)).toEqual(Array.from(local.model.v));
    expect(result.metrics).toEqual(local.metrics);
  });
});
