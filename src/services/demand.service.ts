import { EventType, ModelKind } from '../entities/enums';
import { badInput, notFound } from '../errors';
import type { JobHandler, RunningJob } from '../jobs/runner';
import type { JobQueue } from '../jobs/queue';
import type { ModelLayer } from '../ml/layer';
import type { ServedVersion } from '../ml/recommend/serving';
import { extractWithPatterns } from '../ml/ner/baseline';
import { gazetteerFromCatalog, type Gazetteer } from '../ml/ner/corpus';
import { mergeSpans } from '../ml/ner/hybrid';
import { atWordBoundary, foldForMatch, lexiconName, normalise } from '../ml/ner/normalise';
import type { TaggedSpan } from '../ml/ner/tagger';
import { DEMAND_TYPES, type DemandType } from '../ml/ner/types';
import { TtlCache } from '../ml/ttl-cache';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService } from './alliance.service';
import type { AfterStoreHook, StoredEvent } from './event.service';

/** Longest text extractDemands reads, in characters (code points). */
export const MAX_DEMAND_TEXT = 4000;
/** The job that extracts the demands of stored FEEDBACK events. */
export const EXTRACT_JOB = 'demands.extract';
/** Feedback events per extraction job (one model call of at most this many texts). */
export const EXTRACT_BATCH = 200;
/** Attempts for a job of one feedback text before it is recorded as failed (DEAD, with the error). */
export const SINGLE_TEXT_ATTEMPTS = 3;
/** Topics kept in Learner.demands, most recently voiced first. */
export const LEARNER_DEMANDS = 20;
/** Entities one correction may hold. */
export const MAX_CORRECTED_ENTITIES = 100;
/** How long a brand's catalog serves as its gazetteer before it is read again, and how many courses it holds at most. */
export const CATALOG_TTL_MS = 60_000;
export const GAZETTEER_COURSES = 20_000;
/** Uncovered topics partner suggestions weigh, most voiced first. */
export const MAX_UNMET_TOPICS = 200;
/** The `source` of demands an analyst corrected. */
export const CORRECTION_SOURCE = 'correction';

export interface DemandValueView {
  level: string | null;
  format: string | null;
  timeSlot: string | null;
  budget: { currency: string; minMinor: number | null; maxMinor: number | null } | null;
}

export interface DemandEntityView {
  type: DemandType;
  text: string;
  start: number;
  end: number;
  confidence: number;
  value: DemandValueView | null;
}

export interface Extraction {
  entities: DemandEntityView[];
  model: string;
}

export interface DemandTrendView {
  demand: string;
  type: DemandType;
  learners: number;
  previousLearners: number;
  change: number;
  coveredByCatalog: boolean;
}

/** A topic the brand's learners ask for and its catalog lacks, with how many learners asked. */
export interface UnmetDemand {
  demand: string;
  learners: number;
}

/** A correction's entity, as an analyst sends it. */
export interface CorrectedEntity {
  type: DemandType;
  start: number;
  end: number;
}

interface FeedbackRow {
  id: string;
  learner_id: string;
  occurred_at: Date;
  text: string;
}

/**
 * Demands in learners' own words: the brand's active NER model, or the
 * tagger Allied ships, over Chinese, English and mixed text; each entity
 * with its exact offsets, a confidence, and what it means where that can
 * be read (a level, a format, a time slot, a budget).
 *
 * FEEDBACK events flow through it: storing them enqueues a `demands.extract`
 * job in the same transaction (so a crash never loses one), the job writes
 * each entity to `learner_demands` and refreshes `Learner.demands`, and
 * trends count learners per demand over a window.
 */
export class DemandService {
  constructor(
    private readonly models: ModelLayer,
    private readonly jobs: JobQueue,
    private readonly alliances: AllianceService,
  ) {}

  private readonly catalogs = new TtlCache<Gazetteer>(CATALOG_TTL_MS);

  /** Enqueues the extraction of stored FEEDBACK events, in their transaction. */
  readonly afterStore: AfterStoreHook = (ctx, stored) => this.enqueueFeedback(ctx, stored);

