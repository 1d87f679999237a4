import { AlliedError } from '../../errors';
import { recommenderGraph } from '../onnx/recommender';
import type { TrainProgress } from '../train/progress';
import type { KindTrainer } from '../training';
import { loadTrainingEvents } from './data';
import type { RecommenderMeta } from './serving';

/** Items a recommender graph returns per learner: enough to fill a page after dropping what the brand cannot show. */
export const RECOMMENDER_TOP = 128;

/** A RECOMMENDER training: the brand's course interactions, ALS (or BPR) in the worker, the graph with its id maps. */
export const trainRecommenderVersion: KindTrainer = async ({ version, asBrand, pool, report, push, signal }) => {
  const data = await asBrand((ctx) => loadTrainingEvents(ctx));
  if (data.columns.learners === 0 || data.columns.items === 0) {
    throw new AlliedError('BAD_USER_INPUT', 'No interactions to learn from yet: record VIEW, ENROLL, PURCHASE, COMPLETE or RATING events with a courseId first.');
  }
  // The columns are handed over to the worker (transferred): count them first.
  const interactions = data.columns.learner.length;
  await report({ progress: 0, message: `read ${interactions} interactions of ${data.columns.learners} learners with ${data.columns.items} courses` });
  const result = await pool.run(
    { kind: 'recommender', events: data.columns, options: version.hyper },
    { onProgress: (p: TrainProgress) => push({ progress: p.fraction, epoch: p.epoch, loss: p.loss, message: p.message }), signal },
  );
  const { model } = result;
  const top = Math.min(RECOMMENDER_TOP, model.items);
  const meta: RecommenderMeta = {
    learners: data.learnerIds,
    items: data.courseIds,
    top,
    factors: model.factors,
    itemFactors: Buffer.from(model.itemFactors.buffer, model.itemFactors.byteOffset, model.itemFactors.byteLength).toString('base64'),
  };
  return {
    artifact: { bytes: recommenderGraph(model, top), meta: meta as unknown as Record<string, unknown> },
    metrics: { ...result.metrics, interactions, hyper: result.hyper },
  };
};
