/**
 * The domain's vocabulary: the enums services and entities speak in. The
 * GraphQL schema registers the same enums (src/schema/*.types.ts), so the
 * domain never loads graphql to name a status.
 */

export enum AllianceStatus {
  FORMING = 'FORMING',
  ACTIVE = 'ACTIVE',
  DISSOLVED = 'DISSOLVED',
}

export enum MemberRole {
  LEAD = 'LEAD',
  MEMBER = 'MEMBER',
}

export enum MemberStatus {
  INVITED = 'INVITED',
  ACTIVE = 'ACTIVE',
  DECLINED = 'DECLINED',
  LEFT = 'LEFT',
}

export enum AgreementStatus {
  PROPOSED = 'PROPOSED',
  ACTIVE = 'ACTIVE',
  SUPERSEDED = 'SUPERSEDED',
  REJECTED = 'REJECTED',
}

export enum BrandKind {
  KNOWLEDGE_PLATFORM = 'KNOWLEDGE_PLATFORM',
  CONTENT_CREATOR = 'CONTENT_CREATOR',
  PUBLISHER = 'PUBLISHER',
  SPORTS_ORGANIZATION = 'SPORTS_ORGANIZATION',
  ATHLETE = 'ATHLETE',
  SPONSOR = 'SPONSOR',
  TECH_VENDOR = 'TECH_VENDOR',
  ADVERTISER = 'ADVERTISER',
  OTHER = 'OTHER',
}

export enum CampaignKind {
  JOINT_MARKETING = 'JOINT_MARKETING',
  AD_PLACEMENT = 'AD_PLACEMENT',
  SPONSORSHIP = 'SPONSORSHIP',
  EMAIL = 'EMAIL',
  LOYALTY = 'LOYALTY',
}

export enum CampaignStatus {
  DRAFT = 'DRAFT',
  SCHEDULED = 'SCHEDULED',
  ACTIVE = 'ACTIVE',
  PAUSED = 'PAUSED',
  ENDED = 'ENDED',
}

export enum Channel {
  SOCIAL = 'SOCIAL',
  SEARCH = 'SEARCH',
  IN_APP = 'IN_APP',
  EMAIL = 'EMAIL',
  PARTNER_SITE = 'PARTNER_SITE',
  BROADCAST = 'BROADCAST',
  VENUE = 'VENUE',
}

export enum SportsPropertyKind {
  EVENT = 'EVENT',
  TEAM = 'TEAM',
  ATHLETE = 'ATHLETE',
}

export enum CourseLevel {
  BEGINNER = 'BEGINNER',
  INTERMEDIATE = 'INTERMEDIATE',
  ADVANCED = 'ADVANCED',
}

export enum CourseFormat {
  VIDEO = 'VIDEO',
  AUDIO = 'AUDIO',
  ARTICLE = 'ARTICLE',
  LIVE = 'LIVE',
  BUNDLE = 'BUNDLE',
}

export enum CourseStatus {
  DRAFT = 'DRAFT',
  PUBLISHED = 'PUBLISHED',
  ARCHIVED = 'ARCHIVED',
}

export enum CatalogScope {
  OWN = 'OWN',
  ALLIANCE = 'ALLIANCE',
  PARTNERS = 'PARTNERS',
}

export enum EventType {
  IMPRESSION = 'IMPRESSION',
  CLICK = 'CLICK',
  VIEW = 'VIEW',
  ENROLL = 'ENROLL',
  PURCHASE = 'PURCHASE',
  REFUND = 'REFUND',
  RATING = 'RATING',
  FEEDBACK = 'FEEDBACK',
  COMPLETE = 'COMPLETE',
  /** A learner opened an email of the campaign (its tracking pixel loaded). */
  EMAIL_OPEN = 'EMAIL_OPEN',
  /** A learner followed a link in an email of the campaign; attributes purchases like CLICK. */
  EMAIL_CLICK = 'EMAIL_CLICK',
}

export enum MetricsWindow {
  LAST_HOUR = 'LAST_HOUR',
  LAST_24_HOURS = 'LAST_24_HOURS',
  LAST_7_DAYS = 'LAST_7_DAYS',
  LAST_30_DAYS = 'LAST_30_DAYS',
}

export enum MetricsBucket {
  HOUR = 'HOUR',
  DAY = 'DAY',
  WEEK = 'WEEK',
}

/** What a model does; each brand has at most one active version of each. */
export enum ModelKind {
  RECOMMENDER = 'RECOMMENDER',
  CTR = 'CTR',
  NER = 'NER',
  SEGMENTATION = 'SEGMENTATION',
}

export enum ModelStatus {
  TRAINING = 'TRAINING',
  READY = 'READY',
  FAILED = 'FAILED',
}

export enum RecommendationScope {
  OWN = 'OWN',
  ALLIANCE = 'ALLIANCE',
}

/** What a learner said about receiving email; no statement is no consent. */
export enum ContactConsent {
  OPTED_IN = 'OPTED_IN',
  OPTED_OUT = 'OPTED_OUT',
}

export enum JourneyTriggerKind {
  STAGE_ENTERED = 'STAGE_ENTERED',
  SEGMENT_ENTERED = 'SEGMENT_ENTERED',
  EVENT_WITHOUT_FOLLOW_UP = 'EVENT_WITHOUT_FOLLOW_UP',
  SCHEDULED = 'SCHEDULED',
}

export enum JourneyStepKind {
  WAIT = 'WAIT',
  SEND = 'SEND',
  BRANCH = 'BRANCH',
}

export enum JourneyBranchCondition {
  OPENED = 'OPENED',
  CLICKED = 'CLICKED',
  PURCHASED = 'PURCHASED',
}

export enum JourneyStatus {
  ACTIVE = 'ACTIVE',
  PAUSED = 'PAUSED',
  ENDED = 'ENDED',
}

export enum LoyaltyProgramStatus {
  PROPOSED = 'PROPOSED',
  ACTIVE = 'ACTIVE',
  SUPERSEDED = 'SUPERSEDED',
  REJECTED = 'REJECTED',
}

export enum LoyaltyEntryKind {
  EARN = 'EARN',
  REDEEM = 'REDEEM',
  EXPIRE = 'EXPIRE',
  REVERSE = 'REVERSE',
  ADJUST = 'ADJUST',
}

/** The stages of the promotion funnel, in order (src/services/impact.service.ts). */
export enum FunnelStageName {
  REACH = 'REACH',
  ACQUIRED = 'ACQUIRED',
  ACTIVATED = 'ACTIVATED',
  CONVERTED = 'CONVERTED',
  RETAINED = 'RETAINED',
}

/** What a budget suggestion maximises. */
export enum BudgetObjective {
  CONVERSIONS = 'CONVERSIONS',
  REVENUE = 'REVENUE',
}