  /** The job handlers this service runs, by kind. */
  get handlers(): Record<string, JobHandler> {
    return { [EXTRACT_JOB]: (job, ctx) => this.runExtraction(job, ctx) };
  }

  async extract(ctx: RequestContext, text: string): Promise<Extraction> {
    const characters = [...text].length;
    if (characters > MAX_DEMAND_TEXT) throw badInput(`text has ${characters} characters; extractDemands reads at most ${MAX_DEMAND_TEXT}.`);
    const { model, entities } = await this.extractMany(ctx, [text]);
    return { model, entities: entities[0] };
  }

  /** Entities of each text by one model call: the brand's active NER version, else the shipped tagger. */
  async extractMany(ctx: RequestContext, texts: readonly string[]): Promise<{ model: string; entities: DemandEntityView[][] }> {
    const active = await this.models.activeVersion(ctx, ModelKind.NER);
    if (active) {
      // A damaged artifact is never served: the shipped model answers.
      const entities = await this.models.withServed(ctx, active, (served) => this.tagAll(ctx, served, texts));
      if (entities) return { model: active.id, entities };
    }
    const shipped = this.models.defaultTagger();
    return { model: shipped.name, entities: await this.tagAll(ctx, shipped, texts) };
  }

  /** The model's spans of each text; a tagger's merged with the lexicon's and the brand catalog's matches (src/ml/ner/hybrid.ts). */
  private async tagAll(ctx: RequestContext, version: ServedVersion, texts: readonly string[]): Promise<DemandEntityView[][]> {
    const live = texts.map((t) => (t.trim() ? t : ''));
    const tagged = await this.models.ner.tag(version, live);
    // Allied's taggers are served merged with the lexicon and the catalog; a registered BERT graph as it answers.
    const gazetteer = tagged.tagger ? await this.gazetteer(ctx, version.id) : undefined;
    return tagged.spans.map((spans, i) => {
      const merged = !live[i] ? [] : tagged.tagger ? mergeSpans(extractWithPatterns(live[i], gazetteer), spans) : spans;
      return merged.map((s) => trimmed(texts[i], s)).filter((s): s is TaggedSpan => s !== null).map((s) => entityOf(texts[i], s));
    });
  }

  /** The brand's PUBLISHED catalog as a gazetteer (topics and titles), read at most once a minute and whenever its model changes. */
  private gazetteer(ctx: RequestContext, modelId: string): Promise<Gazetteer> {
    return this.catalogs.get(`${ctx.brandId}:${modelId}`, async () => {
      const manager = await ctx.manager();
      const rows: { title: string; topics: string[] }[] = await manager.query(
        `select title, topics from courses where tenant_id = $1 and status = 'PUBLISHED' order by id limit ${GAZETTEER_COURSES}`,
        [ctx.brandId],
      );
      return gazetteerFromCatalog(rows);
    });
  }

  private async enqueueFeedback(ctx: RequestContext, stored: readonly StoredEvent[]): Promise<void> {
    const ids = stored.filter((e) => e.type === EventType.FEEDBACK).map((e) => e.id);
    for (let i = 0; i < ids.length; i += EXTRACT_BATCH) {
      await this.jobs.enqueue(ctx, { kind: EXTRACT_JOB, payload: { events: ids.slice(i, i + EXTRACT_BATCH) } });
    }
  }

