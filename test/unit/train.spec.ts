import { threadId } from 'node:worker_threads';
import { trainAls } from '../../src/ml/train/als';
import { trainBpr } from '../../src/ml/train/bpr';
import { aggregate, EVENT_CODE, eventWeights, heldOutLearners, splitByTime, type EventColumns } from '../../src/ml/train/dataset';
import { constantScorer, factorScorer, popularityScores, rankingMetrics } from '../../src/ml/train/evaluate';
import { TrainerPool, TrainerPoolClosedError } from '../../src/ml/train/pool';
import type { TrainProgress } from '../../src/ml/train/progress';
import { Random } from '../../src/ml/train/random';
import { trainRecommender } from '../../src/ml/train/recommender';

/** The recommender trainer: weights and split, the two algorithms against popularity, the metrics, the worker pool. */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

interface Event {
  learner: number;
  item: number;
  type: keyof typeof EVENT_CODE;
  day: number;
  rating?: number;
}

function columns(learners: number, items: number, events: Event[]): EventColumns {
  return {
    learners,
    items,
    learner: Int32Array.from(events, (e) => e.learner),
    item: Int32Array.from(events, (e) => e.item),
    type: Uint8Array.from(events, (e) => EVENT_CODE[e.type]),
    rating: Uint8Array.from(events, (e) => e.rating ?? 0),
    time: Float64Array.from(events, (e) => T0 + e.day * DAY),
  };
}

/**
 * A planted brand: courses in `blocks` topics (course c in topic c mod
 * blocks) with Zipf-like popularity; learner l likes topic l mod blocks and
 * makes 10–20 choices over 100 days, each from their topic with
 * probability 0.75 (else from all courses), by popularity, never a course
 * twice; each choice a VIEW, then an ENROLL (half the time) and a PURCHASE
 * (30%). Popularity alone ignores the topics; a factor model should find them.
 */
function planted(seed: number, learners = 300, items = 100, blocks = 5): EventColumns {
  const random = new Random(seed);
  const order = Array.from({ length: items }, (_, i) => [random.next(), i]).sort((a, b) => a[0] - b[0]);
  const popularity = new Float64Array(items);
  order.forEach(([, c], rank) => (popularity[c] = 1 / Math.pow(1 + rank, 0.8)));
  const events: Event[] = [];
  for (let l = 0; l < learners; l++) {
    const topic = l % blocks;
    const taken = new Set<number>();
    const days = Array.from({ length: 10 + random.int(11) }, () => random.next() * 100).sort((a, b) => a - b);
    for (const day of days) {
      const own = random.next() < 0.75;
      const open = (c: number) => !taken.has(c) && (!own || c % blocks === topic);
      let total = 0;
      for (let c = 0; c < items; c++) if (open(c)) total += popularity[c];
      let u = random.next() * total;
      let item = -1;
      for (let c = 0; c < items && item < 0; c++) if (open(c) && (u -= popularity[c]) < 0) item = c;
      if (item < 0) continue;
      taken.add(item);
      events.push({ learner: l, item, type: 'VIEW', day });
      if (random.next() < 0.5) events.push({ learner: l, item, type: 'ENROLL', day: day + 0.1 });
      if (random.next() < 0.3) events.push({ learner: l, item, type: 'PURCHASE', day: day + 0.2 });
    }
  }
  return columns(learners, items, events);
}

function copy(events: EventColumns): EventColumns {
  return { ...events, learner: events.learner.slice(), item: events.item.slice(), type: events.type.slice(), rating: events.rating.slice(), time: events.time.slice() };
}

