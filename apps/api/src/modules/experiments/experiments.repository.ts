import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ExperimentEntity, ExperimentStatus } from '../../database/entities/experiment.entity';
import { VariantEntity } from '../../database/entities/variant.entity';
import type { ListExperimentsQuery } from './experiment.schema';

@Injectable()
export class ExperimentsRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  findByKey(key: string, manager: EntityManager = this.db.manager): Promise<ExperimentEntity | null> {
    return manager
      .getRepository(ExperimentEntity)
      .findOne({ where: { key }, relations: { variants: true }, order: { variants: { position: 'ASC' } } });
  }

  async keyById(id: string): Promise<string | null> {
    const rows: Array<{ key: string }> = await this.db.query(`SELECT key FROM experiments WHERE id = $1`, [id]);
    return rows[0]?.key ?? null;
  }

  async list(query: ListExperimentsQuery): Promise<{ rows: ExperimentEntity[]; total: number }> {
    const qb = this.db
      .getRepository(ExperimentEntity)
      .createQueryBuilder('e')
      .leftJoinAndSelect('e.variants', 'v')
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('v.position', 'ASC');
    if (query.status) qb.andWhere('e.status = :status', { status: query.status });
    if (query.kind) qb.andWhere('e.kind = :kind', { kind: query.kind });
    if (query.q)
      qb.andWhere('(e.key ILIKE :q OR e.name ILIKE :q)', { q: `%${query.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%` });
    const total = await qb.clone().getCount();
    const rows = await qb.skip(query.offset).take(query.limit).getMany();
    return { rows, total };
  }

  async keyExists(manager: EntityManager, key: string): Promise<boolean> {
    return (await manager.getRepository(ExperimentEntity).count({ where: { key } })) > 0;
  }

  async insert(manager: EntityManager, e: ExperimentEntity): Promise<void> {
    await manager.query(
      `INSERT INTO experiments (id, key, name, hypothesis, kind, assignment, status, traffic_percent, layer, slots, salt, settings, version)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13)`,
      [
        e.id,
        e.key,
        e.name,
        e.hypothesis,
        e.kind,
        e.assignment,
        e.status,
        e.trafficPercent,
        e.layer,
        e.slots,
        e.salt,
        JSON.stringify(e.settings),
        e.version,
      ],
    );
    await this.insertVariants(manager, e.variants);
  }

  /** Optimistic update: succeeds only if nobody changed the row since `expectedVersion` was read. */
  async update(manager: EntityManager, e: ExperimentEntity, expectedVersion: number): Promise<boolean> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE experiments SET name=$3, hypothesis=$4, kind=$5, assignment=$6, traffic_percent=$7, layer=$8, slots=$9, settings=$10::jsonb,
              version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $2 RETURNING id`,
      [
        e.id,
        expectedVersion,
        e.name,
        e.hypothesis,
        e.kind,
        e.assignment,
        e.trafficPercent,
        e.layer,
        e.slots,
        JSON.stringify(e.settings),
      ],
    );
    if (rows.length !== 1) return false;
    await manager.query(`DELETE FROM variants WHERE experiment_id = $1`, [e.id]);
    await this.insertVariants(manager, e.variants);
    return true;
  }

  private async insertVariants(manager: EntityManager, variants: VariantEntity[]): Promise<void> {
    for (const v of variants) {
      await manager.query(
        `INSERT INTO variants (id, experiment_id, key, position, weight, policy, config, shadow) VALUES ($1,$2,$3,$4,$5,$6::jsonb,$7::jsonb,$8)`,
        [
          v.id,
          v.experimentId,
          v.key,
          v.position,
          v.weight,
          v.policy ? JSON.stringify(v.policy) : null,
          v.config ? JSON.stringify(v.config) : null,
          v.shadow ?? false,
        ],
      );
    }
  }

  async setStatus(
    manager: EntityManager,
    id: string,
    from: ExperimentStatus[],
    to: ExperimentStatus,
    stamps: Partial<Pick<ExperimentEntity, 'startedAt' | 'stoppedAt'>>,
  ): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(ExperimentEntity)
      .set({ status: to, ...stamps, version: () => 'version + 1' })
      .where('id = :id AND status IN (:...from)', { id, from })
      .execute();
    return result.affected === 1;
  }
}