  /**
   * One extraction job: the feedback events it names that have no demands
   * yet (a retried job does each once) and no correction, in one model
   * call. Where a batch fails, each of its texts becomes a job of its own
   * with SINGLE_TEXT_ATTEMPTS attempts, so that one poison text is retried
   * alone and then recorded as failed, and the others go through.
   */
  private async runExtraction(job: RunningJob, ctx: RequestContext): Promise<void> {
    const ids = readEventIds(job.payload);
    const manager = await ctx.manager();
    await lockEvents(ctx, ids);
    const rows: FeedbackRow[] = await manager.query(
      `select e.id, e.learner_id, e.occurred_at, e.text from events e
       where e.tenant_id = $1 and e.id = any($2::uuid[]) and e.type = 'FEEDBACK'
         and not exists (select 1 from learner_demands d where d.tenant_id = e.tenant_id and d.event_id = e.id)
         and not exists (select 1 from demand_corrections c where c.tenant_id = e.tenant_id and c.event_id = e.id)
       order by e.occurred_at, e.id`,
      [ctx.brandId, ids],
    );
    if (rows.length === 0) return;
    let extracted: { model: string; entities: DemandEntityView[][] };
    try {
      extracted = await this.extractMany(ctx, rows.map((r) => r.text));
    } catch (error) {
      if (rows.length === 1) throw error;
      for (const row of rows) {
        await this.jobs.enqueue(ctx, { kind: EXTRACT_JOB, payload: { events: [row.id] }, maxAttempts: SINGLE_TEXT_ATTEMPTS, idempotencyKey: `single:${row.id}` });
      }
      ctx.log.warn({ job: job.id, events: rows.length, err: (error as Error).message }, 'demand extraction batch failed; retrying its texts one by one');
      return;
    }
    await this.store(ctx, rows, extracted.entities, extracted.model);
  }

  /** Writes the entities of feedback events and refreshes their learners' demands. */
  private async store(ctx: RequestContext, rows: readonly FeedbackRow[], entities: readonly DemandEntityView[][], source: string): Promise<void> {
    const cols: { learner: string[]; event: string[]; type: string[]; value: string[]; text: string[]; start: number[]; end: number[]; confidence: number[]; at: Date[] } = {
      learner: [], event: [], type: [], value: [], text: [], start: [], end: [], confidence: [], at: [],
    };
    rows.forEach((row, i) => {
      for (const e of entities[i]) {
        cols.learner.push(row.learner_id);
        cols.event.push(row.id);
        cols.type.push(e.type);
        cols.value.push(demandKey(e));
        cols.text.push(e.text);
        cols.start.push(e.start);
        cols.end.push(e.end);
        cols.confidence.push(Number.isFinite(e.confidence) ? Math.min(1, Math.max(0, e.confidence)) : 0);
        cols.at.push(row.occurred_at);
      }
    });
    const manager = await ctx.manager();
    const learnerIds = [...new Set(rows.map((r) => r.learner_id))].sort();
    // The learners first, in id order, before any demand row holds a key-share on them: forgetLearner takes the
    // same lock first and then rewrites the learner's key, so taking the lock after a key-share would deadlock.
    // Holding it, the statements below see a forget committed before it and store nothing read from erased words.
    await manager.query(`select id from learners where tenant_id = $1 and id = any($2::uuid[]) order by id for no key update`, [ctx.brandId, learnerIds]);
    if (cols.event.length > 0) {
      await manager.query(
        `insert into learner_demands (tenant_id, learner_id, event_id, type, value, text, start_offset, end_offset, confidence, source, voiced_at)
         select $1, u.learner, u.event, u.type, u.value, u.text, u.s, u.e, u.confidence, $11, u.at
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::float8[], $10::timestamptz[])
           as u(learner, event, type, value, text, s, e, confidence, at)
         join events e on e.tenant_id = $1 and e.id = u.event and e.text <> ''`,
        [ctx.brandId, cols.learner, cols.event, cols.type, cols.value, cols.text, cols.start, cols.end, cols.confidence, cols.at, source],
      );
    }
    await this.refreshLearners(ctx, learnerIds);
  }

  /**
   * Learner.demands: each learner's distinct topics, most recently voiced first, at most LEARNER_DEMANDS. The caller
   * holds the learners' locks, so this statement sees every demand committed by a job that held them before.
   */
  private async refreshLearners(ctx: RequestContext, learnerIds: readonly string[]): Promise<void> {
    if (learnerIds.length === 0) return;
    const manager = await ctx.manager();
    await manager.query(
      `update learners l set demands = coalesce((
         select array_agg(t.value order by t.last desc, t.value) from (
           select d.value, max(d.voiced_at) as last from learner_demands d
           where d.tenant_id = l.tenant_id and d.learner_id = l.id and d.type = 'TOPIC'
           group by d.value order by last desc, d.value limit ${LEARNER_DEMANDS}) t), '{}')
       where l.tenant_id = $1 and l.id = any($2::uuid[])`,
      [ctx.brandId, learnerIds],
    );
  }

