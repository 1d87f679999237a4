import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isISO4217CurrencyCode } from 'class-validator';
import { Router, type Request, type Response } from 'express';
import type { App } from '../app';
import { BudgetObjective, MetricsBucket } from '../entities/enums';
import { badInput } from '../errors';
import { DateTimeScalar } from '../schema/scalars';
import type { MetricsPoint } from '../schema/metrics.types';
import { csvLine, moneyField } from '../services/csv';
import type { BudgetSuggestionResult } from '../services/budget.service';
import type { AllianceImpact, Funnel, FunnelPeriod } from '../services/impact.service';
import { seriesRanges } from '../services/metrics.service';
import type { RequestContext } from '../tenancy/context';
import type { Principal } from '../tenancy/principal';
import { Role } from '../tenancy/roles';
import { brandPrincipal, isRefusal, sendError, type LoggedRequest } from './respond';

const ANALYST_ONLY = 'Reading figures needs a brand credential with ANALYST, EDITOR, ADMIN or OWNER.';

const METRICS_HEADER = ['bucket_start', 'impressions', 'clicks', 'conversions', 'purchases', 'ratings', 'satisfaction', 'revenue'];
const FUNNEL_HEADER = [
  'period', 'period_start', 'period_end', 'stage', 'count', 'rate', 'count_delta', 'rate_delta',
  'ratings', 'satisfaction', 'market_size', 'awareness', 'index', 'unknown',
];
const IMPACT_HEADER = ['bucket_start', 'series', 'brand_id', 'satisfaction', 'ratings', 'uplift', 'usable'];
const BUDGET_HEADER = [
  'campaign_id', 'amount_minor', 'currency', 'share', 'expected', 'expected_low', 'expected_high', 'ctr', 'predicted_ctr',
  'cost_per_click_minor', 'conversion_rate', 'response_scale', 'response_exponent', 'weeks_of_history',
  'objective', 'weeks', 'method', 'warnings',
];

/**
 * CSV for BI tools and accounting, readable by whoever may read the same
 * figures through GraphQL, with the same arguments as query parameters:
 *
 * - GET /settlements/<id>.csv: a settlement and its lines;
 * - GET /exports/metrics.csv?from&to[&bucket][&allianceId]: metricsSeries,
 *   one row per bucket, streamed MAX_SERIES_POINTS buckets at a time (each
 *   range its own transaction) for up to MAX_EXPORT_BUCKETS buckets;
 * - GET /exports/funnel.csv?from&to[&allianceId][&campaignId]: funnel, one
 *   row per stage of the period before and of the period itself;
 * - GET /exports/impact.csv?allianceId&from&to[&bucket]: allianceImpact's
 *   points, one row per bucket and series (each MEMBER's own satisfaction,
 *   then the JOINT offer's), the bucket's uplift on each;
 * - GET /exports/budget.csv?campaignIds&total[&objective][&weeks]:
 *   suggestBudget, one row per campaign (campaignIds comma-separated or
 *   repeated, total as `USD:100000`), the method and warnings on each row.
 *
 * Revenue is one field per row, minor units per currency: `USD:12900;CNY:89900`.
 */
