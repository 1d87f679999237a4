import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('alliances')
export class AllianceEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text', { nullable: true }) purpose!: string | null;
  @Column('text') status!: string;
  @Column('uuid', { name: 'created_by' }) createdBy!: string;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 }) updatedAt!: Date;
  /**
   * Members as they stood when a brand's own answer or departure removed its
   * right to read them: the response still shows what it acted on.
   */
  membersSnapshot?: AllianceMemberEntity[];
}

@Entity('alliance_members')
export class AllianceMemberEntity {
  @PrimaryColumn('uuid', { name: 'alliance_id' }) allianceId!: string;
  @PrimaryColumn('uuid', { name: 'brand_id' }) brandId!: string;
  @Column('text') role!: string;
  @Column('text') status!: string;
  @Column({ name: 'invited_at', type: 'timestamptz', precision: 3 }) invitedAt!: Date;
  @Column({ name: 'joined_at', type: 'timestamptz', precision: 3, nullable: true }) joinedAt!: Date | null;
  @Column({ name: 'left_at', type: 'timestamptz', precision: 3, nullable: true }) leftAt!: Date | null;
}

@Entity('agreements')
export class AgreementEntity {
  @PrimaryColumn('uuid', { name: 'alliance_id' }) allianceId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('int') version!: number;
  @Column('text') status!: string;
  @Column('text', { array: true }) obligations!: string[];
  @Column({ name: 'effective_from', type: 'timestamptz', precision: 3 }) effectiveFrom!: Date;
  @Column({ name: 'effective_to', type: 'timestamptz', precision: 3, nullable: true }) effectiveTo!: Date | null;
  @Column('uuid', { name: 'proposed_by' }) proposedBy!: string;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
  @Column({ name: 'decided_at', type: 'timestamptz', precision: 3, nullable: true }) decidedAt!: Date | null;
}

@Entity('agreement_shares')
export class AgreementShareEntity {
  @PrimaryColumn('uuid', { name: 'alliance_id' }) allianceId!: string;
  @PrimaryColumn('uuid', { name: 'agreement_id' }) agreementId!: string;
  @PrimaryColumn('uuid', { name: 'brand_id' }) brandId!: string;
  @Column('int', { name: 'basis_points' }) basisPoints!: number;
}

@Entity('agreement_acceptances')
export class AgreementAcceptanceEntity {
  @PrimaryColumn('uuid', { name: 'alliance_id' }) allianceId!: string;
  @PrimaryColumn('uuid', { name: 'agreement_id' }) agreementId!: string;
  @PrimaryColumn('uuid', { name: 'brand_id' }) brandId!: string;
  @Column({ name: 'accepted_at', type: 'timestamptz', precision: 3 }) acceptedAt!: Date;
}

@Entity('alliance_audit')
export class AuditEntryEntity {
  @PrimaryColumn('uuid', { name: 'alliance_id' }) allianceId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('bigint') seq!: string;
  @Column({ type: 'timestamptz', precision: 3 }) at!: Date;
  @Column('uuid', { name: 'actor_brand_id' }) actorBrandId!: string;
  @Column('text', { name: 'actor_subject' }) actorSubject!: string;
  @Column('text') action!: string;
  @Column('jsonb', { nullable: true }) before!: unknown;
  @Column('jsonb', { nullable: true }) after!: unknown;
}
