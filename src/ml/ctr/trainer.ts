import { AlliedError } from '../../errors';
import { fmGraph } from '../onnx/ctr';
import type { TrainProgress } from '../train/progress';
import type { KindTrainer } from '../training';
import { loadCtrTrainingSet } from './data';
import { ctrFeatureSpec } from './features';
import type { CtrMeta } from './serving';
import type { CtrOptions } from './train';

/**
 * A CTR trainer for impressions credited to clicks within `clickWindowMs`:
 * the brand's hashed impressions, LR and FM on the time split in the
 * worker, then the served FM graph with the feature spec it needs.
 */
export function ctrTrainer(clickWindowMs: number): KindTrainer {
  return async ({ version, asBrand, pool, report, push, signal }) => {
    const hyper = version.hyper as CtrOptions & { buckets?: number };
    const spec = ctrFeatureSpec(hyper.buckets);
    const set = await asBrand((ctx) => loadCtrTrainingSet(ctx, spec, clickWindowMs));
    if (set.impressions === 0) {
      throw new AlliedError('BAD_USER_INPUT', 'No impressions to learn from yet: record IMPRESSION events with a creativeId first.');
    }
    if (set.matchedClicks === 0) {
      throw new AlliedError(
        'BAD_USER_INPUT',
        `None of the ${set.impressions} impressions was followed by a CLICK of the same learner and creative within ${clickWindowMs / 60_000} minutes: there is nothing to learn a click rate from.`,
      );
    }
    await report({ progress: 0, message: `read ${set.impressions} impressions of ${set.creatives} creatives, ${set.matchedClicks} followed by a click` });
    const { holdoutFraction, lr, fm } = hyper;
    const result = await pool.run(
      { kind: 'ctr', examples: set.examples, options: { holdoutFraction, lr, fm } },
      { onProgress: (p: TrainProgress) => push({ progress: p.fraction, epoch: p.epoch, loss: p.loss, message: p.message }), signal },
    );
    const meta: CtrMeta = { spec };
    return {
      artifact: { bytes: fmGraph(result.model, spec.F), meta: meta as unknown as Record<string, unknown> },
      metrics: { ...result.metrics, clicks: set.clicks, clickWindowMinutes: clickWindowMs / 60_000, hyper: result.hyper },
    };
  };
}