describe('event weights and aggregation', () => {
  it('weighs events by type, stars and recency, and sums them per pair', () => {
    const events = columns(2, 3, [
      { learner: 0, item: 1, type: 'VIEW', day: 90 },
      { learner: 0, item: 1, type: 'PURCHASE', day: 90 },
      { learner: 0, item: 2, type: 'RATING', rating: 2, day: 180 },
      { learner: 1, item: 0, type: 'ENROLL', day: 0 },
      { learner: 1, item: 2, type: 'RATING', rating: 5, day: 180 },
      { learner: 1, item: 2, type: 'RATING', rating: 3, day: 180 },
    ]);
    expect(Array.from(eventWeights(events, { halfLifeDays: 90 }))).toEqual([0.5, 2.5, 0, 0.75, 4, 1]);
    const pairs = aggregate(events, { halfLifeDays: 90 });
    // A 2-star rating is no positive signal: learner 0 has no pair with item 2.
    expect(Array.from(pairs.learner)).toEqual([0, 1, 1]);
    expect(Array.from(pairs.item)).toEqual([1, 0, 2]);
    expect(Array.from(pairs.weight)).toEqual([3, 0.75, 5]);
  });
});

describe('the time split', () => {
  const events = planted(7);
  const { train, test, cutoff } = splitByTime(events, { holdoutFraction: 0.2 });

  it('cuts at the 80% quantile of event times', () => {
    let after = 0;
    for (const t of events.time) if (t >= cutoff) after++;
    expect(after / events.time.length).toBeGreaterThan(0.19);
    expect(after / events.time.length).toBeLessThan(0.21);
  });

  it('trains on events before the cutoff only, and holds out only courses first met at or after it', () => {
    const firstMet = new Map<number, number>();
    for (let e = 0; e < events.time.length; e++) {
      const key = events.learner[e] * events.items + events.item[e];
      firstMet.set(key, Math.min(firstMet.get(key) ?? Infinity, events.time[e]));
    }
    const trainKeys = new Set<number>();
    for (let p = 0; p < train.learner.length; p++) {
      const key = train.learner[p] * train.items + train.item[p];
      trainKeys.add(key);
      expect(firstMet.get(key)).toBeLessThan(cutoff);
    }
    let heldOut = 0;
    for (let l = 0; l < test.learners; l++) {
      const items = test.item.subarray(test.offsets[l], test.offsets[l + 1]);
      if (items.length > 0) expect(train.learner.includes(l)).toBe(true);
      for (const i of items) {
        heldOut++;
        expect(trainKeys.has(l * train.items + i)).toBe(false);
        expect(firstMet.get(l * events.items + i)).toBeGreaterThanOrEqual(cutoff);
      }
    }
    expect(heldOut).toBeGreaterThan(100);
    expect(heldOutLearners(test)).toBeGreaterThan(50);
  });

  it('never holds out a course the learner met before the cutoff, even with no positive signal', () => {
    const s = splitByTime(
      columns(1, 3, [
        { learner: 0, item: 0, type: 'VIEW', day: 0 },
        { learner: 0, item: 1, type: 'RATING', rating: 1, day: 1 },
        { learner: 0, item: 0, type: 'VIEW', day: 2 },
        { learner: 0, item: 0, type: 'VIEW', day: 3 },
        { learner: 0, item: 1, type: 'PURCHASE', day: 10 },
        { learner: 0, item: 2, type: 'PURCHASE', day: 10 },
      ]),
      { holdoutFraction: 0.3 },
    );
    expect(s.cutoff).toBe(T0 + 10 * DAY);
    expect(Array.from(s.train.item)).toEqual([0]);
    expect(Array.from(s.test.item)).toEqual([2]);
  });
});

