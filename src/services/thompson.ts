import type { Random } from '../ml/train/random';

/**
 * Thompson sampling for creative exploration: each creative's click rate is
 * Beta(clicks + a, impressions − clicks + b) under a Beta(a, b) prior; one
 * draw per creative, and the highest draw is shown. A creative with few
 * impressions has a wide posterior, so it wins draws often enough to be
 * learned about; one with many impressions wins about as often as it is
 * truly best.
 */
export function thompsonPick(arms: readonly { clicks: number; impressions: number }[], prior: { a: number; b: number }, random: Random): number {
  let best = 0;
  let bestDraw = -1;
  arms.forEach((arm, i) => {
    const draw = random.beta(arm.clicks + prior.a, Math.max(0, arm.impressions - arm.clicks) + prior.b);
    if (draw > bestDraw) {
      bestDraw = draw;
      best = i;
    }
  });
  return best;
}
