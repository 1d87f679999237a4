import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('brands')
export class BrandEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') slug!: string;
  @Column('text') name!: string;
  @Column('text') kind!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('jsonb') resources!: Record<string, number>;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, insert: false, update: false })
  createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, insert: false })
  updatedAt!: Date;
}
