import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Installation-wide values generated once (e.g. the API-key pepper when none is configured). */
@Entity({ name: 'settings' })
export class SettingEntity {
  @PrimaryColumn('text')
  key!: string;

  @Column('text')
  value!: string;
}
