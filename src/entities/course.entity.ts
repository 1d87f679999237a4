import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from './transformers';

@Entity('courses')
export class CourseEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'alliance_id', nullable: true }) allianceId!: string | null;
  @Column('text') title!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('text', { array: true }) topics!: string[];
  @Column('text') level!: string;
  @Column('text') format!: string;
  @Column('bigint', { name: 'price_minor', transformer: bigintToNumber }) priceMinor!: number;
  @Column('char', { length: 3 }) currency!: string;
  @Column('text') status!: string;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, insert: false, update: false })
  createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, insert: false })
  updatedAt!: Date;

  /** The price as the API shows it (integer minor units and currency). */
  get price(): { amountMinor: number; currency: string } {
    return { amountMinor: this.priceMinor, currency: this.currency };
  }
}
