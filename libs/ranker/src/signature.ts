import type { FieldError } from './errors';

/**
 * How a model's inputs and outputs map onto (context, candidates) → (score, embedding).
 *
 * - `split`: `contextInput` float32 `[1, C]` (or `[C]`), `itemsInput` float32 `[N, D]`; the model broadcasts the
 *   context over the N items itself.
 * - `concat`: one input float32 `[N, C + D]`, each row the context followed by that item's features. The model
 *   cannot tell where the context ends, so `contextDim` (C) is required.
 *
 * Outputs: `scoreOutput` float32 `[N]` or `[N, 1]`, higher is better; optional `embeddingOutput` float32 `[N, K]`
 * (the last hidden layer, used by the neural-linear bandit).
 *
 * `contextDim` / `itemDim` are optional for `split` (read from the model) but, when given, must match it.
 *
 * Sequences (`split` only): `historyInput` names a float32 input `[1, K, D]` (or `[K, D]`) that receives the unit's
 * last K interacted items' feature vectors (the same D item features as `itemsInput`), newest first, zero-padded
 * when the unit has fewer than K. K is read from the model, or given as `historyLength` when the model leaves it
 * symbolic. The feature store keeps the history (docs/feature-store.md).
 */
export type ModelSignature = SplitSignature | ConcatSignature;

export interface SplitSignature {
  kind: 'split';
  contextInput: string;
  itemsInput: string;
  scoreOutput: string;
  embeddingOutput?: string;
  contextDim?: number;
  itemDim?: number;
  /** Optional sequence input: the unit's last K interacted items, float32 `[1, K, D]` or `[K, D]`, newest first. */
  historyInput?: string;
  /** K, when the model's history input leaves it symbolic (at most {@link MAX_HISTORY_LENGTH}). */
  historyLength?: number;
}

/** Most history items a signature may declare (the feature store keeps at most this many per unit). */
export const MAX_HISTORY_LENGTH = 50;

export interface ConcatSignature {
  kind: 'concat';
  input: string;
  scoreOutput: string;
  embeddingOutput?: string;
  contextDim: number;
  itemDim?: number;
}

type ParsedSignature = { ok: true; value: ModelSignature } | { ok: false; errors: FieldError[] };

const MAX_DIM = 65536;

/**
 * Structural check of a signature received as JSON (upload time), before the model is even loaded.
 * Errors carry paths under `base` (default `signature`), e.g. `signature.itemsInput`.
 */
export function parseModelSignature(raw: unknown, base = 'signature'): ParsedSignature {
  const errors: FieldError[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: base, message: 'must be an object' }] };
  }
  const o = raw as Record<string, unknown>;
  const name = (key: string, required: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined) {
      if (required) errors.push({ path: `${base}.${key}`, message: 'is required' });
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) {
      errors.push({
        path: `${base}.${key}`,
        message: 'must be a non-empty string (an input or output name of the model)',
      });
      return undefined;
    }
    return v;
  };
  const dim = (key: string, required: boolean, max = MAX_DIM): number | undefined => {
    const v = o[key];
    if (v === undefined) {
      if (required) errors.push({ path: `${base}.${key}`, message: 'is required' });
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      errors.push({ path: `${base}.${key}`, message: `must be an integer from 1 to ${max}` });
      return undefined;
    }
    return v;
  };
  const allowed: Record<string, string[]> = {
    split: [
      'kind',
      'contextInput',
      'itemsInput',
      'scoreOutput',
      'embeddingOutput',
      'contextDim',
      'itemDim',
      'historyInput',
      'historyLength',
    ],
    concat: ['kind', 'input', 'scoreOutput', 'embeddingOutput', 'contextDim', 'itemDim'],
  };
  const kind = o.kind;
  if (kind !== 'split' && kind !== 'concat') {
    return { ok: false, errors: [{ path: `${base}.kind`, message: 'must be "split" or "concat"' }] };
  }
  for (const key of Object.keys(o)) {
    if (!allowed[kind].includes(key))
      errors.push({ path: `${base}.${key}`, message: `unknown field for a "${kind}" signature` });
  }
  const scoreOutput = name('scoreOutput', true);
  const embeddingOutput = name('embeddingOutput', false);
  const itemDim = dim('itemDim', false);
  let value: ModelSignature | undefined;
  if (kind === 'split') {
    const contextInput = name('contextInput', true);
    const itemsInput = name('itemsInput', true);
    const contextDim = dim('contextDim', false);
    const historyInput = name('historyInput', false);
    const historyLength = dim('historyLength', false, MAX_HISTORY_LENGTH);
    if (contextInput !== undefined && contextInput === itemsInput) {
      errors.push({ path: `${base}.itemsInput`, message: 'must differ from contextInput' });
    }
    if (historyInput !== undefined && (historyInput === contextInput || historyInput === itemsInput)) {
      errors.push({ path: `${base}.historyInput`, message: 'must differ from contextInput and itemsInput' });
    }
    if (historyLength !== undefined && historyInput === undefined && o.historyInput === undefined) {
      errors.push({ path: `${base}.historyLength`, message: 'needs historyInput' });
    }
    if (contextInput && itemsInput && scoreOutput) {
      value = {
        kind,
        contextInput,
        itemsInput,
        scoreOutput,
        embeddingOutput,
        contextDim,
        itemDim,
        historyInput,
        historyLength,
      };
    }
  } else {
    const input = name('input', true);
    const contextDim = dim('contextDim', true);
    if (input && scoreOutput && contextDim !== undefined) {
      value = { kind, input, scoreOutput, embeddingOutput, contextDim, itemDim };
    }
  }
  if (scoreOutput !== undefined && scoreOutput === embeddingOutput) {
    errors.push({ path: `${base}.embeddingOutput`, message: 'must differ from scoreOutput' });
  }
  if (errors.length > 0 || !value) return { ok: false, errors };
  // Drop absent optional fields so the stored JSON stays minimal.
  for (const k of Object.keys(value) as (keyof ModelSignature)[]) if (value[k] === undefined) delete value[k];
  return { ok: true, value };
}
