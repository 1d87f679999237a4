import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('learners')
export class LearnerEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId!: string;
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'external_id' }) externalId!: string;
  @Column('text', { nullable: true }) segment!: string | null;
  @Column('text', { array: true }) demands!: string[];
  /** Read with the row (allied_lifecycle_stage), never stored. */
  lifecycleStage!: string;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, insert: false, update: false })
  createdAt!: Date;
}
