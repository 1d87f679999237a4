import { Length, Max, Min } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ContactConsent, RecommendationScope } from '../entities/enums';
export { ContactConsent };
import { DateTimeScalar } from './scalars';
import { IsNotBlank } from './validators';

registerEnumType(ContactConsent, {
  name: 'ContactConsent',
  description: 'What the learner said about receiving email. A contact without either has not consented: nothing is sent to it.',
});

@InputType({ description: "A learner's address and consent, carried by an event; the statement with the latest time wins." })
export class EventContactInput {
  @Field() email!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => ContactConsent, { nullable: true, description: "Omitted: the contact's consent stays as it is." }) consent?: ContactConsent | null;
  @Field(() => String, { nullable: true, description: 'Where consent was given, e.g. "checkout form"; 1..100 characters.' }) source?: string | null;
}

@InputType()
export class UpsertLearnerContactInput {
  @Field(() => ID, { nullable: true, description: 'The learner, by id; or give learnerExternalId.' }) learnerId?: string | null;
  @Field(() => String, { nullable: true, description: 'The learner by external id, created if the brand has not seen it yet.' }) learnerExternalId?: string | null;
  @Field() email!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => ContactConsent, { nullable: true }) consent?: ContactConsent | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When consent was stated; now when omitted. An older statement never overrides a newer one.' })
  consentAt?: Date | null;
  @Field(() => String, { nullable: true }) source?: string | null;
}

@ObjectType({ description: "A learner's email contact: personal data, visible to its own brand's EDITOR, ADMIN and OWNER only." })
export class LearnerContact {
  @Field() email!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field(() => ContactConsent, { nullable: true }) consent!: ContactConsent | null;
  @Field(() => DateTimeScalar, { nullable: true }) consentAt!: Date | null;
  @Field(() => String, { nullable: true }) consentSource!: string | null;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType({ description: 'What forgetLearner erased.' })
export class ForgetLearnerResult {
  @Field(() => ID) learnerId!: string;
  @Field(() => DateTimeScalar) forgottenAt!: Date;
}

@ObjectType({ description: "The brand's sending rules, for every journey of the brand." })
export class EmailSettings {
  @Field({ description: 'IANA time zone of quiet hours, e.g. Asia/Shanghai (UTC by default).' }) timeZone!: string;
  @Field(() => Int, { description: 'Quiet hours begin at this hour (21 by default) ...' }) quietStartHour!: number;
  @Field(() => Int, { description: '... and end at this one (8): no message is sent in between. Equal hours: no quiet hours.' }) quietEndHour!: number;
  @Field(() => Int, { description: 'At most this many emails to one learner in any 7 days, across all journeys (3).' }) weeklyCap!: number;
  @Field(() => Int, { description: 'Messages per minute the brand sends at most (600).' }) perMinute!: number;
}

@InputType()
export class EmailSettingsInput {
  @Field(() => String, { nullable: true }) timeZone?: string | null;
  @Field(() => Int, { nullable: true }) @Min(0) @Max(23) quietStartHour?: number | null;
  @Field(() => Int, { nullable: true }) @Min(0) @Max(23) quietEndHour?: number | null;
  @Field(() => Int, { nullable: true }) @Min(1) @Max(100) weeklyCap?: number | null;
  @Field(() => Int, { nullable: true }) @Min(1) @Max(1_000_000) perMinute?: number | null;
}

@ObjectType()
export class EmailOffer {
  @Field(() => String, { nullable: true }) code!: string | null;
  @Field() text!: string;
}

@ObjectType({
  description:
    'An email template. subject, mjml and text are Liquid templates (HTML escaping on in mjml) over: brand { name }, learner { name stage segment demands }, courses (recommended), offer { code text }, partner_courses, unsubscribe_url. Each course has id, title, topics, level, format, price, owner.',
})
export class EmailTemplate {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() subject!: string;
  @Field({ description: 'The HTML body as MJML.' }) mjml!: string;
  @Field({ description: 'The plain-text body.' }) text!: string;
  @Field(() => RecommendationScope, { description: 'Where `courses` come from.' }) recommendScope!: RecommendationScope;
  @Field(() => Int, { description: 'How many courses are recommended (0..10).' }) recommendCount!: number;
  @Field(() => EmailOffer, { nullable: true }) offer!: EmailOffer | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@InputType()
export class SaveEmailTemplateInput {
  @Field(() => ID, { nullable: true, description: 'A template of the brand to replace; a new one when omitted.' }) id?: string | null;
  @Field() @Length(1, 200) @IsNotBlank() name!: string;
  @Field() @Length(1, 1000) subject!: string;
  @Field() @Length(1, 200_000) mjml!: string;
  @Field() @Length(1, 100_000) text!: string;
  @Field(() => RecommendationScope, { nullable: true }) recommendScope?: RecommendationScope | null;
  @Field(() => Int, { nullable: true }) @Min(0) @Max(10) recommendCount?: number | null;
  @Field(() => String, { nullable: true }) @Length(1, 100) offerCode?: string | null;
  @Field(() => String, { nullable: true, description: 'The offer as templates show it; without it there is no offer.' }) @Length(1, 1000) offerText?: string | null;
}

@ObjectType({ description: 'A template rendered for one learner, as it would be sent (tracking links are added at sending).' })
export class RenderedEmail {
  @Field() subject!: string;
  @Field() html!: string;
  @Field() text!: string;
}
