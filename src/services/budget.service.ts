import { BudgetObjective } from '../entities/enums';
import { badInput, notFound } from '../errors';
import type { Money } from '../schema/common.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { expectedOutcome, fitResponse, MIN_WEEKS, splitBudget, splitByReturn, type ResponseCurve, type Week } from './budget-model';
import type { CtrService } from './ctr.service';

export const MAX_BUDGET_CAMPAIGNS = 50;

interface HistoryRow {
  bucket_start: Date;
  impressions: string;
  clicks: string;
  conversions: string;
  revenue: Record<string, string>;
  spend: Record<string, string>;
}

/** One campaign's measured figures in the budget's currency. */
interface Measured {
  campaignId: string;
  name: string;
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  revenue: number;
  weeks: Week[];
  /** Spend in other currencies only: not comparable without exchange rates. */
  otherCurrencies: string[];
}

export interface BudgetShareResult {
  campaignId: string;
  amount: Money;
  share: number;
  expected: number;
  expectedLow: number;
  expectedHigh: number;
  costPerClick: Money | null;
  ctr: number | null;
  predictedCtr: number | null;
  conversionRate: number | null;
  responseScale: number | null;
  responseExponent: number | null;
  weeksOfHistory: number;
}

export interface BudgetSuggestionResult {
  objective: BudgetObjective;
  total: Money;
  weeks: number;
  method: 'RESPONSE_CURVES' | 'PROPORTIONAL_TO_RETURN';
  expected: number;
  shares: BudgetShareResult[];
  assumptions: string[];
  warnings: string[];
}

/**
 * Budget suggestions for a brand's own campaigns (src/services/budget-model.ts
 * for the curves and the split): the total is spent over `weeks` weeks,
 * an equal weekly budget each week; outcomes are conversions, or revenue
 * in the total's currency (minor units).
 */
export class BudgetService {
  constructor(private readonly ctr: CtrService) {}

  async suggest(ctx: RequestContext, campaignIds: readonly string[], total: Money, objective: BudgetObjective, weeks: number): Promise<BudgetSuggestionResult> {
    const ids = [...new Set(campaignIds)];
    if (ids.length === 0 || ids.length > MAX_BUDGET_CAMPAIGNS) throw badInput(`Name 1 to ${MAX_BUDGET_CAMPAIGNS} campaigns.`);
    if (!(Number.isInteger(weeks) && weeks >= 1 && weeks <= 52)) throw badInput('weeks must be 1 to 52.');
    if (total.amountMinor <= 0) throw badInput('total must be more than 0.');
    const measured = await this.measure(ctx, ids, total.currency, objective);
    const warnings: string[] = [];
    for (const m of measured.filter((x) => x.otherCurrencies.length)) {
      warnings.push(`${m.name} spent in ${m.otherCurrencies.join(', ')}, not ${total.currency}: without exchange rates its spend is not counted.`);
    }
    const fits = measured.map((m) => fitResponse(m.weeks));
    const curves = fits.every((f): f is ResponseCurve => !('reason' in f)) ? fits : null;
    const predicted = await Promise.all(measured.map((m) => this.ctr.campaignPredictedCtr(ctx, m.campaignId)));
    const weekly = total.amountMinor / weeks;
    let amounts: number[];
    let outcomes: { expected: number; low: number; high: number }[];
    if (curves) {
      curves.forEach((c, i) => c.capped && warnings.push(`${measured[i].name}: ${c.capped}.`));
      amounts = wholeUnits(splitBudget(curves, weekly).map((s) => s * weeks), total.amountMinor);
      outcomes = curves.map((c, i) => scaled(expectedOutcome(c, amounts[i] / weeks), weeks));
    } else {
      fits.forEach((f, i) => 'reason' in f && warnings.push(`${measured[i].name}: ${f.reason}`));
      warnings.push(`History too short for a response curve of every campaign: the total is split in proportion to each one's measured ${objective === BudgetObjective.REVENUE ? 'revenue' : 'conversions'} per unit spent, and its expected outcome is linear in spend (no diminishing returns), so it overstates what larger budgets bring.`);
      const rates = measured.map((m, i) => {
        const outcome = objective === BudgetObjective.REVENUE ? m.revenue : m.conversions;
        const base = m.spend > 0 ? outcome / m.spend : 0;
        const measuredCtr = m.impressions > 0 ? m.clicks / m.impressions : null;
        return predicted[i] !== null && measuredCtr ? (base * predicted[i]!) / measuredCtr : base;
      });
      amounts = wholeUnits(splitByReturn(rates, total.amountMinor), total.amountMinor);
      outcomes = measured.map((m, i) => {
        const expected = rates[i] * amounts[i];
        // The rate rests on the campaign's conversions: a Poisson count's relative error, 1.96/√n.
        const relative = m.conversions > 0 ? 1.96 / Math.sqrt(m.conversions) : 1;
        return { expected, low: Math.max(0, expected * (1 - relative)), high: expected * (1 + relative) };
      });
    }
    const shares = measured.map((m, i) => ({
      campaignId: m.campaignId,
      amount: { amountMinor: amounts[i], currency: total.currency },
      share: amounts[i] / total.amountMinor,
      expected: outcomes[i].expected,
      expectedLow: outcomes[i].low,
      expectedHigh: outcomes[i].high,
      costPerClick: m.clicks > 0 ? { amountMinor: Math.round(m.spend / m.clicks), currency: total.currency } : null,
      ctr: m.impressions > 0 ? m.clicks / m.impressions : null,
      predictedCtr: predicted[i],
      conversionRate: m.clicks > 0 ? m.conversions / m.clicks : null,
      responseScale: curves ? curves[i].a : null,
      responseExponent: curves ? curves[i].k : null,
      weeksOfHistory: m.weeks.filter((w) => w.spend > 0).length,
    }));
    return {
      objective,
      total,
      weeks,
      method: curves ? 'RESPONSE_CURVES' : 'PROPORTIONAL_TO_RETURN',
      expected: outcomes.reduce((s, o) => s + o.expected, 0),
      shares,
      assumptions: assumptions(objective, total.currency, weeks, curves !== null),
      warnings,
    };
  }

