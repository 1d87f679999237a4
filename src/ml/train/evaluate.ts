import type { FactorModel } from '../onnx/recommender';
import { learnerOffsets, type HeldOut, type Interactions } from './dataset';

/** Held-out ranking quality, averaged over the learners with held-out items. */
export interface RankingMetrics {
  /** Mean NDCG@k with binary relevance (the field keeps its name for k ≠ 10). */
  ndcg10: number;
  /** Mean hits@k / min(k, held-out items). */
  recall10: number;
  /** Learners evaluated. */
  learners: number;
}

/** Fills `out` (one score per item) for a learner row; higher ranks first. */
export type LearnerScorer = (learner: number, out: Float32Array) => void;

/**
 * For each learner with held-out items: score every item, drop the
 * learner's train items (a recommender never offers what the learner has
 * already met), keep the top k (ties to the lower item), and compare with
 * the held-out items. NDCG@k's ideal DCG counts min(k, |held out|) hits, so
 * a perfect ranking scores 1 whatever the number of held-out items; recall
 * is hits / min(k, |held out|) for the same reason.
 */
export function rankingMetrics(scoreLearner: LearnerScorer, train: Interactions, test: HeldOut, k = 10): RankingMetrics {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const items = test.items;
  const trainOffsets = learnerOffsets(train);
  const scores = new Float32Array(items);
  const excluded = new Uint8Array(items);
  const relevant = new Uint8Array(items);
  const topItems = new Int32Array(k);
  const topScores = new Float64Array(k);
  const discount = Float64Array.from({ length: k }, (_, r) => 1 / Math.log2(r + 2));
  let ndcg = 0;
  let recall = 0;
  let evaluated = 0;
  for (let l = 0; l < test.learners; l++) {
    const start = test.offsets[l];
    const end = test.offsets[l + 1];
    if (start === end) continue;
    scores.fill(0);
    scoreLearner(l, scores);
    const trainStart = l < train.learners ? trainOffsets[l] : 0;
    const trainEnd = l < train.learners ? trainOffsets[l + 1] : 0;
    for (let p = trainStart; p < trainEnd; p++) excluded[train.item[p]] = 1;
    for (let p = start; p < end; p++) relevant[test.item[p]] = 1;

    const kept = topK(scores, excluded, k, topItems, topScores);
    let dcg = 0;
    let hits = 0;
    for (let r = 0; r < kept; r++) {
      if (relevant[topItems[r]]) {
        dcg += discount[r];
        hits++;
      }
    }
    const ideal = Math.min(k, end - start);
    let idcg = 0;
    for (let r = 0; r < ideal; r++) idcg += discount[r];
    ndcg += dcg / idcg;
    recall += hits / ideal;
    evaluated++;

    for (let p = trainStart; p < trainEnd; p++) excluded[train.item[p]] = 0;
    for (let p = start; p < end; p++) relevant[test.item[p]] = 0;
  }
  return evaluated === 0 ? { ndcg10: 0, recall10: 0, learners: 0 } : { ndcg10: ndcg / evaluated, recall10: recall / evaluated, learners: evaluated };
}

/** Recency-weighted popularity: each item's summed train weight, the baseline every learner gets alike. */
export function popularityScores(train: Interactions): Float32Array {
  const out = new Float32Array(train.items);
  for (let p = 0; p < train.item.length; p++) out[train.item[p]] += train.weight[p];
  return out;
}

/** A scorer that gives every learner the same scores (a baseline such as popularityScores). */
export function constantScorer(scores: Float32Array): LearnerScorer {
  return (_learner, out) => out.set(scores);
}

/** A factor model's scores, as its serving graph computes them: learner factors · item factors + item bias. */
export function factorScorer(model: FactorModel): LearnerScorer {
  const { items, factors: f, learnerFactors, itemFactors, itemBias } = model;
  return (learner, out) => {
    const o = learner * f;
    for (let i = 0; i < items; i++) {
      let s = itemBias[i];
      const oi = i * f;
      for (let a = 0; a < f; a++) s += learnerFactors[o + a] * itemFactors[oi + a];
      out[i] = s;
    }
  };
}

/**
 * The k best items not excluded, best first, into topItems/topScores; ties
 * go to the lower item. Returns how many were kept (fewer than k when fewer
 * items remain). NaN scores are never kept.
 */
function topK(scores: Float32Array, excluded: Uint8Array, k: number, topItems: Int32Array, topScores: Float64Array): number {
  let kept = 0;
  for (let i = 0; i < scores.length; i++) {
    if (excluded[i]) continue;
    const s = scores[i];
    if (!(s === s)) continue;
    if (kept === k && s <= topScores[k - 1]) continue;
    let r = kept === k ? k - 1 : kept++;
    while (r > 0 && topScores[r - 1] < s) {
      topScores[r] = topScores[r - 1];
      topItems[r] = topItems[r - 1];
      r--;
    }
    topScores[r] = s;
    topItems[r] = i;
  }
  return kept;
}