export function exportRoutes(app: App): Router {
  const router = Router();
  router.get('/settlements/:file', async (req, res, next) => {
    try {
      const [, id] = /^([0-9a-f-]{36})\.csv$/i.exec(String(req.params.file)) ?? [];
      if (!id) return sendError(res, 404, 'NOT_FOUND', 'Ask for /settlements/<settlement id>.csv.');
      const principal = await brandPrincipal(
        app.authenticator,
        app.guard,
        req,
        res,
        Role.ANALYST,
        'Reading settlements needs a brand credential with ANALYST, EDITOR, ADMIN or OWNER.',
      );
      if (!principal) return;
      const csv = await run(app, req, principal, (ctx) => app.services.settlements.csv(ctx, id.toLowerCase()));
      if (csv === null) return sendError(res, 404, 'NOT_FOUND', 'Settlement not found.');
      sendCsv(res, `settlement-${id.toLowerCase()}.csv`).send(csv);
    } catch (error) {
      next(error);
    }
  });

  /** An export of figures for ANALYST and above: a coded refusal before the answer starts keeps its HTTP status. */
  const figures = (route: string, answer: (principal: Principal, req: Request, res: Response) => Promise<void>) =>
    router.get(route, async (req, res, next) => {
      try {
        const principal = await brandPrincipal(app.authenticator, app.guard, req, res, Role.ANALYST, ANALYST_ONLY);
        if (principal) await answer(principal, req, res);
      } catch (error) {
        if (!res.headersSent && answerRefusal(res, error)) return;
        next(error);
      }
    });

  figures('/exports/metrics.csv', async (principal, req, res) => {
    const { from, to } = period(req);
    const bucket = choice(req, 'bucket', Object.values(MetricsBucket), MetricsBucket.DAY);
    const allianceId = optional(req, 'allianceId');
    const ranges = seriesRanges(from, to, bucket);
    const rows = (range: { from: Date; to: Date }) =>
      run(app, req, principal, (ctx) => app.services.metrics.series(ctx, range.from, range.to, bucket, allianceId)).then((s) =>
        s.points.map(metricsLine).join(''),
      );
    // The first range before the answer starts, so that a refusal (an alliance not found) is an error status.
    const first = await rows(ranges[0]);
    async function* body() {
      yield csvLine(METRICS_HEADER) + first;
      for (const range of ranges.slice(1)) yield await rows(range);
    }
    sendCsv(res, 'metrics.csv');
    await streamOut(req, res, body());
  });

  figures('/exports/funnel.csv', async (principal, req, res) => {
    const { from, to } = period(req);
    const allianceId = optional(req, 'allianceId');
    const campaignId = optional(req, 'campaignId');
    const funnel = await run(app, req, principal, (ctx) => app.services.impact.funnel(ctx, from, to, allianceId, campaignId));
    sendCsv(res, 'funnel.csv').send(funnelCsv(funnel));
  });

  figures('/exports/impact.csv', async (principal, req, res) => {
    const { from, to } = period(req);
    const allianceId = required(req, 'allianceId');
    const bucket = choice(req, 'bucket', Object.values(MetricsBucket), MetricsBucket.WEEK);
    const impact = await run(app, req, principal, (ctx) => app.services.impact.allianceImpact(ctx, allianceId, from, to, bucket));
    sendCsv(res, 'impact.csv').send(impactCsv(impact));
  });

  figures('/exports/budget.csv', async (principal, req, res) => {
    const campaignIds = list(req, 'campaignIds');
    const total = money(req, 'total');
    const objective = choice(req, 'objective', Object.values(BudgetObjective), BudgetObjective.CONVERSIONS);
    const weeks = integer(req, 'weeks', 4);
    const suggestion = await run(app, req, principal, (ctx) => app.services.budget.suggest(ctx, campaignIds, total, objective, weeks));
    sendCsv(res, 'budget.csv').send(budgetCsv(suggestion));
  });
  return router;
}

function run<T>(app: App, req: Request, principal: Principal, work: (ctx: RequestContext) => Promise<T>): Promise<T> {
  const { log, id: requestId } = req as unknown as LoggedRequest;
  return app.runAs(principal, work, { requestId, log });
}

function sendCsv(res: Response, filename: string): Response {
  return res
    .status(200)
    .type('text/csv; charset=utf-8; header=present')
    .set('content-disposition', `attachment; filename="${filename}"`)
    .set('cache-control', 'no-store');
}

/**
 * Writes the chunks as the client reads them: the next range is computed
 * only once the socket has taken the last (backpressure), and a client that
 * goes away stops the export. An error after the answer began aborts the
 * response (a truncated chunked body, which clients report as an error),
 * never a complete-looking CSV with rows missing.
 */
