import * as ort from 'onnxruntime-node';
import { FieldError, RankerInputError, RankerModelError } from './errors';
import { parseModelRef } from './model-ref';
import { checkCount, Scorer, ScorerMetadata, ScoreResult } from './scorer';
import { MAX_HISTORY_LENGTH, ModelSignature, parseModelSignature } from './signature';

export interface OnnxScorerOptions {
  /** `name@version` for metadata and error messages; without it the scorer is reported as `inline`. */
  ref?: string;
  /** Threads inside one operator (default 1: the API serves many requests concurrently on few cores). */
  intraOpNumThreads?: number;
  /** Threads across independent operators (default 1; execution is sequential). */
  interOpNumThreads?: number;
  /** Most candidates accepted in one `score` call (default 10,000). */
  maxItems?: number;
}

export const DEFAULT_MAX_ITEMS = 10_000;

type Shape = ReadonlyArray<number | string>;

interface Plan {
  kind: 'split' | 'concat';
  contextDim: number;
  itemDim: number;
  embeddingDim: number | null;
  /** split: feed the context as [1, C] (true) or [C] (false). */
  contextRank2: boolean;
  /** history input length K, or null without one */
  historyLength: number | null;
  /** feed the history as [1, K, D] (true) or [K, D] (false). */
  historyRank3: boolean;
}

/**
 * A {@link Scorer} backed by an onnxruntime-node session. Create it with {@link OnnxScorer.create}; every `score`
 * call runs the model once over all candidates.
 */
