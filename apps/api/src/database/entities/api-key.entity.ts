import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

import { API_KEY_ROLES, type ApiKeyRole } from '@slotwise/contracts';

export { API_KEY_ROLES, type ApiKeyRole };

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  role!: ApiKeyRole;

  /** SHA-256(pepper ‖ key), hex. The key itself is never stored. */
  @Column('text', { name: 'key_hash' })
  keyHash!: string;

  /** First characters of the key, to tell keys apart in listings. */
  @Column('text')
  prefix!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
