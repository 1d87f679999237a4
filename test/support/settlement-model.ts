/**
 * Settlements computed directly from events and agreement versions, as the
 * issue states the rules: each purchase and refund that occurred in the
 * period goes to the version in force when its purchase occurred; each
 * version's net is split by `splitVersions`.
 */
import { splitVersions, type Line } from '../../src/services/settlement.service';
import type { Share } from '../../src/services/shares';

export interface ModelEvent {
  type: 'PURCHASE' | 'REFUND';
  amount: number;
  /** When this event occurred. */
  at: number;
  /** When its purchase occurred (the event's own time for a purchase). */
  purchaseAt: number;
}

export interface ModelVersion {
  id: string;
  version: number;
  from: number;
  to: number | null;
  shares: Share[];
}

export interface ModelSettlement {
  gross: bigint;
  refunds: bigint;
  net: bigint;
  events: number;
  unsettled: number;
  lines: Line[];
}

export function settle(events: readonly ModelEvent[], versions: readonly ModelVersion[], start: number, end: number): ModelSettlement {
  const figures = new Map<string, { agreementId: string; gross: bigint; refunds: bigint }>();
  let events_ = 0;
  let unsettled = 0;
  for (const e of events) {
    if (e.at < start || e.at >= end) continue;
    const v = versions.find((x) => x.from <= e.purchaseAt && (x.to === null || e.purchaseAt < x.to));
    if (!v) {
      unsettled++;
      continue;
    }
    events_++;
    const f = figures.get(v.id) ?? { agreementId: v.id, gross: 0n, refunds: 0n };
    if (e.type === 'PURCHASE') f.gross += BigInt(e.amount);
    else f.refunds += BigInt(e.amount);
    figures.set(v.id, f);
  }
  const terms = new Map(versions.map((v) => [v.id, { version: v.version, shares: v.shares }]));
  const list = [...figures.values()];
  const gross = list.reduce((s, f) => s + f.gross, 0n);
  const refunds = list.reduce((s, f) => s + f.refunds, 0n);
  return { gross, refunds, net: gross - refunds, events: events_, unsettled, lines: splitVersions(list, terms) };
}

/** Amount per brand, summed over a settlement's lines. */
export function perBrand(lines: readonly { brandId: string; amount: bigint }[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const l of lines) totals.set(l.brandId, (totals.get(l.brandId) ?? 0n) + l.amount);
  return totals;
}
