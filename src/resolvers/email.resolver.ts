import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { LearnerEntity } from '../entities';
import { notFound } from '../errors';
import {
  EmailSettings,
  EmailSettingsInput,
  EmailTemplate,
  ForgetLearnerResult,
  LearnerContact,
  RenderedEmail,
  SaveEmailTemplateInput,
  UpsertLearnerContactInput,
} from '../schema/email.types';
import { Campaign } from '../schema/campaign.types';
import { CampaignJourney, CreateJourneyInput, Journey, JourneyReport, JourneyStatus } from '../schema/journey.types';
import { Learner } from '../schema/learner.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver(() => Learner)
export class LearnerContactResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => LearnerContact, { nullable: true, description: "The learner's email contact and consent (EDITOR and above: personal data)." })
  contact(@Ctx() ctx: RequestContext, @Root() learner: LearnerEntity) {
    return this.services.contacts.get(ctx, learner.id);
  }
}

@Resolver(() => Journey)
export class EmailResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.EDITOR)
  @Mutation(() => LearnerContact, { description: "Sets a learner's email address and consent (the learner is created when given by a new external id)." })
  upsertLearnerContact(@Ctx() ctx: RequestContext, @Arg('input', () => UpsertLearnerContactInput) input: UpsertLearnerContactInput) {
    return this.services.contacts.upsert(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ForgetLearnerResult, {
    description:
      "Erases a learner's personal data: contact, messages kept in the outbox, feedback text and what was extracted from it, and its external id (replaced by an opaque one). Anonymous figures (events, revenue, reports) stay.",
  })
  forgetLearner(@Ctx() ctx: RequestContext, @Arg('learnerId', () => ID) learnerId: string) {
    return this.services.contacts.forget(ctx, learnerId);
  }

  @Authorized(Role.ANALYST)
  @Query(() => EmailSettings, { description: "The brand's sending rules." })
  emailSettings(@Ctx() ctx: RequestContext) {
    return this.services.emailSettings.get(ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => EmailSettings, { description: 'Changes the sending rules given; the rest stay.' })
  setEmailSettings(@Ctx() ctx: RequestContext, @Arg('input', () => EmailSettingsInput) input: EmailSettingsInput) {
    return this.services.emailSettings.set(ctx, input);
  }

  @Authorized(Role.ANALYST)
  @Query(() => [EmailTemplate], { description: "The brand's email templates, by name." })
  emailTemplates(@Ctx() ctx: RequestContext) {
    return this.services.templates.list(ctx);
  }

  @Authorized(Role.ANALYST)
  @Query(() => EmailTemplate, { nullable: true })
  emailTemplate(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.templates.get(ctx, id);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => EmailTemplate, { description: 'Creates a template, or replaces one given its id. A broken template is BAD_USER_INPUT naming the part and line.' })
  saveEmailTemplate(@Ctx() ctx: RequestContext, @Arg('input', () => SaveEmailTemplateInput) input: SaveEmailTemplateInput) {
    return this.services.templates.save(ctx, input);
  }

  @Authorized(Role.EDITOR)
  @Query(() => RenderedEmail, { description: 'The template rendered for one learner, without sending anything.' })
  previewTemplate(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('learnerId', () => ID) learnerId: string) {
    return this.services.templates.preview(ctx, id, learnerId);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Journey, { description: 'Starts an email journey on one of the brand’s EMAIL campaigns; it runs while the campaign is ACTIVE.' })
  createJourney(@Ctx() ctx: RequestContext, @Arg('input', () => CreateJourneyInput) input: CreateJourneyInput) {
    return this.services.journeys.create(ctx, input);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Journey, { description: 'Pauses, resumes or ends a journey (ENDED is final).' })
  setJourneyStatus(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('status', () => JourneyStatus) status: JourneyStatus) {
    return this.services.journeys.setStatus(ctx, id, status);
  }

  @Authorized(Role.ANALYST)
  @Query(() => [Journey], { description: "The brand's journeys, newest first; of one campaign when given." })
  journeys(@Ctx() ctx: RequestContext, @Arg('campaignId', () => ID, { nullable: true }) campaignId?: string | null) {
    return this.services.journeys.list(ctx, campaignId ?? null);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Journey, { nullable: true })
  journey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.journeys.get(ctx, id);
  }

  @Authorized(Role.ANALYST)
  @Query(() => JourneyReport, {
    nullable: true,
    description: "A journey's report, for its brand or, on a joint campaign, for the alliance's ACTIVE members (aggregates only).",
  })
  journeyReport(@Ctx() ctx: RequestContext, @Arg('journeyId', () => ID) journeyId: string) {
    return this.services.journeys.report(ctx, journeyId);
  }

  @FieldResolver(() => JourneyReport)
  async report(@Ctx() ctx: RequestContext, @Root() journey: Journey) {
    const report = await this.services.journeys.report(ctx, journey.id);
    if (!report) throw notFound('Journey');
    return report;
  }
}

@Resolver(() => CampaignJourney)
export class CampaignJourneyResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => JourneyReport, { description: 'Treated against holdout (aggregates only).' })
  async report(@Ctx() ctx: RequestContext, @Root() journey: CampaignJourney) {
    const report = await this.services.journeys.report(ctx, journey.id);
    if (!report) throw notFound('Journey');
    return report;
  }
}

@Resolver(() => Campaign)
export class CampaignJourneysResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => [CampaignJourney], {
    description: "The campaign's email journeys: the owning brand's, seen by it and, on a joint campaign, by the alliance's ACTIVE members, with their reports.",
  })
  journeys(@Ctx() ctx: RequestContext, @Root() campaign: { id: string }) {
    return this.services.journeys.ofCampaign(ctx, campaign.id);
  }
}
