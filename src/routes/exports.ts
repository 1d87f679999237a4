import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { App } from '../app';
import { MetricsBucket } from '../entities/enums';
import { badInput } from '../errors';
import { DateTimeScalar } from '../schema/scalars';
import type { MetricsPoint } from '../schema/metrics.types';
import { csvLine, moneyField } from '../services/csv';
import type { Funnel, FunnelPeriod } from '../services/impact.service';
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

/**
 * CSV for BI tools and accounting, readable by whoever may read the same
 * figures through GraphQL, with the same arguments as query parameters:
 *
 * - GET /settlements/<id>.csv: a settlement and its lines;
 * - GET /exports/metrics.csv?from&to[&bucket][&allianceId]: metricsSeries,
 *   one row per bucket, streamed MAX_SERIES_POINTS buckets at a time (each
 *   range its own transaction) for up to MAX_EXPORT_BUCKETS buckets;
 * - GET /exports/funnel.csv?from&to[&allianceId][&campaignId]: funnel, one
 *   row per stage of the period before and of the period itself.
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