  /**
   * An analyst's correction of one feedback event: the whole set of its
   * entities (types and UTF-16 offsets into its text), stored as the gold
   * label a brand's NER model learns from, and replacing what extraction
   * found for that event. A correction after another replaces it.
   */
  async correct(ctx: RequestContext, feedbackId: string, input: readonly CorrectedEntity[]): Promise<Extraction> {
    if (!isUuid(feedbackId)) throw notFound(`FEEDBACK event ${feedbackId}`);
    const manager = await ctx.manager();
    await lockEvents(ctx, [feedbackId]);
    const [row]: FeedbackRow[] = await manager.query(
      `select id, learner_id, occurred_at, text from events where tenant_id = $1 and id = $2 and type = 'FEEDBACK'`,
      [ctx.brandId, feedbackId],
    );
    if (!row) throw notFound(`FEEDBACK event ${feedbackId}`);
    const spans = checkCorrection(row.text, input);
    await manager.query(
      `insert into demand_corrections (tenant_id, event_id, entities, corrected_by) values ($1, $2, $3, $4)
       on conflict (tenant_id, event_id) do update set entities = excluded.entities, corrected_by = excluded.corrected_by, corrected_at = now()`,
      [ctx.brandId, feedbackId, JSON.stringify(spans), ctx.caller.subject.slice(0, 200)],
    );
    await manager.query(`delete from learner_demands where tenant_id = $1 and event_id = $2`, [ctx.brandId, feedbackId]);
    const entities = spans.map((s) => entityOf(row.text, { ...s, confidence: 1 }));
    await this.store(ctx, [row], [entities], CORRECTION_SOURCE);
    return { entities, model: CORRECTION_SOURCE };
  }