describe('rankingMetrics', () => {
  // Learner 0: train item 0, held out 1 and 3. Learner 1: nothing held out. Learner 2: no train, held out 2.
  const train = { learners: 3, items: 5, learner: Int32Array.of(0, 1), item: Int32Array.of(0, 4), weight: Float32Array.of(1, 1) };
  const test = { learners: 3, items: 5, offsets: Int32Array.of(0, 2, 2, 3), item: Int32Array.of(1, 3, 2) };

  it('scores a perfect top k as 1, the train items excluded', () => {
    const scores = [Float32Array.of(9, 5, 1, 4, 3), new Float32Array(5), Float32Array.of(0, 0, 7, 0, 0)];
    const m = rankingMetrics((l, out) => out.set(scores[l]), train, test, 2);
    expect(m).toEqual({ ndcg10: 1, recall10: 1, learners: 2 });
  });

  it('discounts a hit by its rank and normalises by min(k, held out)', () => {
    const m = rankingMetrics((_l, out) => out.set([0, 1, 5, 4, 3]), train, test, 2);
    // Learner 0: top 2 = items 2, 3; one hit at rank 2: DCG 1/log2(3), ideal 1 + 1/log2(3); recall 1/2.
    // Learner 2: top 2 = items 2, 3; a hit at rank 1, ideal over min(2, 1) = 1 item: NDCG 1, recall 1.
    const d2 = 1 / Math.log2(3);
    expect(m.learners).toBe(2);
    expect(m.ndcg10).toBeCloseTo((d2 / (1 + d2) + 1) / 2, 12);
    expect(m.recall10).toBeCloseTo(0.75, 12);
  });

  it('breaks ties to the lower item, and popularity is the summed train weight', () => {
    const m = rankingMetrics((_l, out) => out.fill(0), train, test, 1);
    // Learner 0: item 1 first (0 excluded): a hit. Learner 2: item 0 first: a miss.
    expect(m.ndcg10).toBeCloseTo(0.5, 12);
    expect(Array.from(popularityScores({ ...train, weight: Float32Array.of(2, 3) }))).toEqual([2, 0, 0, 0, 3]);
  });
});

describe('ALS and BPR on a planted brand', () => {
  const { train, test } = splitByTime(planted(3));
  const popularity = rankingMetrics(constantScorer(popularityScores(train)), train, test).ndcg10;

  it.each([
    ['ALS', trainAls],
    ['BPR', trainBpr],
  ])('%s finds the planted topics: held-out NDCG@10 well above popularity', (_name, train_) => {
    const progress: TrainProgress[] = [];
    const model = train_(train, {}, (p) => progress.push(p));
    const ndcg = rankingMetrics(factorScorer(model), train, test).ndcg10;
    expect(ndcg).toBeGreaterThan(2 * popularity);
    expect(ndcg).toBeGreaterThan(popularity + 0.15);
    expect(model.learnerFactors).toHaveLength(train.learners * model.factors);
    expect(model.itemFactors).toHaveLength(train.items * model.factors);
    expect(model.itemBias).toHaveLength(train.items);
    expect(progress.at(-1)!.fraction).toBe(1);
    // The objective goes down over training.
    expect(progress.at(-1)!.loss).toBeLessThan(progress[0].loss);
  });

  it('gives the same model for the same data and seed', () => {
    expect(trainAls(train, { iterations: 2 }).itemFactors).toEqual(trainAls(train, { iterations: 2 }).itemFactors);
    expect(trainBpr(train, { epochs: 2 }).itemFactors).toEqual(trainBpr(train, { epochs: 2 }).itemFactors);
  });
});

describe('trainRecommender', () => {
  it('measures on the held-out part, then trains on everything, progress spanning both phases', () => {
    const events = planted(5);
    const progress: TrainProgress[] = [];
    const { model, metrics, hyper } = trainRecommender(events, { algorithm: 'als' }, (p) => progress.push(p));
    expect(metrics.algorithm).toBe('als');
    expect(metrics.ndcg10!).toBeGreaterThan(metrics.popularityNdcg10! + 0.15);
    expect(metrics.heldOutLearners).toBeGreaterThan(50);
    expect(metrics.testPairs).toBeGreaterThan(100);
    expect(metrics.cutoff).toMatch(/^2026-/);
    expect(model.learners).toBe(events.learners);
    expect(model.items).toBe(events.items);
    expect(hyper.als!.factors).toBe(model.factors);
    const fractions = progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expect(progress.find((p) => p.fraction === 0.5)!.message).toMatch(/^held-out run/);
    expect(progress.at(-1)!.message).toMatch(/^final run/);
  });

  it('without held-out learners: null metrics with a note, and still a model of everything', () => {
    const events = columns(2, 2, [
      { learner: 0, item: 0, type: 'PURCHASE', day: 1 },
      { learner: 1, item: 1, type: 'PURCHASE', day: 1 },
    ]);
    const progress: TrainProgress[] = [];
    const { model, metrics } = trainRecommender(events, { algorithm: 'bpr', bpr: { epochs: 3 } }, (p) => progress.push(p));
    expect(metrics).toMatchObject({ ndcg10: null, recall10: null, popularityNdcg10: null, heldOutLearners: 0 });
    expect(metrics.note).toMatch(/held-out/);
    expect(model.learnerFactors).toHaveLength(2 * model.factors);
    expect(progress.map((p) => p.fraction)).toEqual([1 / 3, 2 / 3, 1]);
  });
});

