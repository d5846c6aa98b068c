import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { ItemEntity } from '../../database/entities/item.entity';
import { AuditRepository } from '../audit/audit.repository';
import { ItemEvents } from './item-events';
import { BatchItemsInput, ItemView, PutItemInput } from './item.schema';
import { ItemsRepository } from './items.repository';

@Injectable()
export class ItemsService {
  constructor(
    private readonly items: ItemsRepository,
    private readonly audit: AuditRepository,
    private readonly events: ItemEvents,
  ) {}

  async put(id: string, input: PutItemInput, actor: Principal): Promise<{ item: ItemView; created: boolean }> {
    const created = await this.items.transaction(async (m) => {
      const before = await this.items.findById(id, m);
      const { created } = await this.items.upsert(m, [{ id, ...input }]);
      await this.audit.append(m, actor, {
        action: before ? 'item.update' : 'item.create',
        entityType: 'item',
        entityId: id,
        before: before ? { features: before.features, attributes: before.attributes } : null,
        after: input,
      });
      return created === 1;
    });
    this.events.changed([id]);
    return { item: await this.get(id), created };
  }

  /** One transaction for the whole batch: all items are written or none. */
  async putBatch(
    input: BatchItemsInput,
    actor: Principal,
  ): Promise<{ upserted: number; created: number; updated: number }> {
    const { created } = await this.items.transaction(async (m) => {
      const result = await this.items.upsert(m, input.items);
      await this.audit.append(m, actor, {
        action: 'item.batch-upsert',
        entityType: 'item',
        entityId: `batch:${input.items.length}`,
        before: null,
        after: { count: input.items.length, created: result.created, ids: input.items.slice(0, 100).map((i) => i.id) },
      });
      return result;
    });
    this.events.changed(input.items.map((i) => i.id));
    return { upserted: input.items.length, created, updated: input.items.length - created };
  }

  async get(id: string): Promise<ItemView> {
    const row = await this.items.findById(id);
    if (!row) throw Problem.notFound(`No item with id "${id}".`);
    return itemView(row);
  }
}

export function itemView(row: ItemEntity): ItemView {
  return {
    id: row.id,
    features: row.features,
    attributes: row.attributes,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
