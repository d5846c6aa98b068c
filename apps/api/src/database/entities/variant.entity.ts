import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Relation } from 'typeorm';
import type { ExperimentEntity } from './experiment.entity';

@Entity({ name: 'variants' })
export class VariantEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'experiment_id' })
  experimentId!: string;

  @ManyToOne('ExperimentEntity', (e: ExperimentEntity) => e.variants, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'experiment_id' })
  experiment!: Relation<ExperimentEntity>;

  @Column('text')
  key!: string;

  @Column('int')
  position!: number;

  @Column('double precision')
  weight!: number;

  @Column('jsonb', { nullable: true })
  policy!: Record<string, unknown> | null;

  /** A shadow variant gets no traffic; it decides beside every served decision (apprentice mode). */
  @Column('boolean', { default: false })
  shadow!: boolean;

  @Column('jsonb', { nullable: true })
  config!: Record<string, unknown> | null;
}
