import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'items' })
export class ItemEntity {
  @PrimaryColumn('text')
  id!: string;

  /** Named numeric features. */
  @Column('jsonb')
  features!: Record<string, number>;

  @Column('jsonb')
  attributes!: Record<string, unknown>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
