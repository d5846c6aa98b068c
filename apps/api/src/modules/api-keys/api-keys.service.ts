import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { randomBytes, randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { ClusterBus } from '../../database/cluster-bus';
import { ApiKeyEntity } from '../../database/entities/api-key.entity';
import { AuditRepository } from '../audit/audit.repository';
import { ApiKeyHasher } from './api-key-hasher';
import { ApiKeysRepository } from './api-keys.repository';
import { CreateApiKeyInput } from './api-keys.schemas';

/**
 * How long a verified key is trusted without asking the database again. A revocation reaches the other replicas
 * at once through the ClusterBus (LISTEN/NOTIFY); this TTL is the fallback for a lost notification.
 */
const CACHE_TTL_MS = 5_000;
/** The TTL while this process is not listening to other replicas (its listening connection is reconnecting). */
const UNLISTENED_CACHE_TTL_MS = 1_000;

export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
}

@Injectable()
export class ApiKeysService {
  private hasher?: ApiKeyHasher;
  /** Verified keys by hash: bounded, the least recently used entry goes first (never the whole cache). */
  private readonly cache = new LRUCache<string, { principal: Principal; expires: number }>({ max: 10_000 });

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: ClusterBus,
  ) {
    bus.on('api-key', ({ id }) => this.forget(id));
    // Revocations may have been missed while the listener was away.
    bus.onResync(() => this.cache.clear());
  }

  /** Run once at boot: load the pepper and make sure an admin key exists. Returns a generated key to print once, if any. */
  async initialize(): Promise<string | null> {
    const pepper =
      this.config.keyPepper ??
      (await this.keys.getOrCreateSetting('api_key_pepper', () => randomBytes(32).toString('hex')));
    this.hasher = new ApiKeyHasher(pepper);
    if (this.config.adminKey) {
      const hash = this.hasher.hash(this.config.adminKey);
      if (!(await this.keys.findActiveByHash(hash))) {
        await this.insertKey(
          { name: 'bootstrap admin (SLOTWISE_ADMIN_KEY)', role: 'admin' },
          this.config.adminKey,
          null,
        );
      }
      return null;
    }
    if ((await this.keys.countActiveAdmins()) > 0) return null;
    const key = ApiKeyHasher.generateKey();
    await this.insertKey({ name: 'first admin (generated at first start)', role: 'admin' }, key, null);
    return key;
  }

  async authenticate(key: string): Promise<Principal | null> {
    const hasher = this.requireHasher();
    const hash = hasher.hash(key);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.expires > now) return cached.principal;
    const row = await this.keys.findActiveByHash(hash);
    if (!row || !hasher.matches(key, row.keyHash)) {
      this.cache.delete(hash);
      return null;
    }
    const principal: Principal = { keyId: row.id, name: row.name, role: row.role };
    this.cache.set(hash, { principal, expires: now + (this.bus.listening ? CACHE_TTL_MS : UNLISTENED_CACHE_TTL_MS) });
    return principal;
  }

  async create(input: CreateApiKeyInput, actor: Principal): Promise<ApiKeyView & { key: string }> {
    const key = ApiKeyHasher.generateKey();
    const row = await this.insertKey(input, key, actor);
    return { ...view(row), key };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.listActive()).map(view);
  }

  /**
   * Revoke a key. The last active admin key cannot be revoked (409 `last-admin-key`): checked under a lock on the
   * admin keys, and enforced by a database trigger (migration LastAdminKey), so concurrent revocations leave one.
   */
  async revoke(id: string, actor: Principal): Promise<void> {
    try {
      await this.keys.transaction(async (m) => {
        const row = await this.keys.findActiveById(id, m);
        if (!row) throw Problem.notFound(`No active API key with id ${id}.`);
        if (row.role === 'admin' && (await this.keys.lockActiveAdmins(m)) <= 1) throw lastAdminKey();
        await this.keys.revoke(m, id);
        await this.audit.append(m, actor, {
          action: 'api-key.revoke',
          entityType: 'api-key',
          entityId: id,
          before: view(row),
          after: null,
        });
      });
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23000' && e.constraint === LAST_ADMIN_CONSTRAINT) throw lastAdminKey();
      throw err;
    }
    this.forget(id);
    await this.bus.publish('api-key', { id });
  }

  /** Drops the cached verification of key `id` (revoked here or on another replica). */
  private forget(id: string): void {
    const revoked = [...this.cache.entries()].filter(([, entry]) => entry.principal.keyId === id).map(([hash]) => hash);
    for (const hash of revoked) this.cache.delete(hash);
  }

  private async insertKey(input: CreateApiKeyInput, key: string, actor: Principal | null): Promise<ApiKeyEntity> {
    const hasher = this.requireHasher();
    return this.keys.transaction(async (m) => {
      const row = await this.keys.insert(m, {
        id: randomUUID(),
        name: input.name,
        role: input.role,
        keyHash: hasher.hash(key),
        prefix: ApiKeyHasher.prefixOf(key),
      });
      await this.audit.append(m, actor, {
        action: 'api-key.create',
        entityType: 'api-key',
        entityId: row.id,
        before: null,
        after: view(row),
      });
      return row;
    });
  }

  private requireHasher(): ApiKeyHasher {
    if (!this.hasher) throw new Error('ApiKeysService.initialize() has not run');
    return this.hasher;
  }
}

/** Raised by the database trigger of migration LastAdminKey1764781200000. */
const LAST_ADMIN_CONSTRAINT = 'api_keys_last_admin';

function lastAdminKey(): Problem {
  return Problem.conflict('This is the last admin key; create another admin key before revoking it.', 'last-admin-key');
}

function view(row: ApiKeyEntity): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