async function streamOut(req: Request, res: Response, chunks: AsyncGenerator<string>): Promise<void> {
  try {
    await pipeline(Readable.from(chunks, { objectMode: false, highWaterMark: 1 }), res);
  } catch (error) {
    if (res.destroyed && !res.writableFinished && (error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    (req as unknown as LoggedRequest).log.error({ err: error }, 'export failed while streaming');
    res.destroy();
  }
}

function metricsLine(p: MetricsPoint): string {
  return csvLine([p.bucketStart.toISOString(), p.impressions, p.clicks, p.conversions, p.purchases, p.ratings, p.satisfaction ?? null, moneyField(p.revenue)]);
}

function funnelCsv(f: Funnel): string {
  const lines = (name: string, p: FunnelPeriod) =>
    p.stages.map((s) =>
      csvLine([
        name, p.from.toISOString(), p.to.toISOString(), s.stage, s.count, s.rate, s.countDelta, s.rateDelta,
        p.ratings, p.satisfaction, f.marketSize, p.awareness, p.index, p.unknown.join(' '),
      ]),
    );
  return [csvLine(FUNNEL_HEADER), ...lines('PREVIOUS', f.previous), ...lines('CURRENT', f.current)].join('');
}

function impactCsv(impact: AllianceImpact): string {
  const lines = impact.points.flatMap((p) => {
    const row = (series: string, brandId: string | null, figure: { satisfaction: number | null; ratings: number }) =>
      csvLine([p.bucketStart.toISOString(), series, brandId, figure.satisfaction, figure.ratings, p.uplift, p.usable ? 'true' : 'false']);
    return [...p.members.map((m) => row('MEMBER', m.brandId, m)), row('JOINT', null, p.joint)];
  });
  return csvLine(IMPACT_HEADER) + lines.join('');
}

function budgetCsv(s: BudgetSuggestionResult): string {
  const lines = s.shares.map((share) =>
    csvLine([
      share.campaignId, share.amount.amountMinor, share.amount.currency, share.share, share.expected, share.expectedLow, share.expectedHigh,
      share.ctr, share.predictedCtr, share.costPerClick?.amountMinor ?? null, share.conversionRate, share.responseScale, share.responseExponent,
      share.weeksOfHistory, s.objective, s.weeks, s.method, s.warnings.join(' | '),
    ]),
  );
  return csvLine(BUDGET_HEADER) + lines.join('');
}

/** from and to (required date-times, as the GraphQL fields take them). */
function period(req: Request): { from: Date; to: Date } {
  const at = (name: string): Date => {
    const value = req.query[name];
    if (typeof value !== 'string') throw badInput(`${name} is required: an RFC 3339 date-time such as 2026-12-01T00:00:00Z.`);
    try {
      return DateTimeScalar.parseValue(value) as Date;
    } catch {
      throw badInput(`${name} must be an RFC 3339 date-time such as 2026-12-01T00:00:00Z; got ${JSON.stringify(value.slice(0, 40))}.`);
    }
  };
  return { from: at('from'), to: at('to') };
}

function optional(req: Request, name: string): string | null {
  const value = req.query[name];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw badInput(`${name} may be given once.`);
  return value;
}

function required(req: Request, name: string): string {
  const value = optional(req, name);
  if (value === null) throw badInput(`${name} is required.`);
  return value;
}

/** A list given comma-separated, repeated, or both: `campaignIds=a,b&campaignIds=c`. */
function list(req: Request, name: string): string[] {
  const value = req.query[name];
  const parts = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  const items = parts.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (!items.length) throw badInput(`${name} is required: one or more ids, comma-separated.`);
  return items;
}

/** An amount as `CUR:minor`, the way the exports write money: `USD:100000` is 1,000.00 USD. */
function money(req: Request, name: string): { amountMinor: number; currency: string } {
  const value = required(req, name);
  const [, currency, minor] = /^([A-Z]{3}):(\d{1,15})$/.exec(value) ?? [];
  if (!currency || !isISO4217CurrencyCode(currency)) {
    throw badInput(`${name} must be an ISO 4217 currency and an amount in minor units, such as USD:100000 for 1,000.00 USD.`);
  }
  return { amountMinor: Number(minor), currency };
}

function integer(req: Request, name: string, fallback: number): number {
  const value = optional(req, name);
  if (value === null) return fallback;
  if (!/^-?\d{1,6}$/.test(value)) throw badInput(`${name} must be a whole number.`);
  return Number(value);
}

function choice<T extends string>(req: Request, name: string, values: readonly T[], fallback: T): T {
  const value = optional(req, name);
  if (value === null) return fallback;
  if (!values.includes(value as T)) throw badInput(`${name} must be one of ${values.join(', ')}.`);
  return value as T;
}

const STATUS: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, RATE_LIMITED: 429 };

/** A coded error as its HTTP status and the GraphQL error shape; false for anything else (a 500 by the error handler). */
function answerRefusal(res: Response, error: unknown): boolean {
  if (!isRefusal(error)) return false;
  const code = error.extensions.code as string;
  sendError(res, STATUS[code] ?? 400, code, error.message);
  return true;
}
