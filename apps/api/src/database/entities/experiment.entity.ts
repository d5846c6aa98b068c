import { Column, CreateDateColumn, Entity, OneToMany, PrimaryColumn, Relation, UpdateDateColumn } from 'typeorm';
import type { VariantEntity } from './variant.entity';

export const EXPERIMENT_STATUSES = ['draft', 'running', 'paused', 'stopped'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

@Entity({ name: 'experiments' })
export class ExperimentEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text', { unique: true })
  key!: string;

  @Column('text')
  name!: string;

  @Column('text', { default: '' })
  hypothesis!: string;

  @Column('text')
  kind!: 'ranking' | 'ab';

  @Column('text')
  assignment!: 'hash' | 'external';

  @Column('text')
  status!: ExperimentStatus;

  @Column('double precision', { name: 'traffic_percent' })
  trafficPercent!: number;

  @Column('text', { nullable: true })
  layer!: string | null;

  @Column('int', { nullable: true })
  slots!: number | null;

  /** Salt of the assignment hash: fixed at creation so assignments never move by accident. */
  @Column('text')
  salt!: string;

  /** Feature schema, ranker, metrics, thresholds, targeting: the rest of the definition. */
  @Column('jsonb')
  settings!: Record<string, unknown>;

  @Column('int')
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'stopped_at', nullable: true })
  stoppedAt!: Date | null;

  @OneToMany('VariantEntity', (v: VariantEntity) => v.experiment, { cascade: true })
  variants!: Relation<VariantEntity[]>;
}
