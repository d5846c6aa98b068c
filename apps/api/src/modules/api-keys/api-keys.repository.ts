import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { ApiKeyEntity, ApiKeyRole } from '../../database/entities/api-key.entity';
import { SettingEntity } from '../../database/entities/setting.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly db: DataSource) {}

  findActiveByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.db.getRepository(ApiKeyEntity).findOne({ where: { keyHash, revokedAt: IsNull() } });
  }

  listActive(): Promise<ApiKeyEntity[]> {
    return this.db.getRepository(ApiKeyEntity).find({ where: { revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  findActiveById(id: string, manager: EntityManager = this.db.manager): Promise<ApiKeyEntity | null> {
    return manager.getRepository(ApiKeyEntity).findOne({ where: { id, revokedAt: IsNull() } });
  }

  /**
   * Lock the active admin keys (FOR UPDATE) until the transaction ends and return how many there are: a concurrent
   * revocation waits here, then sees this one's result. The migration's trigger enforces the same rule for any writer.
   */
  async lockActiveAdmins(manager: EntityManager): Promise<number> {
    const rows: unknown[] = await manager.query(
      `SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL ORDER BY id FOR UPDATE`,
    );
    return rows.length;
  }

  countActiveAdmins(): Promise<number> {
    return this.db.getRepository(ApiKeyEntity).count({ where: { role: 'admin', revokedAt: IsNull() } });
  }

  async insert(
    manager: EntityManager,
    key: { id: string; name: string; role: ApiKeyRole; keyHash: string; prefix: string },
  ): Promise<ApiKeyEntity> {
    const entity = manager.getRepository(ApiKeyEntity).create({ ...key, revokedAt: null });
    return manager.getRepository(ApiKeyEntity).save(entity);
  }

  async revoke(manager: EntityManager, id: string): Promise<void> {
    await manager.getRepository(ApiKeyEntity).update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /** A value generated once per installation; concurrent first starts agree on the first writer's value. */
  async getOrCreateSetting(key: string, create: () => string): Promise<string> {
    await this.db
      .createQueryBuilder()
      .insert()
      .into(SettingEntity)
      .values({ key, value: create() })
      .orIgnore()
      .execute();
    const row = await this.db.getRepository(SettingEntity).findOneByOrFail({ key });
    return row.value;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }
}
