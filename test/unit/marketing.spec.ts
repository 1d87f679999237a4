import { inDailyWindow, localClock, utcOffsetMs } from '../../src/ml/ctr/clock';
import { creditClicks } from '../../src/ml/ctr/data';
import { centroidInUnits, nearestSegment, segmentLearners } from '../../src/ml/segments/segment';
import { plantedPopulation } from '../../src/ml/segments/planted';
import { localIso } from '../../src/services/ctr.service';
import { thompsonPick } from '../../src/services/thompson';
import { Random } from '../../src/ml/train/random';

describe('local time of a campaign', () => {
  it('follows the time zone, daylight saving included', () => {
    // 13:30 UTC is 21:30 in Shanghai (UTC+8, no DST) on a Tuesday.
    expect(localClock('Asia/Shanghai', Date.parse('2026-12-01T13:30:00Z'))).toEqual({ hourOfDay: 21, dayOfWeek: 2 });
    // New York: UTC−4 in summer, UTC−5 in winter; 2026-03-08 07:00 UTC is the switch (02:00 EST → 03:00 EDT).
    expect(utcOffsetMs('America/New_York', Date.parse('2026-03-08T06:59:00Z'))).toBe(-5 * 3_600_000);
    expect(utcOffsetMs('America/New_York', Date.parse('2026-03-08T07:00:00Z'))).toBe(-4 * 3_600_000);
    expect(localClock('America/New_York', Date.parse('2026-07-01T01:00:00Z'))).toEqual({ hourOfDay: 21, dayOfWeek: 2 });
    // Kathmandu is UTC+5:45.
    expect(localIso('Asia/Kathmandu', new Date('2026-12-01T00:00:00Z'))).toBe('2026-12-01T05:45:00.000+05:45');
    expect(localIso('America/New_York', new Date('2026-12-01T03:00:00Z'))).toBe('2026-11-30T22:00:00.000-05:00');
  });

  it('daily windows include both end hours and wrap past midnight', () => {
    expect([19, 20, 23, 0].map((h) => inDailyWindow(h, 20, 23))).toEqual([false, true, true, false]);
    expect([21, 23, 0, 1, 2, 12].map((h) => inDailyWindow(h, 22, 1))).toEqual([false, true, true, true, false, false]);
    expect([7, 8, 9].map((h) => inDailyWindow(h, 8, 8))).toEqual([false, true, false]);
  });
});

describe('crediting clicks to impressions', () => {
  it('credits each click to the latest impression of the same learner and creative within the window, once', () => {
    const impressions = [
      { l: 'x', r: 'A' }, // 0: t=0
      { l: 'x', r: 'A' }, // 1: t=100
      { l: 'x', r: 'B' }, // 2: t=100
      { l: 'y', r: 'A' }, // 3: t=0
      { l: 'x', r: 'A' }, // 4: t=10,000
    ];
    const time = Float64Array.of(0, 100, 100, 0, 10_000);
    const clicks = [
      { l: 'x', r: 'A', ms: '150' }, // → 1 (latest before it), not 0
      { l: 'x', r: 'A', ms: '160' }, // 1 already credited: counts nothing
      { l: 'y', r: 'A', ms: '5000' }, // outside the 1,000 ms window
      { l: 'x', r: 'B', ms: '50' }, // before any impression of B
      { l: 'z', r: 'A', ms: '10' }, // never saw it
      { l: 'x', r: 'A', ms: '10000' }, // at the very moment of 4: credited
    ];
    const labels = new Uint8Array(5);
    expect(creditClicks(impressions, time, clicks, 1000, labels)).toBe(2);
    expect(Array.from(labels)).toEqual([0, 1, 0, 0, 1]);
  });
});

describe('Thompson exploration', () => {
  it('draws Beta variates with the right mean and variance', () => {
    const random = new Random(3);
    const draws = Array.from({ length: 20_000 }, () => random.beta(2, 8));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(mean).toBeCloseTo(0.2, 2); // a / (a + b)
    expect(variance).toBeCloseTo((2 * 8) / (10 ** 2 * 11), 3);
    expect(random.beta(0.5, 0.5)).toBeGreaterThan(0);
  });

  it('gives a new creative a fair share of draws, and a proven winner most of them', () => {
    const random = new Random(5);
    const prior = { a: 1, b: 49 };
    const share = (arms: { clicks: number; impressions: number }[], i: number) => {
      let wins = 0;
      for (let t = 0; t < 4000; t++) if (thompsonPick(arms, prior, random) === i) wins++;
      return wins / 4000;
    };
    // A proven 2% creative against a new one: the new one wins often enough to be learned about.
    const fresh = share([{ clicks: 200, impressions: 10_000 }, { clicks: 0, impressions: 0 }], 1);
    expect(fresh).toBeGreaterThan(0.2);
    expect(fresh).toBeLessThan(0.6);
    // Two proven creatives, 4% against 2%: the better wins nearly every draw.
    expect(share([{ clicks: 400, impressions: 10_000 }, { clicks: 200, impressions: 10_000 }], 0)).toBeGreaterThan(0.99);
  });
});

describe('segmentation model', () => {
  it('places every training learner in the segment it was trained into, and reports centroids in feature units', () => {
    const { learners } = plantedPopulation({ learners: 2000, seed: 2 });
    const trained = segmentLearners(learners, { seed: 2 });
    expect(trained.metrics.k).toBe(trained.model.labels.length);
    learners.forEach((l, i) => expect(nearestSegment(trained.model, l)).toBe(trained.assignments[i]));
    const centroid = centroidInUnits(trained.model, 0);
    expect(Object.keys(centroid)).toEqual(trained.model.names);
    // Topic shares are shares: in 0..1 in the features' own units.
    for (const [name, value] of Object.entries(centroid)) if (name.startsWith('topic:')) expect(value).toBeGreaterThanOrEqual(0);
    expect(() => segmentLearners(learners.slice(0, 2))).toThrow(/at least 3 learners/);
  });
});
