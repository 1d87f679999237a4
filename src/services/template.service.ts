import crypto from 'node:crypto';
import type { CourseEntity } from '../entities';
import { RecommendationScope } from '../entities/enums';
import { COURSE_COLUMNS, courseFromRow, LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL } from '../entities/rows';
import { badInput, notFound, pgCode, PG } from '../errors';
import { TtlCache } from '../ml/ttl-cache';
import { TemplateEngine, TemplateError, type CourseVariable, type RenderedMessage, type TemplateVariables } from '../mail/render';
import type { EmailTemplate, SaveEmailTemplateInput } from '../schema/email.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { BrandService } from './brand.service';
import type { ContactService } from './contact.service';
import { formatPrice } from './currency';
import type { RecommendationService } from './recommendation.service';

/** What templates show of the learner itself. */
export interface LearnerFacts {
  segment: string | null;
  demands: string[] | null;
  stage: string | null;
}

export const TEMPLATE_COLUMNS = 'id, name, subject, mjml, text_body, recommend_scope, recommend_count, offer, created_at, updated_at';
const PARTNER_COURSES = 3;

export function templateFromRow(row: Record<string, unknown>): EmailTemplate {
  const offer = row.offer as { code: string | null; text: string } | null;
  return {
    id: row.id as string,
    name: row.name as string,
    subject: row.subject as string,
    mjml: row.mjml as string,
    text: row.text_body as string,
    recommendScope: row.recommend_scope as RecommendationScope,
    recommendCount: Number(row.recommend_count),
    offer: offer ? { code: offer.code ?? null, text: offer.text } : null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/**
 * Email templates of a brand, and the variables a message is rendered with.
 * A template is checked when saved (each part parses; the MJML of a sample
 * render validates strictly); a broken one is BAD_USER_INPUT naming the
 * part and line, and nothing is stored.
 */
export class TemplateService {
  readonly engine = new TemplateEngine();
  private readonly joint = new TtlCache<CourseEntity[]>(60_000, 1000);

  constructor(
    private readonly brands: BrandService,
    private readonly contacts: ContactService,
    private readonly recommendations: RecommendationService,
  ) {}

  async save(ctx: RequestContext, input: SaveEmailTemplateInput): Promise<EmailTemplate> {
    const source = { subject: input.subject, mjml: input.mjml, text: input.text };
    try {
      await this.engine.check(source);
    } catch (error) {
      if (error instanceof TemplateError) {
        throw badInput(`The template's ${error.part} is broken${error.line ? ` at line ${error.line}` : ''}: ${error.detail}`, { part: error.part, line: error.line });
      }
      throw error;
    }
    if ((input.offerCode != null) && input.offerText == null) throw badInput('An offerCode needs the offerText that shows it.');
    const offer = input.offerText != null ? JSON.stringify({ code: input.offerCode ?? null, text: input.offerText }) : null;
    const values = [
      ctx.brandId, input.name.trim(), input.subject, input.mjml, input.text,
      input.recommendScope ?? RecommendationScope.OWN, input.recommendCount ?? 3, offer,
    ];
    const manager = await ctx.manager();
    try {
      if (input.id != null) {
        if (!isUuid(input.id)) throw notFound('Email template');
        const [rows] = await manager.query(
          `update email_templates set name = $2, subject = $3, mjml = $4, text_body = $5, recommend_scope = $6, recommend_count = $7,
             offer = $8, updated_at = now()
           where tenant_id = $1 and id = $9 returning ${TEMPLATE_COLUMNS}`,
          [...values, input.id],
        );
        if (!rows.length) throw notFound('Email template');
        return templateFromRow(rows[0]);
      }
      const [row] = await manager.query(
        `insert into email_templates (tenant_id, name, subject, mjml, text_body, recommend_scope, recommend_count, offer, id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning ${TEMPLATE_COLUMNS}`,
        [...values, crypto.randomUUID(), ctx.caller.subject.slice(0, 200)],
      );
      return templateFromRow(row);
    } catch (error) {
      if (pgCode(error) === PG.uniqueViolation) throw badInput(`The brand already has a template named "${input.name.trim()}".`);
      throw error;
    }
  }

  async get(ctx: RequestContext, id: string): Promise<EmailTemplate | null> {
    if (!isUuid(id)) return null;
    const [row] = await (await ctx.manager()).query(`select ${TEMPLATE_COLUMNS} from email_templates where tenant_id = $1 and id = $2`, [ctx.brandId, id]);
    return row ? templateFromRow(row) : null;
  }

  async list(ctx: RequestContext): Promise<EmailTemplate[]> {
    const rows = await (await ctx.manager()).query(`select ${TEMPLATE_COLUMNS} from email_templates where tenant_id = $1 order by name limit 500`, [ctx.brandId]);
    return rows.map(templateFromRow);
  }

  /** The template rendered for one learner, as it would be sent, without sending. */
  async preview(ctx: RequestContext, id: string, learnerId: string): Promise<RenderedMessage> {
    const template = await this.get(ctx, id);
    if (!template) throw notFound('Email template');
    if (!isUuid(learnerId)) throw notFound('Learner');
    const variables = await this.variables(ctx, template, learnerId, null, '#unsubscribe');
    if (!variables) throw notFound('Learner');
    return this.render(template, variables);
  }

  render(template: EmailTemplate, variables: TemplateVariables): Promise<RenderedMessage> {
    return this.engine.render(`${template.id}@${template.updatedAt.toISOString()}`, template, variables);
  }

  /**
   * What a message to `learnerId` is rendered with; null for a learner the
   * brand does not have. Partner courses are the published joint courses
   * of the campaign's alliance, or of the brand's ACTIVE alliances.
   */
  async variables(
    ctx: RequestContext,
    template: EmailTemplate,
    learnerId: string,
    allianceId: string | null,
    unsubscribeUrl: string,
    known?: { learner: LearnerFacts; contactName: string | null },
  ): Promise<TemplateVariables | null> {
    const manager = await ctx.manager();
    const [learner]: LearnerFacts[] = known
      ? [known.learner]
      : await manager.query(
          `select l.segment, l.demands, ${LIFECYCLE_STAGE_SQL} as stage
           from learners l ${LIFECYCLE_JOIN} where l.tenant_id = $1 and l.id = $2`,
          [ctx.brandId, learnerId],
        );
    if (!learner) return null;
    const [contact, brand, recommended, joint] = await Promise.all([
      known ? { name: known.contactName } : this.contacts.get(ctx, learnerId),
      this.brands.own(ctx),
      template.recommendCount > 0 ? this.recommendations.forKnownLearner(ctx, learnerId, template.recommendCount, template.recommendScope) : Promise.resolve([]),
      this.jointCourses(ctx, allianceId),
    ]);
    const courseVariable = async (c: CourseEntity): Promise<CourseVariable> => ({
      id: c.id,
      title: c.title,
      topics: c.topics,
      level: c.level,
      format: c.format,
      price: formatPrice(c.priceMinor, c.currency),
      owner: c.tenantId === ctx.brandId ? brand.name : ((await this.brands.profiles(ctx).load(c.tenantId))?.name ?? ''),
    });
    return {
      brand: { name: brand.name },
      learner: { name: contact?.name ?? null, stage: learner.stage ?? null, segment: learner.segment ?? null, demands: learner.demands ?? [] },
      courses: await Promise.all(recommended.map((r) => courseVariable(r.course))),
      offer: template.offer,
      partner_courses: await Promise.all(joint.map(courseVariable)),
      unsubscribe_url: unsubscribeUrl,
    };
  }

  /** The newest published joint courses; kept a minute per brand and alliances (a catalog, not a learner's data). */
  private async jointCourses(ctx: RequestContext, allianceId: string | null): Promise<CourseEntity[]> {
    const alliances = allianceId ? [allianceId] : await ctx.activeAlliances();
    if (alliances.length === 0) return [];
    return this.joint.get(`${ctx.brandId}:${alliances.join(',')}`, () => this.readJointCourses(ctx, alliances));
  }

  private async readJointCourses(ctx: RequestContext, alliances: string[]): Promise<CourseEntity[]> {
    const rows = await (await ctx.manager()).query(
      `select ${COURSE_COLUMNS} from courses c where c.alliance_id = any($1::uuid[]) and c.status = 'PUBLISHED'
       order by c.created_at desc, c.id limit ${PARTNER_COURSES}`,
      [alliances],
    );
    return rows.map(courseFromRow);
  }
}
