import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ItemEntity } from '../../database/entities/item.entity';

export interface ItemRow {
  id: string;
  features: Record<string, number>;
  attributes: Record<string, unknown>;
}

/** Rows per INSERT statement: keeps bind parameters well under PostgreSQL's 65,535. */
const CHUNK = 2_000;

@Injectable()
export class ItemsRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  findById(id: string, manager: EntityManager = this.db.manager): Promise<ItemEntity | null> {
    return manager.getRepository(ItemEntity).findOne({ where: { id } });
  }

  findByIds(ids: string[]): Promise<ItemEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.getRepository(ItemEntity).createQueryBuilder('i').where('i.id = ANY(:ids)', { ids }).getMany();
  }

  /** Insert or replace; returns how many rows were new. */
  async upsert(manager: EntityManager, items: ItemRow[]): Promise<{ created: number }> {
    let created = 0;
    for (let start = 0; start < items.length; start += CHUNK) {
      const chunk = items.slice(start, start + CHUNK);
      const params: unknown[] = [];
      const values = chunk.map((it, i) => {
        params.push(it.id, JSON.stringify(it.features), JSON.stringify(it.attributes));
        return `($${i * 3 + 1}, $${i * 3 + 2}::jsonb, $${i * 3 + 3}::jsonb, now(), now())`;
      });
      const rows: Array<{ inserted: boolean }> = await manager.query(
        `INSERT INTO items (id, features, attributes, created_at, updated_at) VALUES ${values.join(',')}
         ON CONFLICT (id) DO UPDATE SET features = EXCLUDED.features, attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at
         RETURNING (xmax = 0) AS inserted`,
        params,
      );
      created += rows.filter((r) => r.inserted).length;
    }
    return { created };
  }
}
