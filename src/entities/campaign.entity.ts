import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from './transformers';

@Entity('campaigns')
export class CampaignEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'alliance_id', nullable: true }) allianceId!: string | null;
  @Column('text') name!: string;
  @Column('text') kind!: string;
  @Column('text') status!: string;
  @Column({ name: 'starts_at', type: 'timestamptz', precision: 3 }) startsAt!: Date;
  @Column({ name: 'ends_at', type: 'timestamptz', precision: 3, nullable: true }) endsAt!: Date | null;
  @Column('int', { name: 'window_start_hour', nullable: true }) windowStartHour!: number | null;
  @Column('int', { name: 'window_end_hour', nullable: true }) windowEndHour!: number | null;
  @Column('text', { name: 'time_zone' }) timeZone!: string;
  @Column('int', { name: 'attribution_window_days' }) attributionWindowDays!: number;
  @Column('bigint', { name: 'budget_minor', transformer: bigintToNumber }) budgetMinor!: number;
  @Column('char', { length: 3 }) currency!: string;
  @Column('text', { name: 'target_segments', array: true }) targetSegments!: string[];
  @Column('text', { name: 'sponsorship_property_kind', nullable: true }) sponsorshipPropertyKind!: string | null;
  @Column('text', { name: 'sponsorship_property_name', nullable: true }) sponsorshipPropertyName!: string | null;
  @Column('text', { name: 'sponsorship_sport', nullable: true }) sponsorshipSport!: string | null;
  @Column({ name: 'sponsorship_starts_at', type: 'timestamptz', precision: 3, nullable: true }) sponsorshipStartsAt!: Date | null;
  @Column('bigint', { name: 'sponsorship_fee_minor', nullable: true, transformer: bigintToNumber }) sponsorshipFeeMinor!: number | null;
  @Column('char', { name: 'sponsorship_fee_currency', length: 3, nullable: true }) sponsorshipFeeCurrency!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 }) updatedAt!: Date;

  get budget() {
    return { amountMinor: this.budgetMinor, currency: this.currency };
  }

  get sponsorship() {
    if (!this.sponsorshipPropertyKind) return null;
    return {
      propertyKind: this.sponsorshipPropertyKind,
      propertyName: this.sponsorshipPropertyName,
      sport: this.sponsorshipSport,
      startsAt: this.sponsorshipStartsAt,
      fee: { amountMinor: this.sponsorshipFeeMinor, currency: this.sponsorshipFeeCurrency },
    };
  }
}

@Entity('creatives')
export class CreativeEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'campaign_id' }) campaignId!: string;
  @Column('uuid', { name: 'alliance_id', nullable: true }) allianceId!: string | null;
  @Column('text') channel!: string;
  @Column('text') headline!: string;
  @Column('text', { nullable: true }) body!: string | null;
  @Column('text', { name: 'image_url', nullable: true }) imageUrl!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
}