  /**
   * Demands ranked by the learners voicing them in the last `days` days,
   * with the count in the `days` before that; for a brand its own learners,
   * for an alliance (the caller an ACTIVE member) every member's, as counts
   * only. Each says whether the caller's own PUBLISHED catalog covers it.
   */
  async trends(ctx: RequestContext, first: number, days: number, allianceId: string | null): Promise<DemandTrendView[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first must be 1..100.');
    if (!Number.isInteger(days) || days < 1 || days > 365) throw badInput('days must be 1..365.');
    const manager = await ctx.manager();
    const now = Date.now();
    const day = 86_400_000;
    const windows = [new Date(now - 2 * days * day), new Date(now - days * day), new Date(now + 1)];
    const counts = async (from: Date, to: Date): Promise<Map<string, { type: DemandType; value: string; learners: number }>> => {
      const rows: { type: DemandType; value: string; learners: string }[] = allianceId
        ? await manager.query(`select type, value, learners::text from allied_alliance_demand_trends($1, $2, $3)`, [allianceId, from, to])
        : await manager.query(
            `select type, value, count(distinct learner_id)::text as learners from learner_demands
             where tenant_id = $1 and voiced_at >= $2 and voiced_at < $3 and type in ('TOPIC','LEVEL','FORMAT','TIME','BUDGET')
             group by type, value`,
            [ctx.brandId, from, to],
          );
      return new Map(rows.map((r) => [`${r.type}\u0000${r.value}`, { type: r.type, value: r.value, learners: Number(r.learners) }]));
    };
    if (allianceId) await this.checkMember(ctx, allianceId);
    const current = await counts(windows[1], windows[2]);
    const previous = await counts(windows[0], windows[1]);
    const ranked = [...current.entries()]
      .sort(([ka, a], [kb, b]) => b.learners - a.learners || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .slice(0, first);
    const coverage = await this.catalogCoverage(ctx);
    return ranked.map(([key, c]) => {
      const before = previous.get(key)?.learners ?? 0;
      return { demand: c.value, type: c.type, learners: c.learners, previousLearners: before, change: c.learners - before, coveredByCatalog: coverage(c.type, c.value) };
    });
  }

  /** TOPIC demands of the brand's learners in the last `days` days that its PUBLISHED catalog does not cover, most voiced first. */
  async unmetTopics(ctx: RequestContext, days: number): Promise<UnmetDemand[]> {
    const manager = await ctx.manager();
    const rows: { value: string; learners: string }[] = await manager.query(
      `select value, count(distinct learner_id)::text as learners from learner_demands
       where tenant_id = $1 and type = 'TOPIC' and voiced_at >= now() - make_interval(days => $2)
       group by value order by count(distinct learner_id) desc, value`,
      [ctx.brandId, days],
    );
    const coverage = await this.catalogCoverage(ctx);
    return rows
      .filter((r) => !coverage('TOPIC', r.value))
      .slice(0, MAX_UNMET_TOPICS)
      .map((r) => ({ demand: r.value, learners: Number(r.learners) }));
  }

  private async checkMember(ctx: RequestContext, allianceId: string): Promise<void> {
    if (!isUuid(allianceId) || !(await this.alliances.isActiveMember(ctx, allianceId))) throw notFound('Alliance');
  }

  /**
   * Whether the caller's PUBLISHED catalog covers a demand: a topic when a
   * course has it as a topic or in its title (case-insensitive), a level or
   * a format when a course has it, a budget when a course costs no more
   * than its ceiling in its currency, a time when some course is not LIVE
   * (a recorded course fits any time); people, organisations and places
   * never (they are not demands a catalog meets).
   */
  private async catalogCoverage(ctx: RequestContext): Promise<(type: DemandType, value: string) => boolean> {
    const manager = await ctx.manager();
    const courses: { title: string; topics: string[]; level: string; format: string; price_minor: string; currency: string }[] = await manager.query(
      `select title, topics, level, format, price_minor::text, currency from courses where tenant_id = $1 and status = 'PUBLISHED'`,
      [ctx.brandId],
    );
    const topics = new Set(courses.flatMap((c) => c.topics.map(topicKey)));
    const titles = courses.map((c) => foldForMatch(c.title));
    return (type, value) => {
      switch (type) {
        case 'TOPIC': {
          const key = topicKey(value);
          const surface = foldForMatch(value);
          return topics.has(key) || titles.some((t) => inTitle(t, key) || inTitle(t, surface));
        }
        case 'LEVEL':
          return courses.some((c) => c.level === value);
        case 'FORMAT':
          return courses.some((c) => c.format === value);
        case 'TIME':
          return courses.some((c) => c.format !== 'LIVE');
        case 'BUDGET': {
          const budget = parseBudgetKey(value);
          return budget !== null && courses.some((c) => c.currency === budget.currency && (budget.max === null || Number(c.price_minor) <= budget.max));
        }
        default:
          return false;
      }
    };
  }
}

/**
 * Serialises the writers of one feedback event's demands (an extraction job
 * and an analyst's correction) until the transaction ends: each then sees
 * what the other committed. In id order, so two batches never deadlock.
 */
async function lockEvents(ctx: RequestContext, eventIds: readonly string[]): Promise<void> {
  const manager = await ctx.manager();
  await manager.query(`select pg_advisory_xact_lock(hashtextextended('demands:' || x, 0)) from unnest($1::text[]) as x order by x`, [[...new Set(eventIds)]]);
}

function readEventIds(payload: unknown): string[] {
  const events = (payload as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || !events.every((e) => typeof e === 'string')) throw new Error('demands.extract needs { events: string[] }');
  return events as string[];
}

/** A topic as demands and catalogs are matched: its canonical name (the lexicon's, so "茶艺" and "tea ceremony" meet), folded. */
export function topicKey(topic: string): string {
  return foldForMatch(lexiconName('TOPIC', topic) ?? topic.trim());
}

/** Whether `key` stands in `title` as a whole word (anywhere, for Chinese). Both folded. */
export function inTitle(title: string, key: string): boolean {
  if (!key) return false;
  for (let at = title.indexOf(key); at >= 0; at = title.indexOf(key, at + 1)) if (atWordBoundary(title, at, key.length)) return true;
  return false;
}

/**
 * What a demand counts as in trends and Learner.demands: a topic, person,
 * organisation or place by its canonical name (lexicon), else its folded
 * text (lower case, full-width folded: "Docker" and "docker" are one); a
 * level, format or time slot by its value; a budget as "CNY ≤20000"
 * (minor units); text whose meaning could not be read by its folded text.
 */
export function demandKey(entity: DemandEntityView): string {
  const v = entity.value;
  let key: string | null = null;
  if (entity.type === 'LEVEL') key = v?.level ?? null;
  else if (entity.type === 'FORMAT') key = v?.format ?? null;
  else if (entity.type === 'TIME') key = v?.timeSlot ?? null;
  else if (entity.type === 'BUDGET' && v?.budget) key = budgetKey(v.budget);
  else if (entity.type !== 'BUDGET') key = lexiconName(entity.type, entity.text);
  return (key ?? foldForMatch(entity.text.trim())).slice(0, 200);
}

function budgetKey(b: { currency: string; minMinor: number | null; maxMinor: number | null }): string {
  if (b.minMinor !== null && b.maxMinor !== null) return `${b.currency} ${b.minMinor}-${b.maxMinor}`;
  if (b.maxMinor !== null) return `${b.currency} ≤${b.maxMinor}`;
  return `${b.currency} ≥${b.minMinor ?? 0}`;
}

function parseBudgetKey(key: string): { currency: string; max: number | null } | null {
  const m = /^([A-Z]{3}) (?:≤(\d+)|≥\d+|\d+-(\d+))$/.exec(key);
  if (!m) return null;
  const max = m[2] ?? m[3];
  return { currency: m[1], max: max === undefined ? null : Number(max) };
}

/** A correction's entities, checked: known types, offsets inside the text, in order and not overlapping. */
function checkCorrection(text: string, input: readonly CorrectedEntity[]): CorrectedEntity[] {
  if (input.length > MAX_CORRECTED_ENTITIES) throw badInput(`A correction holds at most ${MAX_CORRECTED_ENTITIES} entities.`);
  const spans = [...input].sort((a, b) => a.start - b.start || a.end - b.end);
  spans.forEach((s, i) => {
    const where = `entity ${i + 1} (${s.type} ${s.start}..${s.end})`;
    if (!DEMAND_TYPES.includes(s.type)) throw badInput(`${where}: unknown type.`);
    if (!Number.isInteger(s.start) || !Number.isInteger(s.end) || s.start < 0 || s.end > text.length || s.start >= s.end) {
      throw badInput(`${where}: offsets must satisfy 0 ≤ start < end ≤ ${text.length} (UTF-16 code units of the feedback text).`);
    }
    if (!text.slice(s.start, s.end).trim()) throw badInput(`${where}: covers only whitespace.`);
    if (i > 0 && s.start < spans[i - 1].end) throw badInput(`${where}: overlaps the entity before it.`);
  });
  return spans.map((s) => ({ type: s.type, start: s.start, end: s.end }));
}

/** The span without whitespace at its edges, or null when nothing else is left. */
function trimmed(text: string, span: TaggedSpan): TaggedSpan | null {
  let { start, end } = span;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return start < end ? { ...span, start, end } : null;
}

function entityOf(text: string, span: TaggedSpan): DemandEntityView {
  const surface = text.slice(span.start, span.end);
  const confidence = Math.round(span.confidence * 10_000) / 10_000;
  return { type: span.type, text: surface, start: span.start, end: span.end, confidence, value: valueOf(span.type, surface) };
}

/** The normalised meaning of LEVEL, FORMAT, TIME and BUDGET entities (src/ml/ner/normalise.ts). */
export function valueOf(type: DemandType, surface: string): DemandValueView | null {
  const value = normalise(type, surface) as unknown;
  if (value === null || value === undefined) return null;
  const view: DemandValueView = { level: null, format: null, timeSlot: null, budget: null };
  if (type === 'LEVEL') view.level = String(value);
  else if (type === 'FORMAT') view.format = String(value);
  else if (type === 'TIME') view.timeSlot = String(value);
  else if (type === 'BUDGET') {
    const b = value as { currency: string; minMinor?: number; maxMinor?: number };
    view.budget = { currency: b.currency, minMinor: b.minMinor ?? null, maxMinor: b.maxMinor ?? null };
  } else return null;
  return view;
}
