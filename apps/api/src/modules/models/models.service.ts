import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { formatModelRef, ModelSignature, RankerModelError, Scorer, ScorerCache, validateModel } from '@slotwise/ranker';
import { createHash } from 'node:crypto';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { AuditRepository } from '../audit/audit.repository';
import { RankerModelRow, ModelsRepository } from './models.repository';
import { UploadModelInput } from './models.schema';

export interface ModelView {
  ref: string;
  name: string;
  version: number;
  signature: Record<string, unknown>;
  contextDim: number | null;
  itemDim: number | null;
  embeddingDim: number | null;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
}

/** Uploaded ONNX rankers: validated by a test inference at upload, stored in PostgreSQL so every replica can load them. */
@Injectable()
export class ModelsService implements OnModuleDestroy {
  private readonly scorers: ScorerCache;

  constructor(
    private readonly models: ModelsRepository,
    private readonly audit: AuditRepository,
  ) {
    this.scorers = new ScorerCache(async (name, version) => {
      const stored = await this.models.loadBytes(name, version);
      return stored
        ? { bytes: new Uint8Array(stored.bytes), signature: stored.signature as unknown as ModelSignature }
        : null;
    });
  }

  async upload(input: UploadModelInput, actor: Principal): Promise<ModelView> {
    const bytes = Buffer.from(input.onnx, 'base64');
    const checked = await validateModel(new Uint8Array(bytes), input.signature);
    if (!checked.ok)
      throw Problem.validation(
        checked.errors.map((e) => ({ path: e.path === 'model' ? 'onnx' : e.path, message: e.message })),
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const metadata = {
      contextDim: checked.metadata.contextDim,
      itemDim: checked.metadata.itemDim,
      embeddingDim: checked.metadata.embeddingDim,
      kind: checked.metadata.kind,
      description: input.description ?? null,
    };
    const row = await this.models.transaction(async (m) => {
      const inserted = await this.models.insert(m, {
        name: input.name,
        version: input.version,
        signature: checked.signature,
        metadata,
        bytes,
        sha256,
        createdBy: actor.name,
      });
      if (!inserted)
        throw Problem.conflict(
          `Model ${input.name}@${input.version} already exists; versions are immutable, upload a new version.`,
          'duplicate-model',
        );
      await this.audit.append(m, actor, {
        action: 'model.upload',
        entityType: 'model',
        entityId: formatModelRef(inserted.name, inserted.version),
        before: null,
        after: { sha256, metadata },
      });
      return inserted;
    });
    return view(row);
  }

  async list(): Promise<{ models: ModelView[] }> {
    return { models: (await this.models.list()).map(view) };
  }

  /** Metadata of `name@version`, or null. */
  async describe(ref: string): Promise<ModelView | null> {
    const m = /^(.+)@(\d+)$/.exec(ref);
    if (!m) return null;
    const row = await this.models.find(m[1], Number(m[2]));
    return row ? view(row) : null;
  }

  /** The shared scorer for an experiment's `ranker.model` ("none" or name@version). */
  async scorer(ref: string): Promise<Scorer> {
    try {
      return await this.scorers.get(ref);
    } catch (err) {
      if (err instanceof RankerModelError) throw Problem.validation(err.errors);
      throw err;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.scorers.clear();
  }
}

function view(row: RankerModelRow): ModelView {
  const meta = row.metadata as { contextDim?: number | null; itemDim?: number | null; embeddingDim?: number | null };
  return {
    ref: formatModelRef(row.name, row.version),
    name: row.name,
    version: row.version,
    signature: row.signature,
    contextDim: meta.contextDim ?? null,
    itemDim: meta.itemDim ?? null,
    embeddingDim: meta.embeddingDim ?? null,
    sha256: row.sha256,
    sizeBytes: Number(row.sizeBytes),
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
