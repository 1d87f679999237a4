/**
 * The attribution rule of the README computed directly over events as
 * clients sent them, to check the server's figures against.
 */
import type { Ev } from './metrics';

const DAY = 86_400_000;

/** An event as sent, with the brand that sent it (learner ids are per brand). */
export interface SentEvent extends Ev {
  brand: string;
}

export interface World {
  /** Campaign id → its window in days and its alliance (null for a brand's own). */
  campaigns: Map<string, { windowDays: number; alliance: string | null }>;
  /** Course id → its alliance (null for a brand's own course). */
  courseAlliance: Map<string, string | null>;
}

const at = (e: Ev) => Date.parse(e.occurredAt);

/** Rules 1 and 2: the campaign a purchase belongs to, or null. */
export function purchaseCampaign(p: SentEvent, events: SentEvent[], world: World): string | null {
  if (p.campaignId) return p.campaignId;
  let best: SentEvent | null = null;
  for (const c of events) {
    if (c.type !== 'CLICK' || !c.campaignId || c.brand !== p.brand || c.learnerExternalId !== p.learnerExternalId) continue;
    const window = world.campaigns.get(c.campaignId)!.windowDays * DAY;
    if (at(c) <= at(p) && at(p) < at(c) + Math.min(window, 90 * DAY) && (!best || at(c) > at(best) || (at(c) === at(best) && c.idempotencyKey > best.idempotencyKey))) best = c;
  }
  return best?.campaignId ?? null;
}

/** Rule 3: the alliance a purchase belongs to, or null. */
export function purchaseAlliance(p: SentEvent, events: SentEvent[], world: World): string | null {
  const stored = world.courseAlliance.get(p.courseId!) ?? (p.campaignId ? world.campaigns.get(p.campaignId)!.alliance : null);
  if (stored) return stored;
  const campaign = purchaseCampaign(p, events, world);
  return campaign ? world.campaigns.get(campaign)!.alliance : null;
}

/** The purchase a refund refunds (rule 4: it belongs where that purchase does). */
export function purchaseOf(r: SentEvent, events: SentEvent[]): SentEvent {
  return events.find((p) => p.type === 'PURCHASE' && p.brand === r.brand && p.idempotencyKey === r.refundOf)!;
}

function addTo(sums: Map<string, number>, currency: string, amount: number) {
  sums.set(currency, (sums.get(currency) ?? 0) + amount);
}

const moneyList = (sums: Map<string, number>) =>
  [...sums].sort(([x], [y]) => x.localeCompare(y)).map(([currency, amountMinor]) => ({ amountMinor, currency }));

/** Campaign.metrics (spend aside), directly. */
export function campaignFigures(campaign: string, events: SentEvent[], world: World) {
  const attributed = events.filter((p) => p.type === 'PURCHASE' && purchaseCampaign(p, events, world) === campaign);
  const revenue = new Map<string, number>();
  for (const p of attributed) addTo(revenue, p.amount!.currency, p.amount!.amountMinor);
  for (const r of events) {
    if (r.type === 'REFUND' && attributed.includes(purchaseOf(r, events))) addTo(revenue, r.amount!.currency, -r.amount!.amountMinor);
  }
  const count = (type: string) => events.filter((e) => e.type === type && e.campaignId === campaign).length;
  return { impressions: count('IMPRESSION'), clicks: count('CLICK'), conversions: attributed.length, revenue: moneyList(revenue) };
}

/** An alliance's revenue events in [from, to): purchases that belong to it and refunds of them. */
export function allianceRevenueEvents(alliance: string, events: SentEvent[], world: World, from: number, to: number) {
  return events.filter((e) => {
    if (at(e) < from || at(e) >= to) return false;
    if (e.type === 'PURCHASE') return purchaseAlliance(e, events, world) === alliance;
    if (e.type === 'REFUND') return purchaseAlliance(purchaseOf(e, events), events, world) === alliance;
    return false;
  });
}

/** Net revenue per currency of some purchase and refund events. */
export function netRevenue(events: SentEvent[]) {
  const sums = new Map<string, number>();
  for (const e of events) addTo(sums, e.amount!.currency, e.type === 'PURCHASE' ? e.amount!.amountMinor : -e.amount!.amountMinor);
  return moneyList(sums);
}