describe('TrainerPool', () => {
  const pool = new TrainerPool({ concurrency: 1 });
  afterAll(() => pool.close());

  it('trains in a worker thread, moving the arrays both ways, with the same result as in-process', async () => {
    const events = planted(5);
    const local = trainRecommender(copy(events), { algorithm: 'bpr', bpr: { epochs: 5 } });
    const started: number[] = [];
    const progress: TrainProgress[] = [];
    const result = await pool.run(
      { kind: 'recommender', events, options: { algorithm: 'bpr', bpr: { epochs: 5 } } },
      { onStart: ({ threadId: id }) => started.push(id), onProgress: (p) => progress.push(p) },
    );
    expect(started).toHaveLength(1);
    expect(started[0]).not.toBe(threadId);
    expect(progress.length).toBe(10);
    // Transferred, not copied: the caller's arrays are empty now.
    expect(events.learner.byteLength).toBe(0);
    expect(Array.from(result.model.itemFactors)).toEqual(Array.from(local.model.itemFactors));
    expect(result.metrics).toEqual(local.metrics);
  });

  (process.platform === 'linux' ? it : it.skip)('trains at the lowest priority, leaving the serving thread at its own', async () => {
    const os = await import('node:os');
    const before = os.getPriority(0);
    const priorities: (number | null)[] = [];
    await pool.run({ kind: 'recommender', events: planted(1, 60, 20) }, { onStart: ({ priority }) => priorities.push(priority) });
    expect(priorities).toEqual([os.constants.priority.PRIORITY_LOW]);
    expect(os.getPriority(0)).toBe(before);
  });

  it('runs at most `concurrency` trainings at once, in FIFO order', async () => {
    const log: string[] = [];
    const task = (name: string) =>
      pool
        .run({ kind: 'recommender', events: planted(1, 60, 20), options: { bpr: { epochs: 2 }, algorithm: 'bpr' } }, { onStart: () => log.push(`start ${name}`) })
        .then(() => log.push(`end ${name}`));
    const both = Promise.all([task('a'), task('b')]);
    expect(pool.queued + pool.active).toBe(2);
    await both;
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('aborts a running training and a waiting one with an AbortError', async () => {
    const running = new AbortController();
    const waiting = new AbortController();
    const first = pool.run(
      { kind: 'recommender', events: planted(2, 600, 150), options: { algorithm: 'bpr', bpr: { epochs: 1000 } } },
      { signal: running.signal, onProgress: () => running.abort() },
    );
    const second = pool.run({ kind: 'recommender', events: planted(2, 60, 20) }, { signal: waiting.signal });
    waiting.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect(pool.active + pool.queued).toBe(0);
  });

  it('rejects with the message of an error thrown in the worker', async () => {
    const events = planted(2, 60, 20);
    events.learner[0] = 99;
    await expect(pool.run({ kind: 'recommender', events })).rejects.toThrow(/learner row 99 is outside 0\.\.59/);
  });

  it('on close, rejects the running and the waiting trainings and refuses new ones', async () => {
    const own = new TrainerPool({ concurrency: 1 });
    const running = own.run({ kind: 'recommender', events: planted(2, 600, 150), options: { algorithm: 'bpr', bpr: { epochs: 1000 } } });
    const waiting = own.run({ kind: 'recommender', events: planted(2, 60, 20) });
    const rejected = Promise.all([
      expect(running).rejects.toBeInstanceOf(TrainerPoolClosedError),
      expect(waiting).rejects.toBeInstanceOf(TrainerPoolClosedError),
    ]);
    await own.close();
    await rejected;
    await expect(own.run({ kind: 'recommender', events: planted(2, 60, 20) })).rejects.toBeInstanceOf(TrainerPoolClosedError);
  });
});