export class OnnxScorer implements Scorer {
  readonly metadata: ScorerMetadata;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private disposed: Promise<void> | null = null;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly signature: ModelSignature,
    private readonly plan: Plan,
    private readonly maxItems: number,
    ref: string | undefined,
  ) {
    const parsed = ref === undefined ? undefined : parseModelRef(ref);
    this.metadata = {
      ref: ref ?? 'inline',
      name: parsed?.ok ? parsed.value.name : (ref ?? 'inline'),
      version: parsed?.ok ? parsed.value.version : null,
      kind: plan.kind,
      contextDim: plan.contextDim,
      itemDim: plan.itemDim,
      embeddingDim: plan.embeddingDim,
      historyLength: plan.historyLength,
    };
  }

  /**
   * Loads a model from its bytes and checks the signature against the model's declared inputs, outputs, types and
   * shapes. Throws {@link RankerModelError} with field-path errors (`model`, `signature.*`) when it cannot be used.
   */
  static async create(
    bytes: Uint8Array,
    signature: ModelSignature,
    options: OnnxScorerOptions = {},
  ): Promise<OnnxScorer> {
    const parsed = parseModelSignature(signature);
    if (!parsed.ok) throw new RankerModelError(parsed.errors);
    const sig = parsed.value;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new RankerModelError([{ path: 'model', message: 'is empty: expected the bytes of an ONNX model' }]);
    }
    const intra = positiveInt(options.intraOpNumThreads ?? 1, 'intraOpNumThreads');
    const inter = positiveInt(options.interOpNumThreads ?? 1, 'interOpNumThreads');
    const maxItems = positiveInt(options.maxItems ?? DEFAULT_MAX_ITEMS, 'maxItems');
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: intra,
        interOpNumThreads: inter,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new RankerModelError([
        { path: 'model', message: `not a loadable ONNX model (${bytes.length} bytes): ${errorText(e)}` },
      ]);
    }
    const errors: FieldError[] = [];
    const plan = planFor(session, sig, errors);
    if (!plan || errors.length > 0) {
      await session.release().catch(() => undefined);
      throw new RankerModelError(errors);
    }
    const scorer = new OnnxScorer(session, sig, plan, maxItems, options.ref);
    if (sig.embeddingOutput && plan.embeddingDim === null) {
      // Symbolic embedding width: learn it from one probe inference.
      try {
        const r = await scorer.score(new Float32Array(plan.contextDim), new Float32Array(plan.itemDim), 1);
        plan.embeddingDim = r.embeddingDim ?? null;
        scorer.metadata.embeddingDim = plan.embeddingDim;
      } catch (e) {
        await scorer.dispose();
        throw new RankerModelError([{ path: 'model', message: `test inference failed: ${errorText(e)}` }]);
      }
    }
    return scorer;
  }

  async score(
    context: Float32Array | number[],
    items: Float32Array,
    n: number,
    history?: Float32Array,
  ): Promise<ScoreResult> {
    if (this.disposed) throw new Error(`scorer ${this.metadata.ref} is disposed`);
    checkCount(n, this.maxItems);
    const { contextDim: c, itemDim: d } = this.plan;
    if (context.length !== c)
      throw new RankerInputError('context', `has ${context.length} values, model ${this.metadata.ref} expects ${c}`);
    if (!(items instanceof Float32Array))
      throw new RankerInputError('items', 'must be a Float32Array (row-major n × itemDim)');
    if (items.length !== n * d) {
      throw new RankerInputError('items', `has ${items.length} values, expected n × itemDim = ${n} × ${d} = ${n * d}`);
    }
    const k = this.plan.historyLength;
    if (history !== undefined && (k === null || !(history instanceof Float32Array) || history.length !== k * d)) {
      throw new RankerInputError(
        'history',
        k === null
          ? `model ${this.metadata.ref} has no history input`
          : `must be a Float32Array of historyLength × itemDim = ${k} × ${d} = ${k * d} values`,
      );
    }
    const sig = this.signature;
    if (n === 0) {
      const empty: ScoreResult = { scores: new Float32Array(0) };
      if (sig.embeddingOutput) {
        empty.embeddings = new Float32Array(0);
        empty.embeddingDim = this.plan.embeddingDim ?? 0;
      }
      return empty;
    }
    const ctx = context instanceof Float32Array ? context : Float32Array.from(context);
    const feeds: Record<string, ort.Tensor> = {};
    if (sig.kind === 'split') {
      feeds[sig.contextInput] = new ort.Tensor('float32', ctx, this.plan.contextRank2 ? [1, c] : [c]);
      feeds[sig.itemsInput] = new ort.Tensor('float32', items, [n, d]);
      if (sig.historyInput && k !== null) {
        // No history given: the unit has interacted with nothing yet (all padding).
        feeds[sig.historyInput] = new ort.Tensor(
          'float32',
          history ?? new Float32Array(k * d),
          this.plan.historyRank3 ? [1, k, d] : [k, d],
        );
      }
    } else {
      const w = c + d;
      const x = new Float32Array(n * w);
      for (let i = 0; i < n; i++) {
        x.set(ctx, i * w);
        x.set(items.subarray(i * d, (i + 1) * d), i * w + c);
      }
      feeds[sig.input] = new ort.Tensor('float32', x, [n, w]);
    }
    const fetches = sig.embeddingOutput ? [sig.scoreOutput, sig.embeddingOutput] : [sig.scoreOutput];
    this.inFlight++;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds, fetches);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    }
    const score = out[sig.scoreOutput] as ort.Tensor;
    const dims = score.dims;
    if (
      score.type !== 'float32' ||
      score.data.length !== n ||
      !(dims.length === 1 || (dims.length === 2 && dims[1] === 1))
    ) {
      throw new Error(
        `model ${this.metadata.ref}: output "${sig.scoreOutput}" is ${score.type} [${dims.join(', ')}] for ${n} candidates, expected float32 [${n}] or [${n}, 1]`,
      );
    }
    const result: ScoreResult = { scores: score.data as Float32Array };
    if (sig.embeddingOutput) {
      const emb = out[sig.embeddingOutput] as ort.Tensor;
      const k = emb.dims.length === 2 ? emb.dims[1] : -1;
      if (
        emb.type !== 'float32' ||
        emb.dims.length !== 2 ||
        emb.dims[0] !== n ||
        (this.plan.embeddingDim !== null && k !== this.plan.embeddingDim)
      ) {
        throw new Error(
          `model ${this.metadata.ref}: output "${sig.embeddingOutput}" is ${emb.type} [${emb.dims.join(', ')}] for ${n} candidates, expected float32 [${n}, ${this.plan.embeddingDim ?? 'K'}]`,
        );
      }
      result.embeddings = emb.data as Float32Array;
      result.embeddingDim = k;
    }
    return result;
  }

  /**
   * Upload-time check: runs the model on seeded test inputs (all zeros with 1 candidate, all ones with 2, seeded
   * random 0/1 with 7) and checks output shapes and finiteness. Returns field-path errors; empty means usable.
   */
  async validate(): Promise<FieldError[]> {
    const { contextDim: c, itemDim: d } = this.plan;
    const rand = mulberry32(0x5107);
    const cases: { label: string; n: number; fill: () => number }[] = [
      { label: 'all-zeros input, 1 candidate', n: 1, fill: () => 0 },
      { label: 'all-ones input, 2 candidates', n: 2, fill: () => 1 },
      { label: 'seeded random 0/1 input, 7 candidates', n: 7, fill: () => (rand() < 0.5 ? 0 : 1) },
    ];
    const sig = this.signature;
    for (const t of cases) {
      const ctx = Float32Array.from({ length: c }, t.fill);
      const items = Float32Array.from({ length: t.n * d }, t.fill);
      const history =
        this.plan.historyLength === null
          ? undefined
          : Float32Array.from({ length: this.plan.historyLength * d }, t.fill);
      let r: ScoreResult;
      try {
        r = await this.score(ctx, items, t.n, history);
      } catch (e) {
        return [{ path: 'model', message: `test inference failed (${t.label}): ${errorText(e)}` }];
      }
      const bad = firstNonFinite(r.scores);
      if (bad >= 0) {
        return [
          {
            path: 'signature.scoreOutput',
            message: `output "${sig.scoreOutput}" is not finite (${r.scores[bad]} at candidate ${bad}) on the ${t.label}`,
          },
        ];
      }
      if (r.embeddings && sig.embeddingOutput) {
        const badE = firstNonFinite(r.embeddings);
        if (badE >= 0) {
          return [
            {
              path: 'signature.embeddingOutput',
              message: `output "${sig.embeddingOutput}" is not finite (${r.embeddings[badE]} at candidate ${Math.floor(badE / (r.embeddingDim ?? 1))}) on the ${t.label}`,
            },
          ];
        }
      }
    }
    return [];
  }

  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = (async () => {
        if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
        await this.session.release();
      })();
    }
    return this.disposed;
  }
}