  /** Each campaign's weeks and totals from allied_campaign_history; NOT_FOUND for a campaign the brand does not own. */
  private async measure(ctx: RequestContext, ids: string[], currency: string, objective: BudgetObjective): Promise<Measured[]> {
    const manager = await ctx.manager();
    const owned: { id: string; name: string }[] = ids.every(isUuid)
      ? await manager.query(`select id, name from campaigns where tenant_id = $1 and id = any($2::uuid[])`, [ctx.brandId, ids])
      : [];
    const missing = ids.filter((id) => !owned.some((c) => c.id === id.toLowerCase()));
    if (missing.length) throw notFound(`Campaign ${missing[0]} of your brand`);
    return Promise.all(
      ids.map(async (id) => {
        const campaign = owned.find((c) => c.id === id.toLowerCase())!;
        const rows: HistoryRow[] = await manager.query(
          `select bucket_start, impressions, clicks, conversions, revenue, spend from allied_campaign_history($1, 'week')`,
          [campaign.id],
        );
        const others = new Set<string>();
        const weeks = rows.map((r) => {
          for (const c of Object.keys(r.spend)) if (c !== currency) others.add(c);
          const outcome = objective === BudgetObjective.REVENUE ? Number(r.revenue[currency] ?? 0) : Number(r.conversions);
          return { spend: Number(r.spend[currency] ?? 0), outcome: Math.max(0, outcome) };
        });
        const sum = (f: (r: HistoryRow) => number) => rows.reduce((s, r) => s + f(r), 0);
        return {
          campaignId: campaign.id,
          name: campaign.name,
          impressions: sum((r) => Number(r.impressions)),
          clicks: sum((r) => Number(r.clicks)),
          conversions: sum((r) => Number(r.conversions)),
          spend: sum((r) => Number(r.spend[currency] ?? 0)),
          revenue: sum((r) => Number(r.revenue[currency] ?? 0)),
          weeks,
          otherCurrencies: sum((r) => Number(r.spend[currency] ?? 0)) > 0 ? [] : [...others],
        };
      }),
    );
  }
}

function scaled(o: { expected: number; low: number; high: number }, by: number) {
  return { expected: o.expected * by, low: o.low * by, high: o.high * by };
}

/** Whole minor units that sum to `total`: floors, then the remaining units to the largest fractions. */
function wholeUnits(amounts: number[], total: number): number[] {
  const floors = amounts.map(Math.floor);
  let left = total - floors.reduce((s, v) => s + v, 0);
  const order = amounts.map((a, i) => [a - Math.floor(a), i] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i]++;
    left--;
  }
  return floors;
}

function assumptions(objective: BudgetObjective, currency: string, weeks: number, curves: boolean): string[] {
  const unit = objective === BudgetObjective.REVENUE ? `revenue attributed to the campaign, in minor units of ${currency}` : 'purchases attributed to the campaign';
  return [
    `The total is spent over ${weeks} week${weeks === 1 ? '' : 's'}, the same amount each week; the expected outcome is the ${unit} over those weeks.`,
    curves
      ? `Each campaign's week responds to that week's spend s as a·s^k (0 < k < 1: diminishing returns), fitted on its own weeks with spend in ${currency} (at least ${MIN_WEEKS}) by quasi-Poisson regression; intervals are 95% for the expected outcome, not for one week's luck.`
      : `Each campaign's outcome per unit spent stays as measured, whatever it is given.`,
    'The campaigns do not take learners from each other, and the weeks to come respond as the weeks measured did.',
    'Where the CTR model is active, predictedCtr is shown; in the proportional split the measured rate is scaled by predicted ÷ measured click rate (spend buys impressions at the measured cost).',
  ];
}
