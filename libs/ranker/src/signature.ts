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
}

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
      errors.push({ path: `${base}.${key}`, message: 'must be a non-empty string (an input or output name of the model)' });
      return undefined;
    }
    return v;
  };
  const dim = (key: string, required: boolean): number | undefined => {
    const v = o[key];
    if (v === undefined) {
      if (required) errors.push({ path: `${base}.${key}`, message: 'is required' });
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DIM) {
      errors.push({ path: `${base}.${key}`, message: `must be an integer from 1 to ${MAX_DIM}` });
      return undefined;
    }
    return v;
  };
  const allowed: Record<string, string[]> = {
    split: ['kind', 'contextInput', 'itemsInput', 'scoreOutput', 'embeddingOutput', 'contextDim', 'itemDim'],
    concat: ['kind', 'input', 'scoreOutput', 'embeddingOutput', 'contextDim', 'itemDim'],
  };
  const kind = o.kind;
  if (kind !== 'split' && kind !== 'concat') {
    return { ok: false, errors: [{ path: `${base}.kind`, message: 'must be "split" or "concat"' }] };
  }
  for (const key of Object.keys(o)) {
    if (!allowed[kind].includes(key)) errors.push({ path: `${base}.${key}`, message: `unknown field for a "${kind}" signature` });
  }
  const scoreOutput = name('scoreOutput', true);
  const embeddingOutput = name('embeddingOutput', false);
  const itemDim = dim('itemDim', false);
  let value: ModelSignature | undefined;
  if (kind === 'split') {
    const contextInput = name('contextInput', true);
    const itemsInput = name('itemsInput', true);
    const contextDim = dim('contextDim', false);
    if (contextInput !== undefined && contextInput === itemsInput) {
      errors.push({ path: `${base}.itemsInput`, message: 'must differ from contextInput' });
    }
    if (contextInput && itemsInput && scoreOutput) {
      value = { kind, contextInput, itemsInput, scoreOutput, embeddingOutput, contextDim, itemDim };
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
