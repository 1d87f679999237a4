/** Events as clients send them, and the metrics snapshot computed directly from them. */
const HOUR = 3_600_000;

export interface Ev {
  idempotencyKey: string;
  type: string;
  learnerExternalId: string;
  occurredAt: string;
  courseId?: string;
  campaignId?: string;
  amount?: { amountMinor: number; currency: string };
  rating?: number;
  refundOf?: string;
}

/** The snapshot computed directly from the events, as a client would: the contract's definitions. */
export function expected(events: Ev[], from: number, to: number) {
  const inWindow = events.filter((e) => Date.parse(e.occurredAt) >= from && Date.parse(e.occurredAt) < to);
  const n = (type: string) => inWindow.filter((e) => e.type === type).length;
  const revenue = new Map<string, number>();
  for (const e of inWindow) {
    if (e.type === 'PURCHASE' || e.type === 'REFUND') {
      const sign = e.type === 'PURCHASE' ? 1 : -1;
      revenue.set(e.amount!.currency, (revenue.get(e.amount!.currency) ?? 0) + sign * e.amount!.amountMinor);
    }
  }
  const converted = inWindow.filter((p) => {
    if (p.type !== 'PURCHASE') return false;
    if (p.campaignId) return true;
    const t = Date.parse(p.occurredAt);
    return events.some((c) => c.type === 'CLICK' && c.campaignId && c.learnerExternalId === p.learnerExternalId && Date.parse(c.occurredAt) <= t && Date.parse(c.occurredAt) > t - 7 * 24 * HOUR);
  }).length;
  const ratings = inWindow.filter((e) => e.type === 'RATING');
  const mean = ratings.reduce((s, e) => s + e.rating!, 0) / ratings.length;
  return {
    revenue: [...revenue].sort(([x], [y]) => x.localeCompare(y)).map(([currency, amountMinor]) => ({ amountMinor, currency })),
    purchases: n('PURCHASE'),
    refunds: n('REFUND'),
    impressions: n('IMPRESSION'),
    clicks: n('CLICK'),
    ctr: n('IMPRESSION') ? n('CLICK') / n('IMPRESSION') : 0,
    conversions: converted,
    conversionRate: n('CLICK') ? converted / n('CLICK') : 0,
    satisfaction: ratings.length ? (mean - 1) / 4 : null,
    ratings: ratings.length,
    activeLearners: new Set(inWindow.map((e) => e.learnerExternalId)).size,
  };
}