/**
 * Upload-time convenience: structural signature check, load, declared-shape check and test inference, then release.
 * Never throws for a bad model or signature; returns the scorer metadata or field-path errors.
 */
export async function validateModel(
  bytes: Uint8Array,
  signature: unknown,
  options: OnnxScorerOptions = {},
): Promise<{ ok: true; metadata: ScorerMetadata; signature: ModelSignature } | { ok: false; errors: FieldError[] }> {
  const parsed = parseModelSignature(signature);
  if (!parsed.ok) return { ok: false, errors: parsed.errors };
  let scorer: OnnxScorer;
  try {
    scorer = await OnnxScorer.create(bytes, parsed.value, options);
  } catch (e) {
    if (e instanceof RankerModelError) return { ok: false, errors: e.errors };
    return { ok: false, errors: [{ path: 'model', message: errorText(e) }] };
  }
  try {
    const errors = await scorer.validate();
    return errors.length > 0
      ? { ok: false, errors }
      : { ok: true, metadata: { ...scorer.metadata }, signature: parsed.value };
  } finally {
    await scorer.dispose();
  }
}

// ---- signature vs. model ----

function planFor(session: ort.InferenceSession, sig: ModelSignature, errors: FieldError[]): Plan | null {
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const outputs = new Map(session.outputMetadata.map((m) => [m.name, m]));
  const has = (names: readonly string[]) => (names.length ? names.join(', ') : 'none');

  const tensor = (field: string, name: string, io: 'input' | 'output'): Shape | null => {
    const m = (io === 'input' ? inputs : outputs).get(name);
    if (!m) {
      errors.push({
        path: `signature.${field}`,
        message: `${io} "${name}" not in model (has: ${has(io === 'input' ? session.inputNames : session.outputNames)})`,
      });
      return null;
    }
    if (!m.isTensor || m.type !== 'float32') {
      errors.push({
        path: `signature.${field}`,
        message: `${io} "${name}" is ${m.isTensor ? m.type : 'not a tensor'}, expected float32`,
      });
      return null;
    }
    return m.shape;
  };
  const used =
    sig.kind === 'split'
      ? [sig.contextInput, sig.itemsInput, ...(sig.historyInput ? [sig.historyInput] : [])]
      : [sig.input];
  for (const name of session.inputNames) {
    if (!used.includes(name)) {
      errors.push({
        path: 'signature',
        message: `model input "${name}" is not mapped by the signature (every input must be fed; mapped: ${used.join(', ')})`,
      });
    }
  }
  const fixedDim = (v: number | string | undefined): number | null => (typeof v === 'number' && v > 0 ? v : null);
  const batchAxisOk = (field: string, name: string, shape: Shape, io: string): void => {
    if (shape.length > 0 && typeof shape[0] === 'number' && shape[0] > 0) {
      errors.push({
        path: `signature.${field}`,
        message: `${io} "${name}" has a fixed batch axis of ${shape[0]}; export it with a dynamic first axis (torch.onnx.export dynamic_axes={"${name}": {0: "N"}})`,
      });
    }
  };
  const featureDim = (
    field: string,
    name: string,
    shape: Shape,
    declared: number | undefined,
    dimField: string,
  ): number | null => {
    const actual = fixedDim(shape[shape.length - 1]);
    if (actual !== null && declared !== undefined && declared !== actual) {
      errors.push({
        path: `signature.${dimField}`,
        message: `is ${declared} but the model's "${name}" input has ${actual} features`,
      });
      return null;
    }
    const dim = actual ?? declared ?? null;
    if (dim === null) {
      errors.push({
        path: `signature.${dimField}`,
        message: `the model's "${name}" input has no fixed feature axis (shape [${shape.join(', ')}]); give ${dimField}`,
      });
    }
    return dim;
  };

  let contextDim: number | null = null;
  let itemDim: number | null = null;
  let contextRank2 = true;
  if (sig.kind === 'split') {
    const cs = tensor('contextInput', sig.contextInput, 'input');
    const is = tensor('itemsInput', sig.itemsInput, 'input');
    if (cs) {
      if (cs.length === 1) {
        contextRank2 = false;
      } else if (cs.length === 2) {
        const first = fixedDim(cs[0]);
        if (first !== null && first !== 1) {
          errors.push({
            path: 'signature.contextInput',
            message: `input "${sig.contextInput}" has shape [${cs.join(', ')}], expected [1, C] or [C]`,
          });
        }
      } else if (cs.length !== 0) {
        errors.push({
          path: 'signature.contextInput',
          message: `input "${sig.contextInput}" has rank ${cs.length} ([${cs.join(', ')}]), expected [1, C] or [C]`,
        });
      }
      contextDim =
        cs.length === 0
          ? (sig.contextDim ?? null)
          : featureDim('contextInput', sig.contextInput, cs, sig.contextDim, 'contextDim');
      if (cs.length === 0 && contextDim === null) {
        errors.push({
          path: 'signature.contextDim',
          message: `the model does not declare the shape of "${sig.contextInput}"; give contextDim`,
        });
      }
    }
    if (is) {
      if (is.length === 2) {
        batchAxisOk('itemsInput', sig.itemsInput, is, 'input');
        itemDim = featureDim('itemsInput', sig.itemsInput, is, sig.itemDim, 'itemDim');
      } else if (is.length === 0 && sig.itemDim !== undefined) {
        itemDim = sig.itemDim;
      } else {
        errors.push({
          path: 'signature.itemsInput',
          message: `input "${sig.itemsInput}" has shape [${is.join(', ')}], expected [N, D]`,
        });
      }
    }
  } else {
    const xs = tensor('input', sig.input, 'input');
    if (xs) {
      let total: number | null = null;
      if (xs.length === 2) {
        batchAxisOk('input', sig.input, xs, 'input');
        total = fixedDim(xs[1]);
        if (total === null && sig.itemDim !== undefined) total = sig.contextDim + sig.itemDim;
        if (total === null)
          errors.push({
            path: 'signature.itemDim',
            message: `input "${sig.input}" has no fixed feature axis ([${xs.join(', ')}]); give itemDim`,
          });
      } else {
        errors.push({
          path: 'signature.input',
          message: `input "${sig.input}" has shape [${xs.join(', ')}], expected [N, contextDim + itemDim]`,
        });
      }
      if (total !== null) {
        if (sig.contextDim >= total) {
          errors.push({
            path: 'signature.contextDim',
            message: `is ${sig.contextDim} but input "${sig.input}" has only ${total} features in all; it must leave at least one for the item`,
          });
        } else if (sig.itemDim !== undefined && sig.contextDim + sig.itemDim !== total) {
          errors.push({
            path: 'signature.itemDim',
            message: `contextDim + itemDim = ${sig.contextDim + sig.itemDim} but input "${sig.input}" has ${total} features`,
          });
        } else {
          contextDim = sig.contextDim;
          itemDim = total - sig.contextDim;
        }
      }
    }
  }

  const ss = tensor('scoreOutput', sig.scoreOutput, 'output');
  if (ss && ss.length !== 0 && !(ss.length === 1 || (ss.length === 2 && (ss[1] === 1 || typeof ss[1] === 'string')))) {
    errors.push({
      path: 'signature.scoreOutput',
      message: `output "${sig.scoreOutput}" has shape [${ss.join(', ')}], expected [N] or [N, 1]`,
    });
  }
  let embeddingDim: number | null = null;
  if (sig.embeddingOutput) {
    const es = tensor('embeddingOutput', sig.embeddingOutput, 'output');
    if (es && es.length !== 0) {
      if (es.length !== 2) {
        errors.push({
          path: 'signature.embeddingOutput',
          message: `output "${sig.embeddingOutput}" has shape [${es.join(', ')}], expected [N, K]`,
        });
      } else {
        embeddingDim = fixedDim(es[1]);
      }
    }
  }
  let historyLength: number | null = null;
  let historyRank3 = true;
  if (sig.kind === 'split' && sig.historyInput) {
    const hs = tensor('historyInput', sig.historyInput, 'input');
    if (hs) {
      // [1, K, D] or [K, D]; K fixed in the model or given as historyLength, D equal to the items' D.
      const lead = hs.length === 3 ? fixedDim(hs[0]) : 1;
      if (hs.length !== 2 && hs.length !== 3) {
        errors.push({
          path: 'signature.historyInput',
          message: `input "${sig.historyInput}" has shape [${hs.join(', ')}], expected [1, K, D] or [K, D]`,
        });
      } else if (lead !== null && lead !== 1) {
        errors.push({
          path: 'signature.historyInput',
          message: `input "${sig.historyInput}" has shape [${hs.join(', ')}], expected [1, K, D]`,
        });
      } else {
        historyRank3 = hs.length === 3;
        const kAxis = fixedDim(hs[hs.length - 2]);
        const dAxis = fixedDim(hs[hs.length - 1]);
        if (kAxis !== null && sig.historyLength !== undefined && kAxis !== sig.historyLength) {
          errors.push({
            path: 'signature.historyLength',
            message: `is ${sig.historyLength} but the model's "${sig.historyInput}" input holds ${kAxis} items`,
          });
        } else if (kAxis === null && sig.historyLength === undefined) {
          errors.push({
            path: 'signature.historyLength',
            message: `the model's "${sig.historyInput}" input has no fixed length axis (shape [${hs.join(', ')}]); give historyLength`,
          });
        } else if (kAxis !== null && kAxis > MAX_HISTORY_LENGTH) {
          errors.push({
            path: 'signature.historyInput',
            message: `input "${sig.historyInput}" holds ${kAxis} items; at most ${MAX_HISTORY_LENGTH} are kept per unit`,
          });
        } else {
          historyLength = kAxis ?? sig.historyLength!;
        }
        if (dAxis !== null && itemDim !== null && dAxis !== itemDim) {
          errors.push({
            path: 'signature.historyInput',
            message: `input "${sig.historyInput}" has ${dAxis} features per item but "${sig.itemsInput}" has ${itemDim}; history rows are item feature vectors`,
          });
        }
      }
    }
  }
  if (errors.length > 0 || contextDim === null || itemDim === null) return null;
  return { kind: sig.kind, contextDim, itemDim, embeddingDim, contextRank2, historyLength, historyRank3 };
}

// ---- helpers ----

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function errorText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** Small seeded PRNG (mulberry32), uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
