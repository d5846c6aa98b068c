import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ItemEvents } from './item-events';
import { ItemsRepository } from './items.repository';

/** How long a cached item is trusted: writes on this replica invalidate at once, other replicas' within this. */
const TTL_MS = 30_000;
const MAX_ENTRIES = 500_000;

interface Entry {
  features: Record<string, number> | null; // null: not in the catalog
  expires: number;
}

/**
 * Catalog features in memory for the rank fast path: a request naming candidates by id costs no query once
 * they are cached. Invalidated by item writes (ItemEvents) and by a TTL for writes on other replicas.
 */
@Injectable()
export class CatalogCache implements OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly items: ItemsRepository,
    events: ItemEvents,
  ) {
    this.unsubscribe = events.onChanged((ids) => ids.forEach((id) => this.entries.delete(id)));
  }

  /** Features of each id (null when the item is not in the catalog), loading the missing ones in one query. */
  async features(ids: readonly string[]): Promise<Map<string, Record<string, number> | null>> {
    const now = Date.now();
    const out = new Map<string, Record<string, number> | null>();
    const missing: string[] = [];
    for (const id of ids) {
      const e = this.entries.get(id);
      if (e && e.expires > now) out.set(id, e.features);
      else missing.push(id);
    }
    if (missing.length) {
      const rows = await this.items.findByIds(missing);
      const found = new Map(rows.map((r) => [r.id, r.features]));
      if (this.entries.size + missing.length > MAX_ENTRIES) this.entries.clear();
      for (const id of missing) {
        const features = found.get(id) ?? null;
        out.set(id, features);
        this.entries.set(id, { features, expires: now + TTL_MS });
      }
    }
    return out;
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}
